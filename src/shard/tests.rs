use super::*;

#[test]
fn shard_counts_parse() {
    assert_eq!(
        "auto".parse::<ShardCount>().map(ShardCount::get),
        Ok(AUTO_SHARDS)
    );
    assert_eq!("3".parse::<ShardCount>().map(ShardCount::get), Ok(3));
    for bad in ["0", "-1", "257", "many", ""] {
        let err = bad.parse::<ShardCount>().expect_err(bad);
        assert!(err.to_string().contains("--shards takes"), "{err}");
    }
}

#[test]
fn the_shard_of_an_app_is_stable() {
    let sixteen = ShardCount::new(16).expect("valid");
    // Pinned: a change here would move every app of every install to another shard.
    assert_eq!(shard_of("logs", sixteen), 12);
    assert_eq!(shard_of("databases", sixteen), 4);
    let spread: std::collections::BTreeSet<u32> = (0..200)
        .map(|i| shard_of(&format!("app-{i}"), sixteen))
        .collect();
    assert_eq!(spread.len(), 16, "200 apps reach every one of 16 shards");
    assert!(spread.iter().all(|s| *s < 16));
}

#[test]
fn replica_lease_names_are_valid_lease_names() {
    assert_eq!(replica_lease_name("ferry-0"), "ferry-replica-ferry-0");
    assert_eq!(replica_lease_name("Host_A:42"), "ferry-replica-host-a-42");
    let long = "x".repeat(400);
    assert!(replica_lease_name(&long).len() <= 253);
}
