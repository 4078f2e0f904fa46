//! What happened to a sync, as the notifications tell it.

use serde::{Deserialize, Serialize};

/// One event of one app's sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncEvent {
    /// The app.
    pub app: String,
    /// The commit being synced (full sha).
    pub commit: String,
    /// Its history record's sequence number, when it has one.
    pub seq: Option<u64>,
    /// What started the sync (`webhook`, `poll`, `manual`, `rollback`, …).
    pub trigger: String,
    /// What happened.
    pub kind: EventKind,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// The sync started applying; `summary` is the plan (`1 update, 3 unchanged`).
    Started {
        /// The plan in a few words.
        summary: String,
    },
    /// Everything applied and every rollout gate passed.
    Succeeded {
        /// The plan in a few words.
        summary: String,
    },
    /// The commit did not roll out: a gate failed or an object was rejected; `reason` names
    /// the first failing object (`DaemonSet logging/fluentd: failed: ImagePullBackOff …`).
    Failed {
        /// The first failing object and why.
        reason: String,
    },
    /// ferry could not sync the commit (invalid manifests, a render or inventory error).
    Errored {
        /// Why.
        reason: String,
    },
    /// A newer commit cancelled the gate wait before this one's rollout was verified.
    Superseded {
        /// The newer commit.
        by: String,
    },
    /// The sync was stopped (shutdown, lease lost) before it ended.
    Interrupted {
        /// Why.
        reason: String,
    },
    /// ferry wrote `revert`, the revert of `reverted`, and synced it.
    RolledBack {
        /// The commit rolled back.
        reverted: String,
        /// The revert commit.
        revert: String,
    },
}

/// The event names a webhook subscribes to (`events:` in `ferry.yaml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum EventName {
    /// `sync.started`
    Started,
    /// `sync.succeeded`
    Succeeded,
    /// `sync.failed` (failed, errored, interrupted)
    Failed,
    /// `sync.superseded`
    Superseded,
    /// `sync.rolledBack`
    RolledBack,
}

impl EventName {
    /// Every event.
    pub const ALL: [EventName; 5] = [
        EventName::Started,
        EventName::Succeeded,
        EventName::Failed,
        EventName::Superseded,
        EventName::RolledBack,
    ];

    /// The wire name (`X-Ferry-Event`, the body's `event`).
    pub fn wire(self) -> &'static str {
        match self {
            EventName::Started => "sync.started",
            EventName::Succeeded => "sync.succeeded",
            EventName::Failed => "sync.failed",
            EventName::Superseded => "sync.superseded",
            EventName::RolledBack => "sync.rolledBack",
        }
    }
}

/// A commit status in ferry's words; each forge has its own names for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusState {
    /// The sync is running.
    Pending,
    /// Synced and healthy.
    Success,
    /// The commit did not roll out.
    Failure,
    /// ferry could not sync it.
    Error,
    /// Stopped before the verdict (superseded, interrupted).
    Cancelled,
}

impl StatusState {
    /// The word used in ferry's own webhook body.
    pub fn name(self) -> &'static str {
        match self {
            StatusState::Pending => "pending",
            StatusState::Success => "success",
            StatusState::Failure => "failure",
            StatusState::Error => "error",
            StatusState::Cancelled => "cancelled",
        }
    }
}

impl EventKind {
    /// The webhook event name.
    pub fn name(&self) -> EventName {
        match self {
            EventKind::Started { .. } => EventName::Started,
            EventKind::Succeeded { .. } => EventName::Succeeded,
            EventKind::Failed { .. }
            | EventKind::Errored { .. }
            | EventKind::Interrupted { .. } => EventName::Failed,
            EventKind::Superseded { .. } => EventName::Superseded,
            EventKind::RolledBack { .. } => EventName::RolledBack,
        }
    }

    /// The outcome word of the webhook body (`failed`, `error`, `interrupted`, …).
    pub fn outcome(&self) -> &'static str {
        match self {
            EventKind::Started { .. } => "started",
            EventKind::Succeeded { .. } => "succeeded",
            EventKind::Failed { .. } => "failed",
            EventKind::Errored { .. } => "error",
            EventKind::Superseded { .. } => "superseded",
            EventKind::Interrupted { .. } => "interrupted",
            EventKind::RolledBack { .. } => "rolledBack",
        }
    }

    /// The commit status this event sets, with its description; `None` for an event that
    /// sets none (a rollback: the revert commit's own sync sets its status).
    pub fn status(&self) -> Option<(StatusState, String)> {
        Some(match self {
            EventKind::Started { summary } => (StatusState::Pending, format!("syncing: {summary}")),
            EventKind::Succeeded { summary } => (
                StatusState::Success,
                format!("synced and healthy: {summary}"),
            ),
            EventKind::Failed { reason } => (StatusState::Failure, reason.clone()),
            EventKind::Errored { reason } => (StatusState::Error, format!("not synced: {reason}")),
            EventKind::Superseded { by } => (
                StatusState::Cancelled,
                format!(
                    "superseded by {} before its rollout was verified",
                    short(by)
                ),
            ),
            EventKind::Interrupted { reason } => {
                (StatusState::Cancelled, format!("interrupted: {reason}"))
            }
            EventKind::RolledBack { .. } => return None,
        })
    }

    /// One line for a person (the Slack text, the webhook's `description`).
    pub fn describe(&self) -> String {
        match self {
            EventKind::RolledBack { reverted, revert } => {
                format!(
                    "rolled back {} with revert {}",
                    short(reverted),
                    short(revert)
                )
            }
            other => other.status().map(|(_, d)| d).unwrap_or_default(),
        }
    }
}

/// The first 12 characters of a sha.
pub(super) fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}
