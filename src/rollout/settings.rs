//! Gate settings from every layer that can set them, and the one rule that merges them.
//!
//! A layer is a [`GateSettings`]: the command line's flags (`cli::GateArgs::settings`) or an
//! app's `gates:` section in ferry.yaml. [`gate_config`] lays them over ferry's built-in
//! defaults ([`GateConfig::default`]); when a gate starts, the workload's own `ferry.dev/*`
//! annotations override the result for that object ([`GateConfig::for_object`]).

use std::time::Duration;

use serde::Deserialize;

use super::{GateConfig, OnDeletePolicy};
use crate::duration::{parse_duration, DurationError};
use crate::plan::staged::{StageError, StageKey, StageSpec};

/// The one precedence rule for gate settings, used by `ferry sync`, `ferry rollback` and
/// `ferry serve` (`ferry plan` never gates). For each setting the first layer that sets it wins:
/// 1. `flags`: the command line (`--no-wait`, `--timeout`, `--grace`, `--unstick-statefulsets`);
/// 2. `app`: the app's `gates:` in ferry.yaml (`wait`, `timeout`, `grace`, `failuresAllowed`,
///    `onDelete`);
/// 3. ferry's built-in defaults ([`GateConfig::default`]).
///
/// ferry.yaml has no top-level `gates:`: an app's section is the only file layer. `None` when
/// the winning `wait` is false (`--no-wait`, or `gates.wait: false` without the flag): don't
/// gate at all.
pub fn gate_config(flags: &GateSettings, app: &GateSettings) -> Option<GateConfig> {
    flags.over(app).config()
}

/// One layer of gate settings; an unset field (`None`) leaves the decision to the layer below.
///
/// Deserializes ferry.yaml's `gates:` section (`wait`, `timeout`, `grace`, `failuresAllowed`,
/// `onDelete`; durations as in `90s` or `1h30m`). A value that does not parse is not a YAML
/// error: the section still loads (so one app's typo does not stop the file's other apps) and
/// [`GateSettings::validated`] reports it, naming the key and the value.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(from = "WrittenGates")]
pub struct GateSettings {
    /// `false`: apply every wave without waiting for rollouts.
    pub wait: Option<bool>,
    /// Per-object rollout timeout.
    pub timeout: Option<Duration>,
    /// How long a pod must keep failing before the gate fails.
    pub grace: Option<Duration>,
    /// Pods that may be failing without failing the gate.
    pub failures_allowed: Option<u32>,
    /// What to do with `updateStrategy: OnDelete`.
    pub on_delete: Option<OnDeletePolicy>,
    /// Before gating a StatefulSet, delete its pods stuck on an old revision (command line only;
    /// rollbacks always do).
    pub unstick_statefulsets: Option<bool>,
    /// Staged rollouts for the app's DaemonSets and StatefulSets (`steps`, `stepSoak`,
    /// `canaryNodes`); an object's `ferry.dev/steps` annotations win. Read by the plan.
    pub steps: Option<StageSpec>,
    /// The first value of the written section that did not parse.
    problem: Option<GateSettingsError>,
}

impl GateSettings {
    /// These settings, or the first value of ferry.yaml's section that did not parse.
    pub fn validated(self) -> Result<GateSettings, GateSettingsError> {
        match self.problem {
            Some(problem) => Err(problem),
            None => Ok(self),
        }
    }

    /// `self` laid over `lower`: every setting `self` sets wins, the rest fall through.
    pub fn over(&self, lower: &GateSettings) -> GateSettings {
        GateSettings {
            wait: self.wait.or(lower.wait),
            timeout: self.timeout.or(lower.timeout),
            grace: self.grace.or(lower.grace),
            failures_allowed: self.failures_allowed.or(lower.failures_allowed),
            on_delete: self.on_delete.or(lower.on_delete),
            unstick_statefulsets: self.unstick_statefulsets.or(lower.unstick_statefulsets),
            steps: self.steps.clone().or_else(|| lower.steps.clone()),
            problem: self.problem.clone().or_else(|| lower.problem.clone()),
        }
    }

    /// These settings over ferry's built-in defaults; `None` when `wait` is false.
    pub fn config(&self) -> Option<GateConfig> {
        if self.wait == Some(false) {
            return None;
        }
        let defaults = GateConfig::default();
        Some(GateConfig {
            timeout: self.timeout.unwrap_or(defaults.timeout),
            grace: self.grace.unwrap_or(defaults.grace),
            failures_allowed: self.failures_allowed.unwrap_or(defaults.failures_allowed),
            on_delete: self.on_delete.unwrap_or(defaults.on_delete),
            unstick_statefulsets: self
                .unstick_statefulsets
                .unwrap_or(defaults.unstick_statefulsets),
            ..defaults
        })
    }
}

/// A value of ferry.yaml's `gates:` section that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GateSettingsError {
    /// `timeout` or `grace` is not a duration.
    #[error("gates.{key} {value:?}: {source}")]
    Duration {
        /// The key (`timeout`, `grace`).
        key: &'static str,
        /// The value written.
        value: String,
        /// Why it does not parse.
        #[source]
        source: DurationError,
    },
    /// `onDelete` is not one of the policies.
    #[error("gates.onDelete {0:?}: expected skip, wait or restart-pods")]
    OnDelete(String),
    /// `steps`, `stepSoak` or `canaryNodes` cannot be used (or a soak without steps).
    #[error(transparent)]
    Steps(#[from] StageError),
}

/// The `gates:` section as written; only [`GateSettings`]' deserializer sees it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WrittenGates {
    #[serde(default)]
    wait: Option<bool>,
    #[serde(default)]
    timeout: Option<String>,
    #[serde(default)]
    grace: Option<String>,
    #[serde(default)]
    failures_allowed: Option<u32>,
    #[serde(default)]
    on_delete: Option<String>,
    #[serde(default)]
    steps: Option<String>,
    #[serde(default)]
    step_soak: Option<String>,
    #[serde(default)]
    canary_nodes: Option<String>,
}

impl From<WrittenGates> for GateSettings {
    fn from(written: WrittenGates) -> GateSettings {
        let mut problems = Vec::new();
        let mut duration = |key: &'static str, text: Option<String>| {
            let text = text?;
            parse_duration(&text)
                .map_err(|source| {
                    problems.push(GateSettingsError::Duration {
                        key,
                        value: text.clone(),
                        source,
                    });
                })
                .ok()
        };
        let timeout = duration("timeout", written.timeout);
        let grace = duration("grace", written.grace);
        let on_delete = written.on_delete.and_then(|text| {
            let policy = OnDeletePolicy::parse(&text);
            if policy.is_none() {
                problems.push(GateSettingsError::OnDelete(text));
            }
            policy
        });
        let steps = match (&written.steps, &written.step_soak, &written.canary_nodes) {
            (Some(steps), soak, canary) => StageSpec::parse(
                steps,
                soak.as_deref(),
                canary.as_deref(),
                &StageKey::gates_key,
            )
            .map_err(|e| problems.push(e.into()))
            .ok(),
            (None, None, None) => None,
            (None, soak, canary) => {
                let (key, value) = match (soak, canary) {
                    (Some(soak), _) => (StageKey::Soak, soak.clone()),
                    (None, canary) => (StageKey::CanaryNodes, canary.clone().unwrap_or_default()),
                };
                problems.push(GateSettingsError::Steps(StageError {
                    key: key.gates_key(),
                    value,
                    expected: "gates.steps to be set too".into(),
                }));
                None
            }
        };
        GateSettings {
            steps,
            wait: written.wait,
            timeout,
            grace,
            failures_allowed: written.failures_allowed,
            on_delete,
            unstick_statefulsets: None,
            problem: problems.into_iter().next(),
        }
    }
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
