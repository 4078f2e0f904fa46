//! Job gate: completion from the Job's conditions, and which pod to blame when it failed.

use k8s_openapi::api::batch::v1::{Job, JobCondition};
use k8s_openapi::api::core::v1::Pod;

use super::util::{count, name, node_of};
use super::Progress;

/// Rollout state of a Job from its status:
/// - `Complete=True` → healthy;
/// - `Failed=True`, or `FailureTarget=True` (which the controller sets first, while it
///   terminates the remaining pods) → failed with the condition's reason
///   (`BackoffLimitExceeded`, `DeadlineExceeded`, `PodFailurePolicy`…) and message;
/// - `spec.suspend: true` → skipped (nothing runs until someone resumes it, so waiting would
///   only run into the timeout);
/// - otherwise progressing: "succeeded/completions (active N, failed M)".
pub fn evaluate(job: &Job) -> Progress {
    let status = job.status.as_ref();
    let succeeded = count(status.and_then(|s| s.succeeded));
    let completions = job.spec.as_ref().and_then(|s| s.completions);
    let done = match completions {
        Some(c) => format!("{succeeded}/{c} succeeded"),
        None => format!("{succeeded} succeeded"),
    };
    if condition(job, "Complete").is_some_and(is_true) {
        return Progress::Healthy {
            message: format!("complete: {done}"),
        };
    }
    for type_ in ["Failed", "FailureTarget"] {
        if let Some(c) = condition(job, type_).filter(|c| is_true(c)) {
            return Progress::Failed {
                reason: c.reason.as_deref().unwrap_or(type_).to_string(),
                message: c.message.as_deref().unwrap_or("the Job failed").to_string(),
            };
        }
    }
    if job.spec.as_ref().and_then(|s| s.suspend) == Some(true) {
        return Progress::Skipped {
            reason: "Job is suspended (spec.suspend: true): nothing runs until it is resumed"
                .into(),
        };
    }
    let active = count(status.and_then(|s| s.active));
    let failed = count(status.and_then(|s| s.failed));
    Progress::Progressing {
        message: format!("{done} (active {active}, failed {failed})"),
    }
}

/// The Job's status condition of a type (`status.conditions[type=...]`).
fn condition<'a>(job: &'a Job, type_: &str) -> Option<&'a JobCondition> {
    job.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_)
}

fn is_true(c: &JobCondition) -> bool {
    c.status == "True"
}

/// The most recently failed pod of a Job: `(pod, node, detail)`, where detail names the
/// container's exit code and reason ("container main exited with code 1 (Error)").
pub fn last_failed_pod(pods: &[Pod]) -> Option<(String, Option<String>, String)> {
    let pod = pods
        .iter()
        .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Failed"))
        .max_by_key(|p| p.metadata.creation_timestamp.clone())?;
    let status = pod.status.as_ref();
    let terminated = status
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
        .find_map(|c| {
            let t = c.state.as_ref()?.terminated.as_ref()?;
            let code = t.exit_code;
            (code != 0).then(|| {
                let container = &c.name;
                let reason = t.reason.as_deref().unwrap_or("Error");
                format!("container {container} exited with code {code} ({reason})")
            })
        });
    let detail = terminated
        .or_else(|| status.and_then(|s| s.message.clone()))
        .or_else(|| status.and_then(|s| s.reason.clone()))
        .unwrap_or_else(|| "pod failed".to_string());
    Some((
        name(&pod.metadata).to_string(),
        node_of(pod).map(str::to_string),
        detail,
    ))
}

#[cfg(test)]
#[path = "job_tests.rs"]
mod tests;
