//! The shape of a staged rollout: `ferry.dev/steps`, `ferry.dev/step-soak` and
//! `ferry.dev/canary-nodes` (or the same keys under an app's `gates:`), parsed and resolved
//! against a pod or node count.

use std::fmt;
use std::time::Duration;

use serde::{Serialize, Serializer};
use serde_json::Value;

use super::staged::{CANARY_NODES_ANNOTATION, STEPS_ANNOTATION, STEP_SOAK_ANNOTATION};
use crate::duration::parse_duration;

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
