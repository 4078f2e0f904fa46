//! The shape of one sync record, as stored (camelCase JSON).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::values::{GateVerdict, RecordedAction, RecordedResult};
use crate::source::{short_sha, CommitInfo};
use crate::trigger::SyncTrigger;

/// One sync of one app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncRecord {
    /// The app synced.
    pub app: String,
    /// Per-app sequence number, increasing from 1.
    pub seq: u64,
    /// The commit synced.
    pub commit: CommitRecord,
    /// What started the sync: `manual`, `poll`, `webhook`, `watch`, `rollback`,
    /// `revert-policy`, …
    pub trigger: SyncTrigger,
    /// When the sync began.
    pub started_at: DateTime<Utc>,
    /// When it ended; `None` while in progress (or when ferry stopped mid-sync).
    #[serde(default)]
    pub finished_at: Option<DateTime<Utc>>,
    /// How it ended.
    pub outcome: SyncOutcome,
    /// Per-object action and results, in plan order.
    #[serde(default)]
    pub objects: Vec<ObjectRecord>,
    /// The seq of the (newest) sync of the commit this commit reverts, when history has it.
    #[serde(default)]
    pub reverts_seq: Option<u64>,
    /// The last sign of life of the ferry running this sync (renewed every
    /// [`HEARTBEAT_INTERVAL`](super::HEARTBEAT_INTERVAL) while it runs). Records written
    /// before heartbeats existed have none; their start time stands in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_at: Option<DateTime<Utc>>,
    /// The ferry that ran the sync: the `ferry serve` replica's identity (`--identity`,
    /// `$POD_NAME`, else hostname-pid), or `ferry sync` on hostname-pid. Older records have
    /// none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synced_by: Option<String>,
}

/// The commit a sync applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitRecord {
    /// Full hex sha.
    pub sha: String,
    /// The first 7 hex digits.
    pub short_sha: String,
    /// Author name.
    pub author: String,
    /// Author email.
    pub email: String,
    /// Commit time.
    pub time: DateTime<Utc>,
    /// First line of the message.
    pub subject: String,
    /// The sha named by `This reverts commit <sha>`, when the commit is a revert.
    #[serde(default)]
    pub reverts: Option<String>,
}

impl From<&CommitInfo> for CommitRecord {
    fn from(commit: &CommitInfo) -> CommitRecord {
        CommitRecord {
            sha: commit.sha.clone(),
            short_sha: commit.short_sha().to_string(),
            author: commit.author.clone(),
            email: commit.email.clone(),
            time: commit.time,
            subject: commit.subject.clone(),
            reverts: commit.reverts.clone(),
        }
    }
}

/// How a sync ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum SyncOutcome {
    /// Everything applied and every gate passed.
    Succeeded,
    /// The sync stopped on an error (apply failure, API error…).
    Failed {
        /// Why.
        reason: String,
    },
    /// A rollout gate failed; later waves did not run.
    GateFailed {
        /// The object whose gate failed, e.g. `DaemonSet logging/fluentd`.
        object: String,
        /// The gate's reason, e.g. `ImagePullBackOff on pod … (node …)`.
        reason: String,
    },
    /// A newer commit arrived while this sync's gates were waiting; the wait was cancelled
    /// (later waves and pruning skipped) and the newer commit synced next.
    Superseded {
        /// The newer commit (sha).
        #[serde(default)]
        by: String,
    },
    /// The commit was rejected before anything was applied (parse, validation, dry-run).
    Invalid {
        /// Why.
        reason: String,
    },
    /// The sync was stopped before it ended: its ferry lost the leader lease or was stopped
    /// (SIGTERM), or was killed and stopped renewing the record's heartbeat.
    Interrupted {
        /// Why, e.g. `lost the leader lease (the lease is now held by b)`.
        #[serde(default)]
        reason: String,
    },
    /// Still running, or ferry stopped before recording the end.
    InProgress,
}

impl SyncOutcome {
    /// A short lowercase word for tables: `succeeded`, `failed`, `gate-failed`, …
    pub fn label(&self) -> &'static str {
        match self {
            SyncOutcome::Succeeded => "succeeded",
            SyncOutcome::Failed { .. } => "failed",
            SyncOutcome::GateFailed { .. } => "gate-failed",
            SyncOutcome::Superseded { .. } => "superseded",
            SyncOutcome::Invalid { .. } => "invalid",
            SyncOutcome::Interrupted { .. } => "interrupted",
            SyncOutcome::InProgress => "in-progress",
        }
    }

    /// The outcome with its reason, for detail views.
    pub fn describe(&self) -> String {
        match self {
            SyncOutcome::Failed { reason }
            | SyncOutcome::Invalid { reason }
            | SyncOutcome::Interrupted { reason }
                if !reason.is_empty() =>
            {
                format!("{}: {reason}", self.label())
            }
            SyncOutcome::GateFailed { object, reason } => {
                format!("{}: {object}: {reason}", self.label())
            }
            SyncOutcome::Superseded { by } if !by.is_empty() => {
                format!("superseded by {}", short_sha(by))
            }
            other => other.label().to_string(),
        }
    }
}

/// What happened to one object in a sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRecord {
    /// Kind, e.g. `DaemonSet`.
    pub kind: String,
    /// Namespace; `None` for cluster-scoped objects.
    #[serde(default)]
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
    /// Planned action: `create`, `update`, `recreate`, `prune`, `orphan`, `unchanged`,
    /// `invalid`.
    pub action: RecordedAction,
    /// Result: `applied`, `failed`, `skipped`, `healthy`, `completed`, …
    pub result: RecordedResult,
    /// The server's or ferry's message for a failed, skipped, kept or invalid object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The gate's verdict, e.g. `healthy: 3/3 nodes updated and available` or
    /// `failed: ImagePullBackOff …`.
    #[serde(default)]
    pub gate: Option<GateVerdict>,
    /// The ControllerRevision number the sync produced (DaemonSet / StatefulSet).
    #[serde(default)]
    pub revision: Option<i64>,
    /// [`job_spec_hash`](super::job_spec_hash) of the Job's spec in git (Jobs only).
    #[serde(default)]
    pub spec_hash: Option<String>,
    /// A staged rollout's steps, in order (absent when it was not staged).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<RecordedStep>,
}

/// How one step of a staged rollout ended, as history stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedStep {
    /// The step, 1-based.
    pub step: u32,
    /// How many steps the rollout had.
    pub of: u32,
    /// What it covered: `ordinals 4`, `canary nodes kwok-worker-1`.
    pub covers: String,
    /// `healthy`, `failed`, `timed-out`, `superseded`, `interrupted`, `done-earlier`.
    pub result: String,
    /// How long it took, in milliseconds (soak included).
    pub millis: u64,
}

impl std::fmt::Display for RecordedStep {
    /// `step 1/3 (ordinals 4): healthy, 12.0s`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "step {}/{} ({}): {}, {:.1}s",
            self.step,
            self.of,
            self.covers,
            self.result,
            self.millis as f64 / 1000.0
        )
    }
}

impl ObjectRecord {
    /// A record with no message, gate, revision or spec hash.
    pub fn new(
        kind: impl Into<String>,
        namespace: Option<String>,
        name: impl Into<String>,
        action: RecordedAction,
        result: RecordedResult,
    ) -> ObjectRecord {
        ObjectRecord {
            kind: kind.into(),
            namespace,
            name: name.into(),
            action,
            result,
            message: None,
            gate: None,
            revision: None,
            spec_hash: None,
            steps: Vec::new(),
        }
    }

    /// True when this names the object `kind` `namespace`/`name`.
    pub fn is(&self, kind: &str, namespace: Option<&str>, name: &str) -> bool {
        self.kind == kind && self.namespace.as_deref() == namespace && self.name == name
    }

    /// Records how the object's gate ended. A passed gate sets the result to `completed`
    /// for Jobs and `healthy` otherwise, a failed one to `gate-failed`; a skipped, superseded
    /// or interrupted gate leaves the apply result.
    pub fn record_gate(&mut self, verdict: GateVerdict) {
        match &verdict {
            GateVerdict::Passed(_) if self.kind == "Job" => self.result = RecordedResult::Completed,
            GateVerdict::Passed(_) => self.result = RecordedResult::Healthy,
            GateVerdict::Failed(_) => self.result = RecordedResult::GateFailed,
            GateVerdict::Skipped(_) | GateVerdict::Superseded(_) | GateVerdict::Interrupted(_) => {}
        }
        self.gate = Some(verdict);
    }

    /// Records a passed gate: result `completed` for Jobs, `healthy` otherwise.
    pub fn gate_passed(&mut self, detail: impl Into<String>) {
        self.record_gate(GateVerdict::Passed(detail.into()));
    }

    /// Records a failed gate: result `gate-failed`, gate `failed: <reason>`.
    pub fn gate_failed(&mut self, reason: impl Into<String>) {
        self.record_gate(GateVerdict::Failed(reason.into()));
    }

    /// `kind/name` with a short kind (`ds/fluentd`), as in revision summaries.
    pub fn short_ref(&self) -> String {
        format!("{}/{}", short_kind(&self.kind), self.name)
    }
}

/// kubectl's short name for common kinds; the lowercase kind otherwise.
pub(crate) fn short_kind(kind: &str) -> String {
    match kind {
        "DaemonSet" => "ds".into(),
        "StatefulSet" => "sts".into(),
        "Deployment" => "deploy".into(),
        "ReplicaSet" => "rs".into(),
        "ConfigMap" => "cm".into(),
        "Service" => "svc".into(),
        "ServiceAccount" => "sa".into(),
        "Namespace" => "ns".into(),
        "CronJob" => "cj".into(),
        "PersistentVolumeClaim" => "pvc".into(),
        other => other.to_ascii_lowercase(),
    }
}

impl SyncRecord {
    /// A new in-progress record of `commit`, started now.
    pub fn new(app: &str, seq: u64, commit: &CommitInfo, trigger: SyncTrigger) -> SyncRecord {
        SyncRecord {
            app: app.to_string(),
            seq,
            commit: CommitRecord::from(commit),
            trigger,
            started_at: Utc::now(),
            finished_at: None,
            outcome: SyncOutcome::InProgress,
            objects: Vec::new(),
            reverts_seq: None,
            heartbeat_at: None,
            synced_by: None,
        }
    }

    /// When the ferry running this sync was last known alive: its heartbeat, else its start.
    pub fn last_sign_of_life(&self) -> DateTime<Utc> {
        self.heartbeat_at
            .map_or(self.started_at, |beat| beat.max(self.started_at))
    }

    /// True for an in-progress record whose ferry has shown no sign of life for longer than
    /// `stale_after` at `now`: it was killed, and the record will never be finished by it.
    pub fn is_stale(&self, now: DateTime<Utc>, stale_after: chrono::Duration) -> bool {
        self.outcome == SyncOutcome::InProgress && now - self.last_sign_of_life() > stale_after
    }

    /// Sets the outcome and the end time (now). Write it with
    /// [`History::finish`](super::History::finish).
    pub fn complete(&mut self, outcome: SyncOutcome) {
        self.outcome = outcome;
        self.finished_at = Some(Utc::now());
    }

    /// How long the sync took; `None` while unfinished.
    pub fn duration(&self) -> Option<chrono::Duration> {
        self.finished_at.map(|end| end - self.started_at)
    }

    /// The object `kind` `namespace`/`name`, to record its gate or revision.
    pub fn object_mut(
        &mut self,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<&mut ObjectRecord> {
        self.objects
            .iter_mut()
            .find(|o| o.is(kind, namespace, name))
    }

    /// Revision numbers recorded in this sync, like `["ds/fluentd=3", "sts/web=2"]`.
    pub fn revisions(&self) -> Vec<String> {
        self.objects
            .iter()
            .filter_map(|o| o.revision.map(|r| format!("{}={r}", o.short_ref())))
            .collect()
    }
}

#[cfg(test)]
#[path = "record_tests.rs"]
pub(crate) mod tests;
