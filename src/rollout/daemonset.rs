//! DaemonSet gate: rollout completeness from the status, which pods belong to the current
//! revision, and the ControllerRevision number of the current template.
//!
//! Current revision: a DaemonSet's status does not name its current revision. Once the
//! controller has observed the latest generation, the ControllerRevision it owns with the
//! highest `revision` is the current template (rolling back to an old template makes the
//! controller renumber that old revision to the highest). A pod is of the current revision
//! when its `controller-revision-hash` label equals that revision's hash, or (before the
//! revisions were read) when its `pod-template-generation` label equals the DaemonSet's
//! `deprecated.daemonset.template.generation` annotation: the same two tests the DaemonSet
//! controller uses (`IsPodUpdated`).

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet, DaemonSetStatus};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::util::{annotation, count, generation, label, owned_by};
use super::Progress;

/// Pod label with the hash of the template revision a pod was created from.
pub const REVISION_HASH_LABEL: &str = "controller-revision-hash";
const TEMPLATE_GENERATION_LABEL: &str = "pod-template-generation";
const TEMPLATE_GENERATION_ANNOTATION: &str = "deprecated.daemonset.template.generation";

/// True when the DaemonSet uses `updateStrategy: OnDelete`.
pub fn is_on_delete(ds: &DaemonSet) -> bool {
    ds.spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.type_.as_deref())
        == Some("OnDelete")
}

/// True once the controller has observed the latest generation
/// (`status.observedGeneration >= metadata.generation`).
pub fn observed(ds: &DaemonSet) -> bool {
    let observed = ds.status.as_ref().and_then(|s| s.observed_generation);
    observed.unwrap_or(0) >= generation(&ds.metadata)
}

/// Rollout state of a DaemonSet from its status (as `kubectl rollout status` decides it):
/// `observedGeneration >= generation`, `updatedNumberScheduled == desiredNumberScheduled`,
/// `numberAvailable == desiredNumberScheduled` and `numberUnavailable == 0` (Kubernetes omits
/// zero counts, so missing reads as 0). With `OnDelete`, pods still on the old template give
/// [`Progress::WaitingForPodDeletion`]. No eligible node (desired 0) is healthy.
pub fn evaluate(ds: &DaemonSet) -> Progress {
    let empty = DaemonSetStatus::default();
    let status = ds.status.as_ref().unwrap_or(&empty);
    let generation = generation(&ds.metadata);
    let observed = status.observed_generation.unwrap_or(0);
    if observed < generation {
        return Progress::Progressing {
            message: format!(
                "waiting for the controller to observe generation {generation} (observed {observed})"
            ),
        };
    }
    let desired = i64::from(status.desired_number_scheduled);
    let current = i64::from(status.current_number_scheduled);
    let updated = count(status.updated_number_scheduled);
    let available = count(status.number_available);
    let unavailable = count(status.number_unavailable);
    if desired == 0 && current == 0 {
        return Progress::Healthy {
            message: "no eligible nodes (desiredNumberScheduled 0)".into(),
        };
    }
    if is_on_delete(ds) && current > updated {
        let old = current - updated;
        return Progress::WaitingForPodDeletion {
            message: format!(
                "{updated}/{desired} nodes updated, {available} available; {old} pod(s) keep the old template until deleted (updateStrategy OnDelete)"
            ),
        };
    }
    if updated < desired || available < desired || unavailable > 0 {
        return Progress::Progressing {
            message: format!("{updated}/{desired} nodes updated, {available} available"),
        };
    }
    Progress::Healthy {
        message: format!("{desired}/{desired} nodes updated and available"),
    }
}

/// The current ControllerRevision of a DaemonSet among `revisions`: the one with the highest
/// `revision` owned by the DaemonSet (uid). Returns `(hash, revision)`.
pub fn current_revision(ds_uid: &str, revisions: &[ControllerRevision]) -> Option<(String, i64)> {
    revisions
        .iter()
        .filter(|r| owned_by(&r.metadata, ds_uid))
        .max_by_key(|r| r.revision)
        .map(|r| {
            let hash = label(&r.metadata, REVISION_HASH_LABEL)
                .map(str::to_string)
                .unwrap_or_default();
            (hash, r.revision)
        })
}

/// True when `pod` was created from the DaemonSet's current template: its revision hash equals
/// `current_hash` (when known), or its `pod-template-generation` equals the DaemonSet's
/// template generation.
pub fn is_current_pod(ds: &DaemonSet, current_hash: Option<&str>, pod: &Pod) -> bool {
    let hash_matches = current_hash
        .filter(|h| !h.is_empty())
        .is_some_and(|h| label(&pod.metadata, REVISION_HASH_LABEL) == Some(h));
    let generation_matches = annotation(&ds.metadata, TEMPLATE_GENERATION_ANNOTATION)
        .is_some_and(|g| label(&pod.metadata, TEMPLATE_GENERATION_LABEL) == Some(g));
    hash_matches || generation_matches
}

/// `spec.updateStrategy.rollingUpdate.maxUnavailable` resolved against the desired number of
/// nodes (percentages round up, as the controller does); at least 1 (an OnDelete DaemonSet has
/// no rollingUpdate: 1).
pub fn max_unavailable(ds: &DaemonSet) -> i64 {
    let desired = ds
        .status
        .as_ref()
        .map_or(0, |s| i64::from(s.desired_number_scheduled));
    let value = ds
        .spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.rolling_update.as_ref())
        .and_then(|r| r.max_unavailable.as_ref());
    let resolved = match value {
        Some(IntOrString::Int(n)) => i64::from(*n),
        Some(IntOrString::String(s)) => match s.strip_suffix('%').map(str::parse::<i64>) {
            Some(Ok(percent)) => (desired * percent + 99) / 100,
            _ => s.parse().unwrap_or(1),
        },
        None => 1,
    };
    resolved.max(1)
}

#[cfg(test)]
#[path = "daemonset_tests.rs"]
mod tests;
