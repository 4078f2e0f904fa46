//! The typed values of an object record's `action`, `result` and `gate` fields.
//!
//! Each is stored as the string ferry has always written (`"update"`, `"gate-failed"`,
//! `"failed: ImagePullBackOff …"`): records already in the cluster must read, so a wire name
//! never changes. A name this ferry does not know (written by another version) reads as
//! `Other` and is written back unchanged. `record_fixture_v1.json` pins the format.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The action planned for an object (the `action` field).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordedAction {
    /// Created (`create`).
    Create,
    /// Updated in place (`update`).
    Update,
    /// Deleted and created again (`recreate`).
    Recreate,
    /// Deleted, no longer in git (`prune`).
    Prune,
    /// No longer in git but kept (`orphan`).
    Orphan,
    /// Already as in git (`unchanged`).
    Unchanged,
    /// Rejected by the dry-run (`invalid`).
    Invalid,
    /// Applied without a plan entry, so the action is not known (`unknown`).
    Unknown,
    /// A name this ferry does not know; kept as written.
    #[serde(untagged)]
    Other(String),
}

impl RecordedAction {
    /// The wire name (`create`, `update`, …), as stored and shown.
    pub fn as_str(&self) -> &str {
        match self {
            RecordedAction::Create => "create",
            RecordedAction::Update => "update",
            RecordedAction::Recreate => "recreate",
            RecordedAction::Prune => "prune",
            RecordedAction::Orphan => "orphan",
            RecordedAction::Unchanged => "unchanged",
            RecordedAction::Invalid => "invalid",
            RecordedAction::Unknown => "unknown",
            RecordedAction::Other(name) => name,
        }
    }
}

/// What became of an object (the `result` field): its apply result, then its gate's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordedResult {
    /// Written by server-side apply: create, update, recreate, prune (`applied`).
    Applied,
    /// Nothing to write (`unchanged`).
    Unchanged,
    /// Not in git but kept, pruning off (`kept`).
    Kept,
    /// The API call failed (`failed`).
    Failed,
    /// Not attempted: an earlier wave failed or a gate stopped the sync (`skipped`).
    Skipped,
    /// Planned but not applied yet: the record was written when the sync began (`pending`).
    Pending,
    /// The API server rejected the object in the dry-run (`invalid`).
    Invalid,
    /// Its gate passed: the workload rolled out and is healthy (`healthy`).
    Healthy,
    /// Its gate passed: the Job completed (`completed`).
    Completed,
    /// Its gate failed (`gate-failed`).
    GateFailed,
    /// A name this ferry does not know; kept as written.
    #[serde(untagged)]
    Other(String),
}

impl RecordedResult {
    /// The wire name (`applied`, `gate-failed`, …), as stored and shown.
    pub fn as_str(&self) -> &str {
        match self {
            RecordedResult::Applied => "applied",
            RecordedResult::Unchanged => "unchanged",
            RecordedResult::Kept => "kept",
            RecordedResult::Failed => "failed",
            RecordedResult::Skipped => "skipped",
            RecordedResult::Pending => "pending",
            RecordedResult::Invalid => "invalid",
            RecordedResult::Healthy => "healthy",
            RecordedResult::Completed => "completed",
            RecordedResult::GateFailed => "gate-failed",
            RecordedResult::Other(name) => name,
        }
    }
}

/// How an object's rollout gate ended (the `gate` field), stored as one line of text.
///
/// The verdict is the text's prefix: `failed: <reason>`, `skipped: <reason>`,
/// `superseded <detail>`, `interrupted <detail>`; any other text is a passed gate, kept
/// verbatim (`healthy: 3/3 nodes updated and available`, `completed earlier`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum GateVerdict {
    /// Passed; the text says how (`healthy: …`, `completed earlier`).
    Passed(String),
    /// Failed or timed out, with the reason (stored as `failed: <reason>`).
    Failed(String),
    /// Not waited for, with the reason (stored as `skipped: <reason>`).
    Skipped(String),
    /// Stopped for a newer commit (stored as `superseded <detail>`, the detail being
    /// `by <short sha> after <n>s: <last progress>`).
    Superseded(String),
    /// Stopped because the sync was cancelled (stored as `interrupted <detail>`, the detail
    /// being `after <n>s: <why>: <last progress>`).
    Interrupted(String),
}

/// The prefixes that name a verdict, in the order they are tried.
const FAILED: &str = "failed: ";
const SKIPPED: &str = "skipped: ";
const SUPERSEDED: &str = "superseded ";
const INTERRUPTED: &str = "interrupted ";

impl From<String> for GateVerdict {
    fn from(text: String) -> GateVerdict {
        let after = |prefix: &str| text.strip_prefix(prefix).map(str::to_string);
        if let Some(reason) = after(FAILED) {
            GateVerdict::Failed(reason)
        } else if let Some(reason) = after(SKIPPED) {
            GateVerdict::Skipped(reason)
        } else if let Some(detail) = after(SUPERSEDED) {
            GateVerdict::Superseded(detail)
        } else if let Some(detail) = after(INTERRUPTED) {
            GateVerdict::Interrupted(detail)
        } else {
            GateVerdict::Passed(text)
        }
    }
}

impl From<GateVerdict> for String {
    fn from(verdict: GateVerdict) -> String {
        verdict.to_string()
    }
}

impl fmt::Display for GateVerdict {
    /// The stored text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GateVerdict::Passed(text) => f.write_str(text),
            GateVerdict::Failed(reason) => write!(f, "{FAILED}{reason}"),
            GateVerdict::Skipped(reason) => write!(f, "{SKIPPED}{reason}"),
            GateVerdict::Superseded(detail) => write!(f, "{SUPERSEDED}{detail}"),
            GateVerdict::Interrupted(detail) => write!(f, "{INTERRUPTED}{detail}"),
        }
    }
}

impl fmt::Display for RecordedAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for RecordedResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
#[path = "values_tests.rs"]
mod tests;
