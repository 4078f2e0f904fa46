use super::*;
use crate::history::record::tests::sample;
use crate::history::{ObjectRecord, RecordedAction};
use serde_json::json;

#[test]
fn hash_ignores_key_order_and_metadata() {
    let a = json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "m", "annotations": {"ferry.dev/commit": "aaa"}},
        "spec": {"backoffLimit": 1, "template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "c", "image": "busybox"}]}}}
    });
    let b: Value = serde_json::from_str(
        r#"{"spec": {"template": {"spec": {"containers": [{"image": "busybox", "name": "c"}],
            "restartPolicy": "Never"}}, "backoffLimit": 1},
            "metadata": {"name": "m", "annotations": {"ferry.dev/commit": "bbb"}},
            "kind": "Job", "apiVersion": "batch/v1"}"#,
    )
    .unwrap();
    assert_eq!(job_spec_hash(&a), job_spec_hash(&b));
    assert_eq!(job_spec_hash(&a).len(), 16);
    assert!(job_spec_hash(&a).chars().all(|c| c.is_ascii_hexdigit()));
    let mut c = a.clone();
    c["spec"]["template"]["spec"]["containers"][0]["image"] = json!("busybox:2");
    assert_ne!(job_spec_hash(&a), job_spec_hash(&c));
}

#[test]
fn hash_is_stable() {
    // Pinned: the stored hashes must not change between ferry versions.
    let job = json!({"spec": {"b": [1, "x", null, true], "a": {"d": 1.5, "c": "é"}}});
    let canonical = r#"{"a":{"c":"é","d":1.5},"b":[1,"x",null,true]}"#;
    let expected = hex::encode(Sha256::digest(canonical.as_bytes()));
    assert_eq!(job_spec_hash(&job), expected[..16]);
}

#[test]
fn completed_jobs_need_the_same_hash_and_completion() {
    let mut record = sample();
    let mut done = ObjectRecord::new(
        "Job",
        Some("ns".into()),
        "seed",
        RecordedAction::Create,
        RecordedResult::Applied,
    );
    done.spec_hash = Some("h1".into());
    done.gate_passed("complete in 2s");
    record.objects.push(done);
    let jobs = CompletedJobs::from_records(&[record.clone()]);
    assert!(jobs.contains("ns", "seed", "h1"));
    assert!(!jobs.contains("ns", "seed", "h2"));
    // The sample's failed Job does not count.
    assert!(!jobs.contains("logging", "migrate", "00112233aabbccdd"));
    assert_eq!(jobs.len(), 1);

    let mut later = record.clone();
    let mut same = ObjectRecord::new(
        "Job",
        Some("ns".into()),
        "seed",
        RecordedAction::Unchanged,
        RecordedResult::Unchanged,
    );
    same.spec_hash = Some("h1".into());
    later.objects = vec![same];
    jobs.carry_forward(&mut later);
    assert_eq!(later.objects[0].result, RecordedResult::Completed);
    assert_eq!(
        later.objects[0].gate,
        Some(GateVerdict::Passed("completed earlier".into()))
    );
}
