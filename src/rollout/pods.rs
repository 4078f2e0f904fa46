//! Fail-fast pod diagnosis: terminal reasons that no amount of waiting will fix.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use super::util::{at, condition, name, node_of, opt_int, str_at, terminating, timestamp, uid};

/// Container waiting reasons that mean the pod will not become Ready by itself.
const FAILING_WAIT_REASONS: &[&str] = &[
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "ErrImageNeverPull",
    "ImageInspectError",
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
];

/// Reasons whose pod events are worth quoting (they carry the registry's or runtime's error).
const EVENT_WORTHY: &[&str] = &[
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "ErrImageNeverPull",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
];

/// Why one pod will not become Ready.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PodProblem {
    /// Pod name.
    pub pod: String,
    /// Pod uid (a replacement pod with the same name is another pod).
    pub pod_uid: String,
    /// Node it was scheduled to; `None` when unscheduled.
    pub node: Option<String>,
    /// The container at fault, if one is.
    pub container: Option<String>,
    /// `ImagePullBackOff`, `CrashLoopBackOff`, `Unschedulable`, `OOMKilled`…
    pub reason: String,
    /// Details: the kubelet's or scheduler's message, last exit code, the latest warning event.
    pub message: String,
    /// Exit code of the container's last run, when it ran.
    pub exit_code: Option<i32>,
}

impl fmt::Display for PodProblem {
    /// `pod fluentd-abc12 on kwok-worker-1: ImagePullBackOff: Back-off pulling image "x"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.node {
            Some(node) => write!(f, "pod {} on {node}: {}", self.pod, self.reason)?,
            None => write!(f, "pod {} (not scheduled): {}", self.pod, self.reason)?,
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

/// Finds the pods that will not become Ready by themselves, at most one problem per pod:
/// - `PodScheduled=False` with reason `Unschedulable` (the scheduler's message);
/// - a container (init containers first) waiting with ImagePullBackOff, ErrImagePull,
///   InvalidImageName, CrashLoopBackOff (with the last exit code and termination message),
///   CreateContainerConfigError, CreateContainerError and similar;
/// - a container OOMKilled (terminated now, or last time before a restart back-off);
/// - phase `Failed` (evicted, …), except for pods owned by a Job, whose failures the Job's
///   backoffLimit counts.
///
/// Terminating and Succeeded pods are ignored. `events` are the pods' events (any order):
/// for image and container-creation problems the latest Warning event that adds something
/// (the registry's error) is appended to the message. Callers pass only the pods that matter
/// (owned by the workload, of its current revision).
pub fn diagnose(pods: &[Value], events: &[Value]) -> Vec<PodProblem> {
    pods.iter()
        .filter_map(|pod| {
            let mut problem = diagnose_pod(pod)?;
            if EVENT_WORTHY.contains(&problem.reason.as_str()) {
                if let Some(extra) = latest_warning(&problem, events) {
                    problem.message = if problem.message.is_empty() {
                        extra
                    } else {
                        format!("{}; {extra}", problem.message)
                    };
                }
            }
            Some(problem)
        })
        .collect()
}

fn diagnose_pod(pod: &Value) -> Option<PodProblem> {
    let phase = str_at(pod, "status.phase").unwrap_or("");
    if terminating(pod) || phase == "Succeeded" {
        return None;
    }
    let job_pod = at(pod, "metadata.ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| refs.iter().any(|r| str_at(r, "kind") == Some("Job")));
    let problem =
        |container: Option<&str>, reason: &str, message: String, code: Option<i64>| PodProblem {
            pod: name(pod).to_string(),
            pod_uid: uid(pod).to_string(),
            node: node_of(pod).map(str::to_string),
            container: container.map(str::to_string),
            reason: reason.to_string(),
            message,
            exit_code: code.and_then(|c| i32::try_from(c).ok()),
        };

    if let Some(c) = condition(pod, "PodScheduled") {
        if str_at(c, "status") == Some("False") && str_at(c, "reason") == Some("Unschedulable") {
            let message = str_at(c, "message").unwrap_or("").to_string();
            return Some(problem(None, "Unschedulable", message, None));
        }
    }

    let statuses = ["status.initContainerStatuses", "status.containerStatuses"]
        .iter()
        .filter_map(|path| at(pod, path).and_then(Value::as_array))
        .flatten();
    for cs in statuses {
        let container = str_at(cs, "name");
        let waiting = at(cs, "state.waiting");
        let terminated = at(cs, "state.terminated");
        let last = at(cs, "lastState.terminated");
        let restarts = opt_int(cs, "restartCount").unwrap_or(0);
        let oom = terminated
            .filter(|t| str_at(t, "reason") == Some("OOMKilled") && !job_pod)
            .or_else(|| {
                last.filter(|t| str_at(t, "reason") == Some("OOMKilled") && waiting.is_some())
            });
        if let Some(t) = oom {
            let code = opt_int(t, "exitCode");
            let message = format!(
                "container {} was OOMKilled (exit code {}), restarted {restarts} time(s)",
                container.unwrap_or("?"),
                code.unwrap_or(137)
            );
            return Some(problem(container, "OOMKilled", message, code));
        }
        let Some(w) = waiting else { continue };
        let reason = str_at(w, "reason").unwrap_or("");
        if !FAILING_WAIT_REASONS.contains(&reason) {
            continue;
        }
        let mut message = str_at(w, "message").unwrap_or("").to_string();
        let mut code = None;
        if reason == "CrashLoopBackOff" {
            if let Some(t) = last {
                code = opt_int(t, "exitCode");
                let mut detail = format!(
                    "last exit code {} ({}), restarted {restarts} time(s)",
                    code.map_or("?".to_string(), |c| c.to_string()),
                    str_at(t, "reason").unwrap_or("Error")
                );
                if let Some(tail) = str_at(t, "message")
                    .map(str::trim)
                    .filter(|m| !m.is_empty())
                {
                    detail.push_str(&format!("; last output: {tail}"));
                }
                message = if message.is_empty() {
                    detail
                } else {
                    format!("{message}; {detail}")
                };
            }
        }
        return Some(problem(container, reason, message, code));
    }

    if phase == "Failed" && !job_pod {
        let reason = str_at(pod, "status.reason").unwrap_or("Failed");
        let exited = at(pod, "status.containerStatuses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find_map(|cs| {
                let code = opt_int(cs, "state.terminated.exitCode")?;
                (code != 0).then(|| (str_at(cs, "name"), code))
            });
        let message = match (str_at(pod, "status.message"), exited) {
            (Some(m), _) => m.to_string(),
            (None, Some((c, code))) => {
                format!("container {} exited with code {code}", c.unwrap_or("?"))
            }
            (None, None) => "pod failed".to_string(),
        };
        let (container, code) = exited.map_or((None, None), |(c, code)| (c, Some(code)));
        return Some(problem(container, reason, message, code));
    }
    None
}

/// The latest Warning event about the problem's pod that says something the message does not.
fn latest_warning(problem: &PodProblem, events: &[Value]) -> Option<String> {
    events
        .iter()
        .filter(|e| {
            let about = at(e, "involvedObject");
            let same_pod = about.and_then(|o| str_at(o, "uid")) == Some(problem.pod_uid.as_str())
                || (about.and_then(|o| str_at(o, "kind")) == Some("Pod")
                    && about.and_then(|o| str_at(o, "name")) == Some(problem.pod.as_str()));
            same_pod && str_at(e, "type") == Some("Warning")
        })
        .filter_map(|e| {
            let message = str_at(e, "message")?.trim();
            let redundant = message.is_empty()
                || problem.message.contains(message)
                || message == format!("Error: {}", problem.reason);
            (!redundant).then(|| (event_time(e), str_at(e, "reason").unwrap_or(""), message))
        })
        .max_by_key(|(time, _, _)| *time)
        .map(|(_, reason, message)| format!("{reason}: {message}"))
}

fn event_time(e: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    [
        "series.lastObservedTime",
        "lastTimestamp",
        "eventTime",
        "firstTimestamp",
    ]
    .iter()
    .filter_map(|path| at(e, path).and_then(timestamp))
    .max()
}

#[cfg(test)]
#[path = "pods_tests.rs"]
mod tests;
