//! Keeping the app's inventory record honest: which source it belongs to (so two apps that
//! derive the same name never share one inventory), and which kinds it still has objects of
//! (a kind leaves only once all of its prunes succeeded).

use std::collections::{BTreeSet, HashSet};

use super::{Engine, ReconcileError};
use crate::apply::{ApplyReport, Outcome};
use crate::cluster::InventoryRecord;
use crate::config::AppSpec;
use crate::manifest::{Gvk, ObjectKey};
use crate::plan::{Action, Plan};

/// Refuses to plan an app whose derived name is already recorded for another source: the two
/// would share one inventory label and prune each other's objects. A name given explicitly
/// (or `--take-over`) means the user moved the app on purpose; its source is then updated.
pub(super) fn check_source(
    app: &AppSpec,
    recorded: &InventoryRecord,
) -> Result<(), ReconcileError> {
    let source = app.source_identity();
    match &recorded.source {
        Some(other) if *other != source && app.name_derived && !app.take_over => {
            Err(ReconcileError::NameCollision {
                app: app.name.clone(),
                ours: source,
                theirs: other.clone(),
            })
        }
        Some(other) if *other != source => {
            tracing::info!(app = %app.name, from = %other, to = %source, "app source changed");
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Before anything is applied: adds every kind the plan touches to the app's inventory, so
/// objects of a new kind are found (and can be pruned) even when this sync is killed or
/// interrupted half-way. Returns the record as it now stands. Writes only on change.
pub(super) async fn widen_inventory(
    engine: &Engine,
    app: &AppSpec,
    plan: &Plan,
) -> Result<InventoryRecord, ReconcileError> {
    let mut record = InventoryRecord {
        kinds: plan.recorded.kinds.clone(),
        source: Some(app.source_identity()),
    };
    record
        .kinds
        .extend(plan.changes.iter().map(|c| c.key.gvk()));
    if record != plan.recorded {
        engine
            .cluster
            .write_inventory(&engine.ferry_namespace, &app.name, &record)
            .await?;
    }
    Ok(record)
}

/// After a sync ran to its end: narrows the app's inventory to the kinds it still has
/// objects of. A kind stays while any of its objects is still wanted, kept, or not yet pruned
/// (prune skipped after a failed gate, superseded, or failed), so its objects are never
/// orphaned. `current` is the record as [`widen_inventory`] left it; writes only on change.
/// Returns the record as it now stands.
pub(super) async fn narrow_inventory(
    engine: &Engine,
    app: &AppSpec,
    plan: &Plan,
    report: &ApplyReport,
    current: &InventoryRecord,
) -> Result<InventoryRecord, ReconcileError> {
    let pruned: HashSet<&ObjectKey> = report
        .results
        .iter()
        .filter(|r| r.outcome == Outcome::Pruned)
        .map(|r| &r.key)
        .collect();
    let kinds: BTreeSet<Gvk> = plan
        .changes
        .iter()
        .filter(|c| !(matches!(c.action, Action::Prune) && pruned.contains(&c.key)))
        .map(|c| c.key.gvk())
        .collect();
    let record = InventoryRecord {
        kinds,
        source: Some(app.source_identity()),
    };
    if record != *current {
        engine
            .cluster
            .write_inventory(&engine.ferry_namespace, &app.name, &record)
            .await?;
    }
    Ok(record)
}
