use super::*;

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("ferry-{i}")).collect()
}

fn count(n: u32) -> ShardCount {
    ShardCount::new(n).expect("valid count")
}

#[test]
fn every_shard_has_one_owner_and_loads_are_bounded() {
    for (shards, replicas) in [(16, 1), (16, 3), (16, 5), (32, 3), (7, 7), (3, 5)] {
        let owners = assign(count(shards), &names(replicas));
        assert!(owners.iter().all(Option::is_some), "{shards}/{replicas}");
        let bound = (shards as usize).div_ceil(replicas);
        for member in names(replicas) {
            let held = shards_of(&owners, &member).len();
            assert!(held <= bound, "{member} holds {held} > {bound}");
        }
    }
}

#[test]
fn the_answer_does_not_depend_on_member_order_or_duplicates() {
    let mut members = names(4);
    let first = assign(count(16), &members);
    members.reverse();
    members.push("ferry-2".into());
    assert_eq!(assign(count(16), &members), first);
}

#[test]
fn no_member_no_owner() {
    assert!(assign(count(4), &[]).iter().all(Option::is_none));
}

fn moved(before: &[Option<String>], after: &[Option<String>]) -> usize {
    before.iter().zip(after).filter(|(a, b)| a != b).count()
}

#[test]
fn a_fourth_replica_takes_about_a_quarter_and_only_for_itself() {
    for shards in [16, 32, 64] {
        let three = assign(count(shards), &names(3));
        let four = assign(count(shards), &names(4));
        let moved = moved(&three, &four);
        let quarter = shards as usize / 4;
        // The new replica takes its share; the load bound may shift a few more.
        assert!(moved >= quarter, "{shards}: moved {moved}");
        assert!(
            moved <= quarter + shards as usize / 8 + 1,
            "{shards}: moved {moved}"
        );
        for (a, b) in three.iter().zip(&four) {
            if a != b {
                // Most moves go to the newcomer.
                assert!(b.is_some());
            }
        }
        let to_new = shards_of(&four, "ferry-3").len();
        assert!(to_new >= quarter, "{shards}: the newcomer got {to_new}");
    }
}

#[test]
fn a_dead_replica_loses_its_shards_and_few_others_move() {
    for shards in [16, 32, 64] {
        let three = assign(count(shards), &names(3));
        let survivors: Vec<String> = names(3).into_iter().take(2).collect();
        let two = assign(count(shards), &survivors);
        let orphaned = shards_of(&three, "ferry-2").len();
        let moved = moved(&three, &two);
        assert!(moved >= orphaned);
        assert!(
            moved <= orphaned + shards as usize / 8 + 1,
            "{shards}: moved {moved} of which {orphaned} orphaned"
        );
        assert!(shards_of(&two, "ferry-2").is_empty());
    }
}
