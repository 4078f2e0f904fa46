//! Stage 5 of the pipeline: rollout gates (see DESIGN.md).
//!
//! After a wave is applied, every DaemonSet, StatefulSet and Job in it is watched until it is
//! healthy, fails, or times out. Each kind has a pure evaluator of its live status
//! ([`daemonset::evaluate`], [`statefulset::evaluate`], [`job::evaluate`]) that says whether the
//! rollout is progressing, healthy or failed, with the semantics of `kubectl rollout status`.
//! While waiting, the workload's current-revision pods are diagnosed ([`pods::diagnose`]):
//! ImagePullBackOff, CrashLoopBackOff, Unschedulable, OOMKilled and friends fail the gate as
//! soon as they persisted for the grace period, naming pod, node and reason, instead of at the
//! timeout. [`wait_healthy`] runs the gates of one wave concurrently and returns one
//! [`GateOutcome`] per workload; `reconcile`'s gate hook calls it between the waves `apply`
//! writes (it never reads `apply`'s types). A staged workload ([`StagedTarget`], from the
//! plan's [`crate::plan::staged::Staging`]) is not only watched but stepped
//! ([`wait_staged_until`]): a StatefulSet's partition lowered step by step, a DaemonSet's pods
//! evicted node batch by node batch, each step soaked, with `ferry-rollout` as field manager
//! (see `staged.rs`); otherwise a gate only writes for `ferry.dev/on-delete: restart-pods` and
//! the rollback unstick. Under `ferry serve` a gate
//! also stops as soon as a newer commit is known ([`Supersede`], [`GateResult::Superseded`]), so
//! a fix never waits behind the rollout it replaces.

mod clock;
pub mod config;
pub mod daemonset;
mod inspect;
pub mod job;
mod job_watch;
pub mod overview;
pub mod pods;
mod restart;
mod runner;
mod settings;
mod staged;
mod staged_daemonset;
pub mod statefulset;
mod steps;
mod supersede;
mod unstick;
mod util;
mod workload;

use std::fmt;
use std::time::Duration;

use serde::{Serialize, Serializer};

use crate::cluster::ClusterError;
use crate::manifest::{Gvk, ObjectKey};
use crate::source::short_sha;

pub use config::{GateConfig, OnDeletePolicy};
pub use pods::PodProblem;
pub use runner::{
    wait_healthy, wait_healthy_unless_superseded, wait_healthy_until, wait_staged_until,
};
pub use settings::{gate_config, GateSettings, GateSettingsError};
pub use steps::StepOutcome;
pub use supersede::{head_channel, HeadSender, Supersede};
pub use unstick::unstick_statefulset;

/// What an evaluator concluded from one status snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Still rolling out.
    Progressing {
        /// Where it is ("2/3 nodes updated, 1 available").
        message: String,
    },
    /// Rolled out: the status says every replica is updated and available.
    Healthy {
        /// A summary ("3/3 nodes updated and available").
        message: String,
    },
    /// Failed for good (a Job's `Failed` condition).
    Failed {
        /// Machine-readable reason (`BackoffLimitExceeded`, `DeadlineExceeded`…).
        reason: String,
        /// What the controller said.
        message: String,
    },
    /// `updateStrategy: OnDelete` and pods of an old revision remain: nothing changes until
    /// they are deleted (what happens then is the [`OnDeletePolicy`]'s call).
    WaitingForPodDeletion {
        /// How many pods are still on the old template.
        message: String,
    },
    /// Nothing to wait for (a suspended Job).
    Skipped {
        /// Why.
        reason: String,
    },
}

/// The kinds that are gated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum WorkloadKind {
    /// `apps/v1` DaemonSet.
    DaemonSet,
    /// `apps/v1` StatefulSet.
    StatefulSet,
    /// `batch/v1` Job.
    Job,
}

impl WorkloadKind {
    /// The gated kind for an API group and kind; `None` for kinds that are not gated.
    pub fn from_group_kind(group: &str, kind: &str) -> Option<WorkloadKind> {
        match (group, kind) {
            ("apps", "DaemonSet") => Some(WorkloadKind::DaemonSet),
            ("apps", "StatefulSet") => Some(WorkloadKind::StatefulSet),
            ("batch", "Job") => Some(WorkloadKind::Job),
            _ => None,
        }
    }

    /// The kind as discovery knows it.
    pub fn group_version_kind(self) -> Gvk {
        let group = match self {
            WorkloadKind::DaemonSet | WorkloadKind::StatefulSet => "apps",
            WorkloadKind::Job => "batch",
        };
        Gvk::new(group, "v1", self.as_str())
    }

    /// The kind name.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::Job => "Job",
        }
    }
}

/// One workload to gate.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct GateTarget {
    /// Its kind.
    pub kind: WorkloadKind,
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
}

impl GateTarget {
    /// A target from its parts.
    pub fn new(kind: WorkloadKind, namespace: &str, name: &str) -> GateTarget {
        GateTarget {
            kind,
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }

    /// The target for an object key; `None` when its kind is not gated (or it has no namespace).
    pub fn from_key(key: &ObjectKey) -> Option<GateTarget> {
        let kind = WorkloadKind::from_group_kind(&key.group, &key.kind)?;
        Some(GateTarget::new(kind, key.namespace.as_deref()?, &key.name))
    }
}

impl fmt::Display for GateTarget {
    /// `DaemonSet logging/fluentd`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::manifest::object_name(
            self.kind.as_str(),
            Some(&self.namespace),
            &self.name,
        ))
    }
}

/// A workload rolled out in steps ([`crate::plan::staged`]), as the gate needs it.
#[derive(Debug, Clone)]
pub struct StagedTarget {
    /// The steps, soak and canary nodes.
    pub spec: crate::plan::staged::StageSpec,
    /// Go on at this step (1-based): an earlier sync stopped there.
    pub resume_at: Option<u32>,
    /// The commit rolled out (written into the mark on the object).
    pub commit: String,
    /// Its served kind.
    pub kind: crate::cluster::ServedKind,
    /// Git's object as ferry applies it, pacing fields included: applied again at the end
    /// when it sets them, so git's partition or strategy is back before the hold goes.
    pub restore: serde_json::Value,
}

/// The state a gate reports in its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GateState {
    /// Rolling out (possibly with a problem still inside its grace period).
    Progressing,
    /// OnDelete: waiting for someone to delete the old pods (`ferry.dev/on-delete: wait`).
    WaitingForPodDeletion,
    /// OnDelete: ferry is deleting old pods one at a time (`ferry.dev/on-delete: restart-pods`).
    RestartingPods,
    /// A staged rollout's step is Ready and being watched for its soak.
    Soaking,
    /// A staged DaemonSet step waits: the Eviction API refused (a PodDisruptionBudget).
    EvictionBlocked,
    /// Done: healthy.
    Healthy,
    /// Done: failed.
    Failed,
    /// Done: not waited for.
    Skipped,
    /// Done: gave up at the timeout.
    TimedOut,
    /// Done: stopped waiting because a newer commit is being synced.
    Superseded,
    /// Done: stopped waiting because the sync was cancelled (lease lost, shutdown).
    Interrupted,
}

impl GateState {
    /// True for a state that ends the gate (healthy, failed, skipped, timed out, superseded,
    /// interrupted); the others are still waiting.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            GateState::Healthy
                | GateState::Failed
                | GateState::Skipped
                | GateState::TimedOut
                | GateState::Superseded
                | GateState::Interrupted
        )
    }
}

/// A progress report from a gate; emitted only when its state or message changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateEvent {
    /// Which workload.
    pub target: GateTarget,
    /// Its state.
    pub state: GateState,
    /// What is going on, for humans.
    pub message: String,
    /// Time since the gate started.
    #[serde(rename = "elapsed_seconds", serialize_with = "seconds")]
    pub elapsed: Duration,
    /// A staged rollout's step in progress.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<StepMark>,
}

/// Which step of a staged rollout an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StepMark {
    /// The step, 1-based.
    pub step: u32,
    /// How many steps the rollout has.
    pub of: u32,
}

/// How a gate ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum GateResult {
    /// Rolled out.
    Healthy {
        /// Summary of the final status.
        message: String,
        /// How long it took.
        #[serde(rename = "elapsed_seconds", serialize_with = "seconds")]
        elapsed: Duration,
    },
    /// Failed: a terminal pod problem that outlasted the grace period, a failed Job, a deleted
    /// object or an invalid `ferry.dev/*` annotation.
    Failed {
        /// `ImagePullBackOff`, `CrashLoopBackOff`, `Unschedulable`, `BackoffLimitExceeded`…
        reason: String,
        /// Full explanation, naming pod and node when there is one.
        message: String,
        /// The failing pod, when a pod is to blame.
        pod: Option<String>,
        /// Its node, when it has one.
        node: Option<String>,
        /// Time until the failure was decided.
        #[serde(rename = "elapsed_seconds", serialize_with = "seconds")]
        elapsed: Duration,
    },
    /// Not waited for (OnDelete with policy `skip`, a suspended Job).
    Skipped {
        /// Why.
        reason: String,
    },
    /// Neither healthy nor failed within the timeout.
    TimedOut {
        /// The last progress message (and the last problem or error seen).
        message: String,
        /// The timeout that ran out.
        #[serde(rename = "elapsed_seconds", serialize_with = "seconds")]
        elapsed: Duration,
    },
    /// A newer commit arrived while waiting; the wait was cancelled so it can be synced.
    Superseded {
        /// The newer commit (sha).
        by: String,
        /// The last progress message before the wait stopped.
        message: String,
        /// How long the gate had waited.
        #[serde(rename = "elapsed_seconds", serialize_with = "seconds")]
        elapsed: Duration,
    },
    /// The sync was cancelled while waiting (this replica lost the leader lease, or ferry is
    /// stopping): the wait stopped so nothing more is written.
    Interrupted {
        /// Why the sync was stopped.
        reason: String,
        /// The last progress message before the wait stopped.
        message: String,
        /// How long the gate had waited.
        #[serde(rename = "elapsed_seconds", serialize_with = "seconds")]
        elapsed: Duration,
    },
}

impl GateResult {
    /// How the gate ended (`healthy: …`, `failed: …`, `superseded by abc1234 after 3s: …`).
    pub fn text(&self) -> String {
        match self {
            GateResult::Healthy { message, .. } => format!("healthy: {message}"),
            GateResult::Failed {
                reason, message, ..
            } if !message.contains(reason.as_str()) => format!("failed: {reason}: {message}"),
            GateResult::Failed { message, .. } => format!("failed: {message}"),
            GateResult::Skipped { reason } => format!("skipped: {reason}"),
            GateResult::TimedOut { message, elapsed } => {
                format!("timed out after {}s: {message}", elapsed.as_secs())
            }
            GateResult::Superseded {
                by,
                message,
                elapsed,
            } => format!(
                "superseded by {} after {}s: {message}",
                short_sha(by),
                elapsed.as_secs()
            ),
            GateResult::Interrupted {
                reason,
                message,
                elapsed,
            } => format!(
                "interrupted after {}s: {reason}: {message}",
                elapsed.as_secs()
            ),
        }
    }
}

/// The outcome of one gate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateOutcome {
    /// Which workload.
    pub target: GateTarget,
    /// How it ended.
    #[serde(flatten)]
    pub result: GateResult,
    /// DaemonSet/StatefulSet: the `revision` number of the ControllerRevision of the current
    /// template (DaemonSet: the highest revision it owns; StatefulSet: `status.updateRevision`).
    pub revision: Option<i64>,
    /// A staged rollout's steps, in order (empty when not staged).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepOutcome>,
}

impl GateOutcome {
    /// True for `Failed` and `TimedOut`: the rollout failed and the sync should stop. A
    /// superseded gate also stops the sync, but says nothing about the rollout's health.
    pub fn is_failure(&self) -> bool {
        matches!(
            self.result,
            GateResult::Failed { .. } | GateResult::TimedOut { .. }
        )
    }

    /// How long the gate waited (none for a skipped gate).
    pub fn elapsed(&self) -> Option<Duration> {
        match &self.result {
            GateResult::Healthy { elapsed, .. }
            | GateResult::Failed { elapsed, .. }
            | GateResult::TimedOut { elapsed, .. }
            | GateResult::Superseded { elapsed, .. }
            | GateResult::Interrupted { elapsed, .. } => Some(*elapsed),
            GateResult::Skipped { .. } => None,
        }
    }

    /// How the gate ended, without naming the workload (`failed: …`).
    pub fn result_text(&self) -> String {
        self.result.text()
    }

    /// The newer commit, when this gate stopped waiting because of it.
    pub fn superseded_by(&self) -> Option<&str> {
        match &self.result {
            GateResult::Superseded { by, .. } => Some(by),
            _ => None,
        }
    }

    /// Why the sync was stopped, when this gate's wait was interrupted.
    pub fn interrupted(&self) -> Option<&str> {
        match &self.result {
            GateResult::Interrupted { reason, .. } => Some(reason),
            _ => None,
        }
    }

    /// One line: `DaemonSet ns/name: failed: …`.
    pub fn summary(&self) -> String {
        format!("{}: {}", self.target, self.result_text())
    }
}

/// Everything that can go wrong in this module.
#[derive(Debug, thiserror::Error)]
pub enum RolloutError {
    /// A `ferry.dev/*` annotation with a value that cannot be used.
    #[error("annotation {annotation}: invalid value {value:?} (expected {expected})")]
    InvalidAnnotation {
        /// The annotation key.
        annotation: String,
        /// The value found.
        value: String,
        /// What would have been accepted.
        expected: String,
    },
    /// The API server does not serve the workload's kind.
    #[error("the API server does not serve {0}")]
    NotServed(String),
    /// Talking to the cluster failed.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// An object the cluster returned does not parse as its Kubernetes type.
    #[error("{what}: the API server's object does not parse: {source}")]
    Decode {
        /// Which object ("DaemonSet logging/fluentd", "pods of StatefulSet db/web").
        what: String,
        /// What serde said.
        #[source]
        source: serde_json::Error,
    },
}

pub(crate) fn seconds<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 10.0).round() / 10.0)
}

#[cfg(test)]
mod tests;
