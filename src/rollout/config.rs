//! Resolved gate settings ([`GateConfig`]) and the per-object annotations that override them.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use super::util::annotation;
use super::RolloutError;
use crate::duration::parse_duration;

/// Annotation: how long the gate waits for this object (`90s`, `5m`, `1h30m`).
pub const TIMEOUT_ANNOTATION: &str = "ferry.dev/timeout";
/// Annotation: how many pods may be failing before the gate fails (`"0"`).
pub const FAILURES_ALLOWED_ANNOTATION: &str = "ferry.dev/failures-allowed";
/// Annotation: what to do with `updateStrategy: OnDelete` (`skip`, `wait`, `restart-pods`).
pub const ON_DELETE_ANNOTATION: &str = "ferry.dev/on-delete";

/// What a gate does with a DaemonSet or StatefulSet whose `updateStrategy` is `OnDelete`, whose
/// pods keep the old template until someone deletes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnDeletePolicy {
    /// Do not wait for old pods: the gate result is `Skipped`, saying so.
    #[default]
    Skip,
    /// Wait (bounded by the timeout) until someone else deletes the old pods.
    Wait,
    /// Delete old-revision pods one at a time, waiting for each replacement to be Ready
    /// (DaemonSet: one node at a time within maxUnavailable; StatefulSet: highest ordinal first).
    RestartPods,
}

impl OnDeletePolicy {
    /// Parses the annotation value (`skip`, `wait`, `restart-pods`).
    pub fn parse(value: &str) -> Option<OnDeletePolicy> {
        match value.trim() {
            "skip" => Some(OnDeletePolicy::Skip),
            "wait" => Some(OnDeletePolicy::Wait),
            "restart-pods" => Some(OnDeletePolicy::RestartPods),
            _ => None,
        }
    }

    /// The annotation spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OnDeletePolicy::Skip => "skip",
            OnDeletePolicy::Wait => "wait",
            OnDeletePolicy::RestartPods => "restart-pods",
        }
    }
}

/// How gates wait, resolved. [`Default`] gives ferry's built-in defaults;
/// [`super::gate_config`] lays the flags and the app's `gates:` over them;
/// [`GateConfig::for_object`] applies an object's `ferry.dev/*` annotations on top.
#[derive(Debug, Clone, PartialEq)]
pub struct GateConfig {
    /// Give up after this long (default 5m); the result is `TimedOut`.
    pub timeout: Duration,
    /// How long a pod must continuously show a terminal failure before the gate fails (default
    /// 20s), so a transient registry hiccup does not fail a rollout.
    pub grace: Duration,
    /// Pods allowed to be failing (beyond `grace`) without failing the gate (default 0).
    pub failures_allowed: u32,
    /// What to do with `updateStrategy: OnDelete` (default `Skip`).
    pub on_delete: OnDeletePolicy,
    /// How often the workload and its pods are read (default 1s).
    pub poll_interval: Duration,
    /// Before gating a StatefulSet, delete its pods stuck not-Ready on an old revision (used
    /// when rolling back; off for ordinary syncs).
    pub unstick_statefulsets: bool,
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig {
            timeout: Duration::from_secs(300),
            grace: Duration::from_secs(20),
            failures_allowed: 0,
            on_delete: OnDeletePolicy::Skip,
            poll_interval: Duration::from_secs(1),
            unstick_statefulsets: false,
        }
    }
}

impl GateConfig {
    /// This config with the object's annotations applied (`ferry.dev/timeout`,
    /// `ferry.dev/failures-allowed`, `ferry.dev/on-delete`). A bad value is an error naming the
    /// annotation and the value.
    pub fn for_object(&self, live: &ObjectMeta) -> Result<GateConfig, RolloutError> {
        let mut config = self.clone();
        let invalid =
            |annotation: &str, value: &str, expected: &str| RolloutError::InvalidAnnotation {
                annotation: annotation.to_string(),
                value: value.to_string(),
                expected: expected.to_string(),
            };
        if let Some(value) = annotation(live, TIMEOUT_ANNOTATION) {
            config.timeout = parse_duration(value).map_err(|_| {
                invalid(
                    TIMEOUT_ANNOTATION,
                    value,
                    "a duration such as 90s, 5m or 1h30m",
                )
            })?;
        }
        if let Some(value) = annotation(live, FAILURES_ALLOWED_ANNOTATION) {
            config.failures_allowed = value.trim().parse().map_err(|_| {
                invalid(
                    FAILURES_ALLOWED_ANNOTATION,
                    value,
                    "a non-negative whole number",
                )
            })?;
        }
        if let Some(value) = annotation(live, ON_DELETE_ANNOTATION) {
            config.on_delete = OnDeletePolicy::parse(value).ok_or_else(|| {
                invalid(ON_DELETE_ANNOTATION, value, "skip, wait or restart-pods")
            })?;
        }
        Ok(config)
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
