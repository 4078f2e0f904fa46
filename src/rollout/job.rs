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
#[path = "job_tests.rs"]
mod tests;
