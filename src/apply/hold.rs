//! The writes around a staged rollout's apply ([`crate::plan::staged`]): before ferry applies
//! a staged template, its own field manager `ferry-rollout` takes the fields that pace the
//! controller (a StatefulSet's partition at its replica count, a DaemonSet's strategy
//! `OnDelete`), so no pod moves until the gate steps it; ferry's apply then leaves those
//! fields out. A release hands them back to git when no staged rollout owns them any more.

use serde_json::{json, Value};

use crate::cluster::{Cluster, ClusterError, ServedKind};
use crate::plan::staged::{
    hold_object, without_held_fields, RolloutMark, Staging, ROLLOUT_MANAGER,
};
use crate::plan::Change;

/// What ferry applies for `change` after its hold is in place (or the hold released): the
/// manifest without the held fields while stepping, the whole manifest otherwise.
pub(super) async fn around_apply(
    cluster: &Cluster,
    kind: &ServedKind,
    change: &Change,
    desired: &Value,
) -> Result<Value, ClusterError> {
    let Some(Staging::Steps {
        spec,
        resume_at,
        commit,
    }) = &change.staging
    else {
        return Ok(desired.clone());
    };
    let key = &change.key;
    let mark = RolloutMark {
        step: resume_at.unwrap_or(1),
        steps: spec.steps.len() as u32,
        commit: commit.clone(),
    };
    let strategy = match key.kind.as_str() {
        "StatefulSet" => {
            let live = change.before.as_ref();
            let replicas = live
                .and_then(|l| l.pointer("/spec/replicas"))
                .or_else(|| desired.pointer("/spec/replicas"))
                .and_then(Value::as_i64)
                .unwrap_or(1);
            // Resuming: keep the partition the stopped rollout reached; new: no pod moves yet.
            let partition = match resume_at {
                Some(_) => live
                    .and_then(|l| l.pointer("/spec/updateStrategy/rollingUpdate/partition"))
                    .and_then(Value::as_i64)
                    .unwrap_or(replicas),
                None => replicas,
            };
            json!({"rollingUpdate": {"partition": partition}})
        }
        _ => json!({"type": "OnDelete"}),
    };
    let hold = hold_object(
        &key.api_version(),
        &key.kind,
        key.namespace.as_deref(),
        &key.name,
        &mark,
        strategy,
    );
    cluster
        .apply_as(
            ROLLOUT_MANAGER,
            kind,
            key.namespace.as_deref(),
            &key.name,
            &hold,
            false,
        )
        .await?;
    tracing::info!(object = %key, mark = %mark, "staged rollout: holding the update strategy");
    Ok(without_held_fields(&key.kind, desired))
}

/// After ferry applied git's whole manifest: a [`Staging::Release`] drops what
/// `ferry-rollout` still holds (its mark, the partition or strategy), so git's values rule.
pub(super) async fn after_apply(
    cluster: &Cluster,
    kind: &ServedKind,
    change: &Change,
) -> Result<(), ClusterError> {
    if !matches!(change.staging, Some(Staging::Release { .. })) {
        return Ok(());
    }
    let key = &change.key;
    cluster
        .release_fields(ROLLOUT_MANAGER, kind, key.namespace.as_deref(), &key.name)
        .await?;
    tracing::info!(object = %key, "staged rollout: released the hold an earlier rollout left");
    Ok(())
}
