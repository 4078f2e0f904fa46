//! Staged rollouts, as the plan sees them: the `ferry.dev/steps` family of annotations (and
//! the same keys under an app's `gates:`), the mark ferry leaves on an object while it steps
//! it, and the decision whether an update of a DaemonSet or StatefulSet is rolled out in
//! steps, resumed, or only releases what an earlier staged rollout held.
//!
//! While it steps an object, ferry holds the fields that pace the controller
//! (`spec.updateStrategy.rollingUpdate.partition` of a StatefulSet, `spec.updateStrategy.type`
//! of a DaemonSet) with its own field manager [`ROLLOUT_MANAGER`], so the plan does not see
//! them as drift and ferry's own apply never fights them; at the end it hands them back to
//! git's values and releases them.

use std::fmt;
use std::time::Duration;

use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::duration::parse_duration;

/// Annotation: the steps (`"1, 25%, 100%"`): pods (StatefulSet) or nodes (DaemonSet) updated
/// after each step.
pub const STEPS_ANNOTATION: &str = "ferry.dev/steps";
/// Annotation: how long each step is watched before the next one widens it (`60s`).
pub const STEP_SOAK_ANNOTATION: &str = "ferry.dev/step-soak";
/// Annotation: DaemonSet only; nodes matching this label selector form the first step.
pub const CANARY_NODES_ANNOTATION: &str = "ferry.dev/canary-nodes";
/// Annotation ferry writes (as [`ROLLOUT_MANAGER`]) while it steps an object:
/// `<step>/<steps> <commit sha>`, the step in progress (1-based).
pub const ROLLOUT_STEP_ANNOTATION: &str = "ferry.dev/rollout-step";
/// The field manager that holds the pacing fields while ferry steps a rollout.
pub const ROLLOUT_MANAGER: &str = "ferry-rollout";

/// How far one step goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepSize {
    /// This many pods or nodes in all.
    Count(u32),
    /// This share of them (rounded up).
    Percent(u32),
}

impl StepSize {
    /// How many of `total` are updated once this step is done (at least 1, at most `total`).
    pub fn of(self, total: u32) -> u32 {
        let n = match self {
            StepSize::Count(n) => n,
            StepSize::Percent(p) => (u64::from(total) * u64::from(p)).div_ceil(100) as u32,
        };
        n.clamp(1.min(total), total)
    }
}

impl fmt::Display for StepSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepSize::Count(n) => write!(f, "{n}"),
            StepSize::Percent(p) => write!(f, "{p}%"),
        }
    }
}

/// A staged rollout's shape, from `ferry.dev/steps`, `ferry.dev/step-soak` and
/// `ferry.dev/canary-nodes` (or the app's `gates:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageSpec {
    /// The steps, increasing, the last one `100%`.
    pub steps: Vec<StepSize>,
    /// How long each step is watched once its pods are Ready.
    pub soak: Duration,
    /// DaemonSet: the label selector of the nodes that form the first step.
    pub canary_nodes: Option<String>,
}

impl StageSpec {
    /// Parses the three values; an error names the key (`key_of`) and the value.
    pub fn parse(
        steps: &str,
        soak: Option<&str>,
        canary_nodes: Option<&str>,
        key_of: &dyn Fn(StageKey) -> String,
    ) -> Result<StageSpec, StageError> {
        let bad = |key: StageKey, value: &str, expected: &str| StageError {
            key: key_of(key),
            value: value.to_string(),
            expected: expected.to_string(),
        };
        let expected = "increasing counts or percentages ending at 100%, e.g. \"1, 25%, 100%\"";
        let mut parsed = Vec::new();
        for part in steps.split(',').map(str::trim) {
            let step = match part.strip_suffix('%') {
                Some(p) => match p.trim().parse::<u32>() {
                    Ok(p) if (1..=100).contains(&p) => StepSize::Percent(p),
                    _ => return Err(bad(StageKey::Steps, steps, expected)),
                },
                None => match part.parse::<u32>() {
                    Ok(n) if n >= 1 => StepSize::Count(n),
                    _ => return Err(bad(StageKey::Steps, steps, expected)),
                },
            };
            let increasing = parsed
                .iter()
                .all(|earlier: &StepSize| match (earlier, step) {
                    (StepSize::Count(a), StepSize::Count(b)) => *a < b,
                    (StepSize::Percent(a), StepSize::Percent(b)) => *a < b,
                    _ => true,
                });
            if !increasing {
                return Err(bad(StageKey::Steps, steps, expected));
            }
            parsed.push(step);
        }
        if parsed.last() != Some(&StepSize::Percent(100)) {
            return Err(bad(StageKey::Steps, steps, expected));
        }
        let soak = match soak {
            None => Duration::ZERO,
            Some(text) => parse_duration(text)
                .map_err(|_| bad(StageKey::Soak, text, "a duration such as 60s or 5m"))?,
        };
        let canary_nodes = match canary_nodes.map(str::trim) {
            None => None,
            Some("") => {
                return Err(bad(
                    StageKey::CanaryNodes,
                    "",
                    "a label selector such as role=canary",
                ))
            }
            Some(selector) => Some(selector.to_string()),
        };
        Ok(StageSpec {
            steps: parsed,
            soak,
            canary_nodes,
        })
    }

    /// The spec an object's annotations give, over the app's default; `Ok(None)` when neither
    /// asks for steps. Soak and canary nodes fall back to the app's one by one.
    pub fn of_object(
        object: &Value,
        app: Option<&StageSpec>,
    ) -> Result<Option<StageSpec>, StageError> {
        let annotations = object.pointer("/metadata/annotations");
        let get = |key: &str| annotations.and_then(|a| a.get(key)).and_then(Value::as_str);
        let Some(steps) = get(STEPS_ANNOTATION) else {
            return Ok(app.cloned());
        };
        let mut spec = StageSpec::parse(
            steps,
            get(STEP_SOAK_ANNOTATION),
            get(CANARY_NODES_ANNOTATION),
            &StageKey::annotation,
        )?;
        if let Some(app) = app {
            if get(STEP_SOAK_ANNOTATION).is_none() {
                spec.soak = app.soak;
            }
            if get(CANARY_NODES_ANNOTATION).is_none() {
                spec.canary_nodes.clone_from(&app.canary_nodes);
            }
        }
        Ok(Some(spec))
    }

    /// How many of `total` pods or nodes are updated once each step is done, one entry per
    /// step: never decreasing, the last one `total` (a step that does not widen the one
    /// before it has nothing to do).
    pub fn targets(&self, total: u32) -> Vec<u32> {
        let mut widest = 0;
        self.steps
            .iter()
            .map(|step| {
                widest = widest.max(step.of(total));
                widest
            })
            .collect()
    }
}

impl fmt::Display for StageSpec {
    /// `1 → 25% → 100%, soak 60s, canary nodes role=canary`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let steps: Vec<String> = self.steps.iter().map(ToString::to_string).collect();
        f.write_str(&steps.join(" → "))?;
        if !self.soak.is_zero() {
            write!(f, ", soak {}s", self.soak.as_secs())?;
        }
        if let Some(selector) = &self.canary_nodes {
            write!(f, ", canary nodes {selector}")?;
        }
        Ok(())
    }
}

impl Serialize for StageSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// Which of the three settings a [`StageError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageKey {
    /// The steps.
    Steps,
    /// The soak.
    Soak,
    /// The canary nodes' selector.
    CanaryNodes,
}

impl StageKey {
    /// The annotation spelling.
    pub fn annotation(self) -> String {
        match self {
            StageKey::Steps => STEPS_ANNOTATION,
            StageKey::Soak => STEP_SOAK_ANNOTATION,
            StageKey::CanaryNodes => CANARY_NODES_ANNOTATION,
        }
        .to_string()
    }

    /// The ferry.yaml spelling under `gates:`.
    pub fn gates_key(self) -> String {
        match self {
            StageKey::Steps => "gates.steps",
            StageKey::Soak => "gates.stepSoak",
            StageKey::CanaryNodes => "gates.canaryNodes",
        }
        .to_string()
    }
}

/// A staged-rollout setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: invalid value {value:?} (expected {expected})")]
pub struct StageError {
    /// The annotation or ferry.yaml key.
    pub key: String,
    /// The value found.
    pub value: String,
    /// What would have been accepted.
    pub expected: String,
}

/// The mark on an object ferry is stepping: which step is in progress, for which commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RolloutMark {
    /// The step in progress, 1-based.
    pub step: u32,
    /// How many steps the rollout has.
    pub steps: u32,
    /// The commit whose template is being rolled out.
    pub commit: String,
}

impl RolloutMark {
    /// The mark on a live object (`None` when absent or unreadable).
    pub fn of_object(live: &Value) -> Option<RolloutMark> {
        let text = live
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(ROLLOUT_STEP_ANNOTATION))
            .and_then(Value::as_str)?;
        RolloutMark::parse(text)
    }

    /// Parses `2/3 <sha>`.
    pub fn parse(text: &str) -> Option<RolloutMark> {
        let (progress, commit) = text.trim().split_once(' ')?;
        let (step, steps) = progress.split_once('/')?;
        Some(RolloutMark {
            step: step.parse().ok()?,
            steps: steps.parse().ok()?,
            commit: commit.trim().to_string(),
        })
    }
}

impl fmt::Display for RolloutMark {
    /// `2/3 <sha>`, the annotation's value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} {}", self.step, self.steps, self.commit)
    }
}

/// What an update of a DaemonSet or StatefulSet does about staging.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "staging", rename_all = "kebab-case")]
pub enum Staging {
    /// Roll the template out step by step, each step gated.
    Steps {
        /// The steps.
        spec: StageSpec,
        /// A rollout ferry was stepping when it stopped: go on at this step (1-based); steps
        /// before it are done.
        #[serde(skip_serializing_if = "Option::is_none")]
        resume_at: Option<u32>,
        /// The commit being rolled out (written into the [`RolloutMark`]).
        #[serde(skip)]
        commit: String,
    },
    /// An earlier staged rollout left its hold (git no longer asks for steps, or gates are
    /// off): git's pacing fields are applied and ferry's hold released.
    Release {
        /// The mark that was left, `2/3 <sha>`.
        left: String,
    },
}

impl fmt::Display for Staging {
    /// `staged: 1 → 25% → 100%, soak 60s`, `resuming step 2 of 3: …`, or what a release does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Staging::Steps {
                spec,
                resume_at: None,
                ..
            } => write!(f, "staged: {spec}"),
            Staging::Steps {
                spec,
                resume_at: Some(step),
                ..
            } => write!(
                f,
                "staged: {spec}; resuming at step {step} of {} (an earlier sync stopped there)",
                spec.steps.len()
            ),
            Staging::Release { left } => write!(
                f,
                "ends the staged rollout left at step {left}: restores git's update strategy and releases ferry's hold"
            ),
        }
    }
}

/// The pacing fields ferry holds while stepping `kind` (`StatefulSet`, `DaemonSet`), as JSON
/// pointers into the object.
pub fn held_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "StatefulSet" => &["/spec/updateStrategy/rollingUpdate/partition"],
        "DaemonSet" => &["/spec/updateStrategy/type"],
        _ => &[],
    }
}

/// `object` without the fields ferry holds while stepping it (what ferry's own apply sends
/// during a staged rollout, so it never takes them back).
pub fn without_held_fields(kind: &str, object: &Value) -> Value {
    let mut out = object.clone();
    for pointer in held_fields(kind) {
        if let Some((parent, leaf)) = pointer.rsplit_once('/') {
            if let Some(Value::Object(map)) = out.pointer_mut(parent) {
                map.remove(leaf);
            }
        }
    }
    out
}

/// Whether a DaemonSet or StatefulSet update is staged: `spec` (from its annotations or the
/// app) asks for steps and the pod template changes (a new rollout from the current state,
/// even when an earlier one was left mid-way), or ferry was stepping it (`mark`) when an
/// earlier sync stopped (resumed at that step). A mark without a spec is released.
/// `template_changes` comes from the plan's field diff.
pub fn decide(
    kind: &str,
    spec: Option<StageSpec>,
    mark: Option<&RolloutMark>,
    template_changes: bool,
    commit: &str,
) -> Option<Staging> {
    if !matches!(kind, "StatefulSet" | "DaemonSet") {
        return None;
    }
    match spec {
        Some(spec) if template_changes => Some(Staging::Steps {
            spec,
            resume_at: None,
            commit: commit.to_string(),
        }),
        Some(spec) => mark.map(|m| Staging::Steps {
            resume_at: Some(m.step.clamp(1, spec.steps.len() as u32)),
            spec,
            commit: commit.to_string(),
        }),
        None => mark.map(|m| Staging::Release {
            left: m.to_string(),
        }),
    }
}

#[cfg(test)]
#[path = "staged_tests.rs"]
mod tests;
