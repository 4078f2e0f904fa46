//! Stage 3 of the pipeline: what applying a commit would change.
//!
//! Input: a resolved [`Bundle`](crate::manifest::Bundle) and the live objects of the app.
//! Output: a [`Plan`], one [`Change`] per object — create, update (with a structured field
//! diff), recreate (with the reason), prune, unchanged, or invalid (the server rejected the
//! dry-run) — ordered into waves. The comparison is the server-side-apply **dry-run** result
//! against the live object, both normalised, so defaulted fields never show as drift. A cheap
//! local check skips the dry-run when every field ferry sets already has its value live and
//! ferry owns nothing it no longer sets. Objects of a kind that a CustomResourceDefinition of
//! the same commit defines cannot be dry-run yet: they are planned as creates without one (and
//! [`Change::kind`] left empty for apply to resolve). Objects no longer in git are pruned only
//! when ferry applied them and owns them ([`guard`]); a plan that would prune all or more than
//! the app's `pruneGuard` share carries a [`Plan::refusal`] and is applied not at all; an
//! object git wants that another ferry app or install manages makes the plan invalid unless
//! `--take-over`. Nothing here writes to the cluster.
//!
//! Two phases: [`read_live`] makes every read (behind [`LiveReads`], which
//! [`Cluster`](crate::cluster::Cluster) implements) into a [`LiveSnapshot`]; [`decide`] turns
//! bundle + snapshot + [`PlanOptions`] into the plan without any I/O. [`build_plan`] runs both.

mod bookkeeping;
mod build;
mod decide;
#[cfg(test)]
mod fixtures;
pub mod guard;
mod object;
mod project;
mod prune;
mod reads;
mod replace;
mod snapshot;
mod stage_spec;
pub mod staged;

pub use bookkeeping::{
    with_bookkeeping, CHANGE_CAUSE_ANNOTATION, COMMIT_ANNOTATION, PRUNE_ANNOTATION,
};
pub use build::{build_plan, inventory_selector, PlanInput};
pub use decide::{decide, PlanOptions};
pub use reads::{read_live, LiveReads};
pub use replace::{DELETE_PROPAGATION_ANNOTATION, REPLACE_ANNOTATION};
pub use snapshot::{DryRun, LiveSnapshot, ObjectReads};

use serde::Serialize;
use serde_json::Value;

use crate::cluster::{ClusterError, ServedKind};
use crate::diff::FieldChange;
use crate::manifest::{ObjectKey, Origin};
use crate::source::CommitInfo;

/// What ferry will do to one object.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum Action {
    /// The object does not exist yet.
    Create,
    /// The object exists and differs from git.
    Update,
    /// The object must be deleted and created again (e.g. a Job's template is immutable).
    Recreate {
        /// Why an in-place update is impossible.
        reason: String,
    },
    /// The object is in the app's inventory but no longer in git; it will be deleted.
    Prune,
    /// No longer in git, but kept: pruning is off for the app or for this object.
    Orphan {
        /// Why it is kept.
        reason: String,
    },
    /// Live state already matches git.
    Unchanged,
    /// The API server rejected the object (validation, immutable field…); nothing can be applied.
    Invalid {
        /// The server's message.
        message: String,
    },
}

impl Action {
    /// True when the action writes to the cluster.
    pub fn is_change(&self) -> bool {
        matches!(
            self,
            Action::Create | Action::Update | Action::Recreate { .. } | Action::Prune
        )
    }

    /// A short verb for tables.
    pub fn verb(&self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Recreate { .. } => "recreate",
            Action::Prune => "prune",
            Action::Orphan { .. } => "orphan",
            Action::Unchanged => "unchanged",
            Action::Invalid { .. } => "invalid",
        }
    }
}

/// One object's entry in a plan.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// Which object.
    pub key: ObjectKey,
    /// Where it is defined in git (none for prunes).
    pub origin: Option<Origin>,
    /// The wave it is applied in.
    pub wave: i32,
    /// What will happen.
    #[serde(flatten)]
    pub action: Action,
    /// Field-level differences (Secret values masked).
    pub fields: Vec<FieldChange>,
    /// Live object, normalised and masked (for the unified diff).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// Object after the change, normalised and masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    /// What apply sends: the manifest plus ferry's labels and annotations. Never printed.
    #[serde(skip)]
    pub desired: Option<Value>,
    /// The served kind, for apply and prune.
    #[serde(skip)]
    pub kind: Option<ServedKind>,
    /// Something the reader should know about this entry (e.g. why it was not dry-run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The live object's uid (prunes): the delete's precondition, so an object recreated
    /// since the plan was read is never deleted by name.
    #[serde(skip)]
    pub uid: Option<String>,
    /// Delete without cascading to dependents (`propagationPolicy: Orphan`): a prune or a
    /// recreate whose object asked to keep its pods ([`REPLACE_ANNOTATION`],
    /// [`DELETE_PROPAGATION_ANNOTATION`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub keep_dependents: bool,
    /// A DaemonSet or StatefulSet update rolled out in steps ([`staged`]), or the release of
    /// what an earlier staged rollout held.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub staging: Option<staged::Staging>,
}

/// The whole plan for one commit of one app.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The app's name (inventory label value).
    pub app: String,
    /// The commit planned.
    pub commit: CommitInfo,
    /// Every object, sorted by wave, then as written in git; prunes last.
    pub changes: Vec<Change>,
    /// Cost of building the plan.
    pub stats: PlanStats,
    /// The app's inventory record (kinds, source) as read for this plan, so a sync compares
    /// against it without reading it again.
    #[serde(skip)]
    pub recorded: crate::cluster::InventoryRecord,
    /// Set when the prune guard refuses this plan's prunes: then nothing of it is applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<guard::PruneRefusal>,
    /// The renderer that produced the manifests (Kustomize or Helm), when the app uses one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rendered: Option<crate::render::RenderInfo>,
}

/// How much work the plan took.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PlanStats {
    /// GET/LIST/discovery requests.
    pub reads: u64,
    /// Server-side dry-run applies.
    pub dry_runs: u64,
    /// Objects the local check proved unchanged without a dry-run.
    pub skipped_dry_runs: u64,
    /// Wall time in milliseconds (fetch, parse, discovery and planning).
    pub elapsed_ms: u64,
}

impl Plan {
    /// True when applying would write anything.
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action.is_change())
    }

    /// The entries the server rejected.
    pub fn invalid(&self) -> impl Iterator<Item = &Change> {
        self.changes
            .iter()
            .filter(|c| matches!(c.action, Action::Invalid { .. }))
    }

    /// Count of entries per verb, in display order.
    pub fn summary(&self) -> Vec<(&'static str, usize)> {
        let verbs = [
            "create",
            "update",
            "recreate",
            "prune",
            "unchanged",
            "orphan",
            "invalid",
        ];
        verbs
            .iter()
            .map(|v| {
                (
                    *v,
                    self.changes
                        .iter()
                        .filter(|c| c.action.verb() == *v)
                        .count(),
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}

/// Everything that can go wrong while planning.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// Reading live state failed.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// A kind in the bundle was not resolved before planning (a bug in the caller).
    #[error("kind {0} was not resolved against the cluster before planning")]
    UnresolvedKind(String),
    /// A decision needs a read the read phase did not make (a bug in the read phase).
    #[error("planning needs a read that was not made: {0}")]
    Unread(String),
}
