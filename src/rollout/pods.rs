//! Fail-fast pod diagnosis: terminal reasons that no amount of waiting will fix.

use std::fmt;

use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use super::util::{name, node_of, terminating, uid};

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
pub fn diagnose(pods: &[Pod], events: &[Event]) -> Vec<PodProblem> {
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

fn diagnose_pod(pod: &Pod) -> Option<PodProblem> {
    let status = pod.status.as_ref();
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("");
    if terminating(&pod.metadata) || phase == "Succeeded" {
        return None;
    }
    let job_pod = pod
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|r| r.kind == "Job");
    let problem =
        |container: Option<&str>, reason: &str, message: String, code: Option<i32>| PodProblem {
            pod: name(&pod.metadata).to_string(),
            pod_uid: uid(&pod.metadata).to_string(),
            node: node_of(pod).map(str::to_string),
            container: container.map(str::to_string),
            reason: reason.to_string(),
            message,
            exit_code: code,
        };

    let conditions = status
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten();
    if let Some(c) = conditions.into_iter().find(|c| c.type_ == "PodScheduled") {
        if c.status == "False" && c.reason.as_deref() == Some("Unschedulable") {
            let message = c.message.clone().unwrap_or_default();
            return Some(problem(None, "Unschedulable", message, None));
        }
    }

    let statuses = status
        .into_iter()
        .flat_map(|s| [&s.init_container_statuses, &s.container_statuses])
        .flatten()
        .flatten();
    for cs in statuses {
        let container = Some(cs.name.as_str());
        let waiting = cs.state.as_ref().and_then(|s| s.waiting.as_ref());
        let terminated = cs.state.as_ref().and_then(|s| s.terminated.as_ref());
        let last = cs.last_state.as_ref().and_then(|s| s.terminated.as_ref());
        let restarts = cs.restart_count;
        let oom = terminated
            .filter(|t| t.reason.as_deref() == Some("OOMKilled") && !job_pod)
            .or_else(|| {
                last.filter(|t| t.reason.as_deref() == Some("OOMKilled") && waiting.is_some())
            });
        if let Some(t) = oom {
            let code = t.exit_code;
            let message = format!(
                "container {} was OOMKilled (exit code {code}), restarted {restarts} time(s)",
                cs.name
            );
            return Some(problem(container, "OOMKilled", message, Some(code)));
        }
        let Some(w) = waiting else { continue };
        let reason = w.reason.as_deref().unwrap_or("");
        if !FAILING_WAIT_REASONS.contains(&reason) {
            continue;
        }
        let mut message = w.message.clone().unwrap_or_default();
        let mut code = None;
        if reason == "CrashLoopBackOff" {
            if let Some(t) = last {
                code = Some(t.exit_code);
                let mut detail = format!(
                    "last exit code {} ({}), restarted {restarts} time(s)",
                    t.exit_code,
                    t.reason.as_deref().unwrap_or("Error")
                );
                if let Some(tail) = t
                    .message
                    .as_deref()
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
        let reason = status.and_then(|s| s.reason.as_deref()).unwrap_or("Failed");
        let exited = status
            .and_then(|s| s.container_statuses.as_ref())
            .into_iter()
            .flatten()
            .find_map(|cs| {
                let code = cs.state.as_ref()?.terminated.as_ref()?.exit_code;
                (code != 0).then_some((cs.name.as_str(), code))
            });
        let message = match (status.and_then(|s| s.message.as_deref()), exited) {
            (Some(m), _) => m.to_string(),
            (None, Some((c, code))) => format!("container {c} exited with code {code}"),
            (None, None) => "pod failed".to_string(),
        };
        let (container, code) = exited.map_or((None, None), |(c, code)| (Some(c), Some(code)));
        return Some(problem(container, reason, message, code));
    }
    None
}

/// The latest Warning event about the problem's pod that says something the message does not.
fn latest_warning(problem: &PodProblem, events: &[Event]) -> Option<String> {
    events
        .iter()
        .filter(|e| {
            let about = &e.involved_object;
            let same_pod = about.uid.as_deref() == Some(problem.pod_uid.as_str())
                || (about.kind.as_deref() == Some("Pod")
                    && about.name.as_deref() == Some(problem.pod.as_str()));
            same_pod && e.type_.as_deref() == Some("Warning")
        })
        .filter_map(|e| {
            let message = e.message.as_deref()?.trim();
            let redundant = message.is_empty()
                || problem.message.contains(message)
                || message == format!("Error: {}", problem.reason);
            (!redundant).then(|| (event_time(e), e.reason.as_deref().unwrap_or(""), message))
        })
        .max_by_key(|(time, _, _)| *time)
        .map(|(_, reason, message)| format!("{reason}: {message}"))
}

/// The latest of an event's times (series last observed, last, event and first timestamp).
fn event_time(e: &Event) -> Option<Timestamp> {
    [
        e.series
            .as_ref()
            .and_then(|s| s.last_observed_time.as_ref())
            .map(|t| t.0),
        e.last_timestamp.as_ref().map(|t| t.0),
        e.event_time.as_ref().map(|t| t.0),
        e.first_timestamp.as_ref().map(|t| t.0),
    ]
    .into_iter()
    .flatten()
    .max()
}

#[cfg(test)]
#[path = "pods_tests.rs"]
mod tests;
