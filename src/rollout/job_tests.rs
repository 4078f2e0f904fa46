use super::*;
use serde_json::{json, Value};

/// `kubectl get job fails -o json` (trimmed), as the local control plane reports it.
fn job(spec: Value, status: Value) -> Job {
    serde_json::from_value(json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"generation": 1, "name": "fails", "namespace": "jobs",
                     "uid": "6106fa06-5a07-45d7-826d-575df4ec0e7b"},
        "spec": spec,
        "status": status
    }))
    .unwrap()
}

fn spec() -> Value {
    json!({"backoffLimit": 1, "completionMode": "NonIndexed", "completions": 1,
           "manualSelector": false, "parallelism": 1,
           "podReplacementPolicy": "TerminatingOrFailed", "suspend": false})
}

#[test]
fn backoff_limit_exceeded_fails_with_reason_and_message() {
    let j = job(
        spec(),
        json!({"conditions": [
            {"lastProbeTime": "2026-11-23T09:45:03Z", "lastTransitionTime": "2026-11-23T09:45:03Z",
             "message": "Job has reached the specified backoff limit",
             "reason": "BackoffLimitExceeded", "status": "True", "type": "FailureTarget"},
            {"lastProbeTime": "2026-11-23T09:45:03Z", "lastTransitionTime": "2026-11-23T09:45:03Z",
             "message": "Job has reached the specified backoff limit",
             "reason": "BackoffLimitExceeded", "status": "True", "type": "Failed"}],
          "failed": 2, "ready": 0, "startTime": "2026-11-23T09:44:51Z", "terminating": 0,
          "uncountedTerminatedPods": {}}),
    );
    assert_eq!(
        evaluate(&j),
        Progress::Failed {
            reason: "BackoffLimitExceeded".into(),
            message: "Job has reached the specified backoff limit".into()
        }
    );
}

#[test]
fn failure_target_alone_already_fails() {
    let j = job(
        spec(),
        json!({"active": 1, "conditions": [
            {"message": "Job was active longer than specified deadline",
             "reason": "DeadlineExceeded", "status": "True", "type": "FailureTarget"}]}),
    );
    assert!(
        matches!(evaluate(&j), Progress::Failed { reason, .. } if reason == "DeadlineExceeded")
    );
}

#[test]
fn complete_is_healthy() {
    let j = job(
        spec(),
        json!({"completionTime": "2026-11-23T09:45:03Z", "conditions": [
            {"reason": "CompletionsReached", "message": "Reached expected number of succeeded pods",
             "status": "True", "type": "SuccessCriteriaMet"},
            {"reason": "CompletionsReached", "message": "Reached expected number of succeeded pods",
             "status": "True", "type": "Complete"}],
          "ready": 0, "succeeded": 1, "terminating": 0}),
    );
    assert_eq!(
        evaluate(&j),
        Progress::Healthy {
            message: "complete: 1/1 succeeded".into()
        }
    );
}

#[test]
fn running_job_reports_counts() {
    let j = job(
        json!({"completions": 5, "parallelism": 2}),
        json!({"active": 2, "failed": 1, "ready": 2, "succeeded": 3}),
    );
    assert_eq!(
        evaluate(&j),
        Progress::Progressing {
            message: "3/5 succeeded (active 2, failed 1)".into()
        }
    );
    let queue = job(json!({"parallelism": 2}), json!({"active": 2}));
    assert_eq!(
        evaluate(&queue),
        Progress::Progressing {
            message: "0 succeeded (active 2, failed 0)".into()
        }
    );
    // A condition that is not True does not count.
    let j = job(
        spec(),
        json!({"conditions": [{"type": "Failed", "status": "False"}]}),
    );
    assert!(matches!(evaluate(&j), Progress::Progressing { .. }));
}

#[test]
fn suspended_job_is_skipped() {
    let j = job(json!({"completions": 1, "suspend": true}), json!({}));
    assert!(matches!(evaluate(&j), Progress::Skipped { .. }));
}

#[test]
fn last_failed_pod_names_pod_node_and_exit_code() {
    let failed = |name: &str, created: &str| {
        json!({
            "metadata": {"name": name, "creationTimestamp": created},
            "spec": {"nodeName": "kwok-worker-2"},
            "status": {"phase": "Failed", "containerStatuses": [{"name": "main",
                "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}
        })
    };
    let pods: Vec<Pod> = serde_json::from_value(json!([
        failed("fails-ffzmb", "2026-11-23T09:44:51Z"),
        failed("fails-kdh8p", "2026-11-23T09:45:02Z"),
    ]))
    .unwrap();
    assert_eq!(
        last_failed_pod(&pods),
        Some((
            "fails-kdh8p".into(),
            Some("kwok-worker-2".into()),
            "container main exited with code 1 (Error)".into()
        ))
    );
    assert_eq!(last_failed_pod(&[]), None);
}
