//! Job gate: completion from the Job's conditions, and which pod to blame when it failed.

use serde_json::Value;

use super::util::{at, condition, int, name, node_of, opt_int, str_at, timestamp};
use super::Progress;

/// Rollout state of a Job from its status:
/// - `Complete=True` → healthy;
/// - `Failed=True`, or `FailureTarget=True` (which the controller sets first, while it
///   terminates the remaining pods) → failed with the condition's reason
///   (`BackoffLimitExceeded`, `DeadlineExceeded`, `PodFailurePolicy`…) and message;
/// - `spec.suspend: true` → skipped (nothing runs until someone resumes it, so waiting would
///   only run into the timeout);
/// - otherwise progressing: "succeeded/completions (active N, failed M)".
pub fn evaluate(job: &Value) -> Progress {
    let succeeded = int(job, "status.succeeded");
    let completions = opt_int(job, "spec.completions");
    let done = match completions {
        Some(c) => format!("{succeeded}/{c} succeeded"),
        None => format!("{succeeded} succeeded"),
    };
    if is_true(job, "Complete") {
        return Progress::Healthy {
            message: format!("complete: {done}"),
        };
    }
    for type_ in ["Failed", "FailureTarget"] {
        if let Some(c) = condition(job, type_).filter(|_| is_true(job, type_)) {
            return Progress::Failed {
                reason: str_at(c, "reason").unwrap_or(type_).to_string(),
                message: str_at(c, "message").unwrap_or("the Job failed").to_string(),
            };
        }
    }
    if at(job, "spec.suspend").and_then(Value::as_bool) == Some(true) {
        return Progress::Skipped {
            reason: "Job is suspended (spec.suspend: true): nothing runs until it is resumed"
                .into(),
        };
    }
    let active = int(job, "status.active");
    let failed = int(job, "status.failed");
    Progress::Progressing {
        message: format!("{done} (active {active}, failed {failed})"),
    }
}

fn is_true(job: &Value, type_: &str) -> bool {
    condition(job, type_).and_then(|c| str_at(c, "status")) == Some("True")
}

/// The most recently failed pod of a Job: `(pod, node, detail)`, where detail names the
/// container's exit code and reason ("container main exited with code 1 (Error)").
pub fn last_failed_pod(pods: &[Value]) -> Option<(String, Option<String>, String)> {
    let pod = pods
        .iter()
        .filter(|p| str_at(p, "status.phase") == Some("Failed"))
        .max_by_key(|p| at(p, "metadata.creationTimestamp").and_then(timestamp))?;
    let terminated = at(pod, "status.containerStatuses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find_map(|c| {
            let t = at(c, "state.terminated")?;
            let code = opt_int(t, "exitCode")?;
            (code != 0).then(|| {
                let container = str_at(c, "name").unwrap_or("?");
                let reason = str_at(t, "reason").unwrap_or("Error");
                format!("container {container} exited with code {code} ({reason})")
            })
        });
    let detail = terminated
        .or_else(|| str_at(pod, "status.message").map(str::to_string))
        .or_else(|| str_at(pod, "status.reason").map(str::to_string))
        .unwrap_or_else(|| "pod failed".to_string());
    Some((
        name(pod).to_string(),
        node_of(pod).map(str::to_string),
        detail,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `kubectl get job fails -o json` (trimmed), as the local control plane reports it.
    fn job(spec: Value, status: Value) -> Value {
        json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"generation": 1, "name": "fails", "namespace": "jobs",
                         "uid": "6106fa06-5a07-45d7-826d-575df4ec0e7b"},
            "spec": spec,
            "status": status
        })
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
        let pods = vec![
            failed("fails-ffzmb", "2026-11-23T09:44:51Z"),
            failed("fails-kdh8p", "2026-11-23T09:45:02Z"),
        ];
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
}
