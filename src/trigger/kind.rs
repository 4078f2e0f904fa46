//! What asks an app's loop for a sync ([`TriggerKind`]), and what started a sync as its
//! history record names it ([`SyncTrigger`]).

use std::fmt;

use serde::{Deserialize, Serialize};

/// What asked for a sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TriggerKind {
    /// The poll interval elapsed.
    Poll,
    /// A forge webhook (which forge).
    Webhook(String),
    /// `POST /api/apps/<app>/sync` or `ferry sync --app` against the server.
    Manual,
    /// A manual sync that overrides the app's sync windows (`?forceWindow=true`).
    ManualForce,
    /// A local repository changed on disk.
    Watch,
    /// A managed object was changed or deleted outside ferry (live-object watch): check
    /// drift now rather than at the next poll.
    Drift,
    /// `POST /api/apps/<app>/rollback` or the UI's "Roll back": revert this commit (sha; `None`:
    /// the newest change ferry synced) with a git revert and sync it, as `ferry rollback` does.
    Rollback(Option<String>),
}

impl TriggerKind {
    /// The trigger a sync it starts records (`poll`, `webhook`, `manual`, `watch`, `drift`):
    /// the forge and the window override are not recorded.
    pub fn sync_trigger(&self) -> SyncTrigger {
        match self {
            TriggerKind::Poll => SyncTrigger::Poll,
            TriggerKind::Webhook(_) => SyncTrigger::Webhook,
            TriggerKind::Manual | TriggerKind::ManualForce => SyncTrigger::Manual,
            TriggerKind::Watch => SyncTrigger::Watch,
            TriggerKind::Drift => SyncTrigger::Drift,
            TriggerKind::Rollback(_) => SyncTrigger::Rollback,
        }
    }
}

/// What started a sync, as its history record stores it (the `trigger` field) and as
/// `/metrics` and `/api/apps` count trigger requests. The wire names are stable: records
/// already stored must read, so never rename one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyncTrigger {
    /// `ferry sync`, or a manual request to the server (`manual`).
    Manual,
    /// The poll interval (`poll`).
    Poll,
    /// A forge webhook (`webhook`).
    Webhook,
    /// A file change in a local repository (`watch`).
    Watch,
    /// A live-object change, when the branch had moved too (`drift`).
    Drift,
    /// Drift corrected by re-applying the synced commit (`self-heal`).
    SelfHeal,
    /// The revert written by `ferry rollback` (`rollback`).
    Rollback,
    /// The revert written by `failurePolicy: revert` (`revert-policy`).
    RevertPolicy,
    /// The last good commit, applied when the policy's revert could not be pushed
    /// (`revert-fallback`); that sync is not a change of its own.
    RevertFallback,
    /// A name this ferry does not know (written by another version); kept as written.
    #[serde(untagged)]
    Other(String),
}

impl SyncTrigger {
    /// The wire name (`manual`, `self-heal`, …), as stored and shown.
    pub fn as_str(&self) -> &str {
        match self {
            SyncTrigger::Manual => "manual",
            SyncTrigger::Poll => "poll",
            SyncTrigger::Webhook => "webhook",
            SyncTrigger::Watch => "watch",
            SyncTrigger::Drift => "drift",
            SyncTrigger::SelfHeal => "self-heal",
            SyncTrigger::Rollback => "rollback",
            SyncTrigger::RevertPolicy => "revert-policy",
            SyncTrigger::RevertFallback => "revert-fallback",
            SyncTrigger::Other(name) => name,
        }
    }
}

impl fmt::Display for SyncTrigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
#[path = "kind_tests.rs"]
mod tests;
