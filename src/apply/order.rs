//! What apply decides, apart from doing it: whether a plan may be applied at all, the order of
//! waves and prunes, how each object is written (in place or recreated), what is skipped once
//! something stopped the sync, and which outcome each API result means. Pure and unit-tested;
//! [`execute`](super::execute) runs it against the cluster.

use super::{ApplyError, ObjectResult, Outcome};
use crate::cluster::{ClusterError, DeleteOutcome};
use crate::plan::{Action, Change, Plan};

/// Formats an entry as "Kind ns/name (file:line)".
fn describe(change: &Change) -> String {
    match &change.origin {
        Some(o) => format!("{} ({o})", change.key),
        None => change.key.to_string(),
    }
}

/// Refuses a plan before any write: one with an object the server rejected, one the prune
/// guard refused, or one missing what apply needs for an entry (a bug in plan).
pub(super) fn check(plan: &Plan) -> Result<(), ApplyError> {
    let invalid: Vec<String> = plan
        .invalid()
        .map(|c| match &c.action {
            Action::Invalid { message } => format!("  {}: {message}", describe(c)),
            _ => describe(c),
        })
        .collect();
    if !invalid.is_empty() {
        return Err(ApplyError::InvalidPlan(invalid));
    }
    if let Some(refusal) = &plan.refusal {
        return Err(ApplyError::PruneRefused(refusal.clone()));
    }
    for change in &plan.changes {
        let needs_object = matches!(
            change.action,
            Action::Create | Action::Update | Action::Recreate { .. }
        );
        // A create without a kind waits for a CRD of the same plan (resolved when applied).
        let kind_later = matches!(change.action, Action::Create);
        if (needs_object && change.desired.is_none())
            || (change.action.is_change() && change.kind.is_none() && !kind_later)
        {
            return Err(ApplyError::Incomplete(change.key.to_string()));
        }
    }
    Ok(())
}

/// A plan's entries in the order apply takes them.
pub(super) struct Schedule<'p> {
    /// Waves in ascending order, each with its entries in plan order (no prunes, no kept).
    pub waves: Vec<(i32, Vec<&'p Change>)>,
    /// Prunes and kept objects, after every wave: highest wave first (workloads before the
    /// namespaces they live in), plan order within a wave.
    pub prunes: Vec<&'p Change>,
}

fn is_prune(change: &Change) -> bool {
    matches!(change.action, Action::Prune | Action::Orphan { .. })
}

/// Orders a plan's entries into waves, then prunes.
pub(super) fn schedule(plan: &Plan) -> Schedule<'_> {
    let mut waves: Vec<i32> = plan
        .changes
        .iter()
        .filter(|c| !is_prune(c))
        .map(|c| c.wave)
        .collect();
    waves.sort_unstable();
    waves.dedup();
    let waves = waves
        .into_iter()
        .map(|wave| {
            let members = plan
                .changes
                .iter()
                .filter(|c| c.wave == wave && !is_prune(c))
                .collect();
            (wave, members)
        })
        .collect();
    let mut prunes: Vec<&Change> = plan.changes.iter().filter(|c| is_prune(c)).collect();
    prunes.sort_by_key(|c| std::cmp::Reverse(c.wave));
    Schedule { waves, prunes }
}

/// How apply writes one entry of a wave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Write {
    /// Nothing to write (unchanged).
    Nothing,
    /// Server-side apply in place (a create or an update).
    Apply,
    /// Delete (foreground), wait until it is gone, then apply: a Job's immutable spec changed.
    Recreate,
}

/// How `change` is written.
pub(super) fn write_of(change: &Change) -> Write {
    match (&change.action, &change.desired) {
        (_, None) => Write::Nothing,
        (Action::Recreate { .. }, Some(_)) => Write::Recreate,
        (_, Some(_)) => Write::Apply,
    }
}

/// The outcome of a successful write of `change`.
pub(super) fn written(change: &Change) -> Outcome {
    match change.action {
        Action::Create => Outcome::Created,
        Action::Update => Outcome::Updated,
        Action::Recreate { .. } => Outcome::Recreated,
        _ => Outcome::Unchanged,
    }
}

/// What happens to a prune-or-keep entry, given why the sync stopped (if it did).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum PruneStep {
    /// Kept, as the plan decided (even after a failure).
    Keep(String),
    /// Not deleted: an earlier wave failed, a gate halted, or the sync was interrupted.
    Skip(String),
    /// Delete it (by uid).
    Delete,
}

/// Decides one prune-or-keep entry.
pub(super) fn prune_step(change: &Change, halted: Option<&str>) -> PruneStep {
    match (&change.action, halted) {
        (Action::Orphan { reason }, _) => PruneStep::Keep(reason.clone()),
        (_, Some(reason)) => PruneStep::Skip(reason.to_string()),
        (_, None) => PruneStep::Delete,
    }
}

/// The outcome of a prune's delete.
pub(super) fn pruned(result: Result<DeleteOutcome, ClusterError>) -> Outcome {
    match result {
        Ok(DeleteOutcome::Deleted | DeleteOutcome::Gone) => Outcome::Pruned,
        Ok(DeleteOutcome::Replaced) => Outcome::Kept(
            "deleted and created again since the plan read it (another uid); left alone".into(),
        ),
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

/// One entry's result.
pub(super) fn result(
    change: &Change,
    outcome: Outcome,
    live: Option<serde_json::Value>,
) -> ObjectResult {
    ObjectResult {
        key: change.key.clone(),
        origin: change.origin.clone(),
        wave: change.wave,
        outcome,
        live,
    }
}

/// The result of an entry not attempted because the sync stopped (`reason`): skipped when it
/// would have written, unchanged when there was nothing to write anyway.
pub(super) fn skipped(change: &Change, reason: &str) -> ObjectResult {
    let outcome = if change.action.is_change() {
        Outcome::Skipped(reason.to_string())
    } else {
        Outcome::Unchanged
    };
    result(change, outcome, None)
}

#[cfg(test)]
#[path = "order_tests.rs"]
mod tests;
