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

use serde::Serialize;
use serde_json::Value;

pub use super::stage_spec::{StageError, StageKey, StageSpec, StepSize};
use super::{Action, Change};

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
pub const ROLLOUT_MANAGER: &str = crate::cluster::ROLLOUT_FIELD_MANAGER;

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

/// What `ferry-rollout` applies while stepping an object: the pacing field (`strategy`, the
/// object's `spec.updateStrategy` part it holds) and the mark of the step in progress. The same
/// object before the template is applied and at each step.
pub fn hold_object(
    api_version: &str,
    kind: &str,
    namespace: Option<&str>,
    name: &str,
    mark: &RolloutMark,
    strategy: Value,
) -> Value {
    serde_json::json!({
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {
            "name": name,
            "namespace": namespace,
            "annotations": {ROLLOUT_STEP_ANNOTATION: mark.to_string()},
        },
        "spec": {"updateStrategy": strategy},
    })
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

/// Marks a DaemonSet or StatefulSet update as staged ([`staged::decide`]); a rollout ferry
/// left mid-way makes an otherwise unchanged object an update (resumed or released). A bad
/// `ferry.dev/steps` value makes the entry invalid, naming the annotation.
pub(super) fn stage(
    options: &super::PlanOptions<'_>,
    resource: &crate::manifest::Resource,
    mut change: Change,
    desired: Value,
    mark: Option<&RolloutMark>,
) -> Change {
    let kind = resource.key.kind.as_str();
    if resource.key.group != "apps" || !matches!(kind, "StatefulSet" | "DaemonSet") {
        return change;
    }
    let spec = match StageSpec::of_object(&resource.object, options.default_steps) {
        Ok(spec) => spec,
        Err(e) => {
            change.action = Action::Invalid {
                message: e.to_string(),
            };
            return change;
        }
    };
    let on_delete = desired
        .pointer("/spec/updateStrategy/type")
        .and_then(Value::as_str)
        == Some("OnDelete");
    if spec.is_some() && kind == "StatefulSet" && on_delete {
        change.action = Action::Invalid {
            message: format!(
                "{STEPS_ANNOTATION}: a StatefulSet with updateStrategy OnDelete has no partition to step; use RollingUpdate (or ferry.dev/on-delete: restart-pods)"
            ),
        };
        return change;
    }
    let template_changes = change
        .fields
        .iter()
        .any(|f| f.path.starts_with("spec.template"));
    if !matches!(change.action, Action::Update | Action::Unchanged) {
        return change;
    }
    change.staging = decide(kind, spec, mark, template_changes, &options.commit.sha);
    if change.staging.is_some() && change.action == Action::Unchanged {
        change.action = Action::Update;
        change.desired = Some(desired);
    }
    change
}

#[cfg(test)]
#[path = "staged_tests.rs"]
mod tests;
