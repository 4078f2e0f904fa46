//! StatefulSet gate: rollout completeness from the status (partition-aware), progress by
//! ordinal from the pods, and the ControllerRevision number of the update revision.
//!
//! A StatefulSet's pods carry the *name* of their ControllerRevision in the
//! `controller-revision-hash` label, and `status.updateRevision` names the revision of the
//! current template, so current-revision pods are those whose label equals it.

use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::Pod;

use super::util::{count, generation, label, name, pod_ready, terminating};
use super::Progress;

const REVISION_LABEL: &str = "controller-revision-hash";

/// True when the StatefulSet uses `updateStrategy: OnDelete`.
pub fn is_on_delete(sts: &StatefulSet) -> bool {
    sts.spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.type_.as_deref())
        == Some("OnDelete")
}

/// True once the controller has observed the latest generation
/// (`status.observedGeneration >= metadata.generation`).
pub fn observed(sts: &StatefulSet) -> bool {
    let observed = sts.status.as_ref().and_then(|s| s.observed_generation);
    observed.unwrap_or(0) >= generation(&sts.metadata)
}

/// `spec.replicas` (default 1).
pub fn replicas(sts: &StatefulSet) -> i64 {
    sts.spec
        .as_ref()
        .and_then(|s| s.replicas)
        .map_or(1, i64::from)
}

/// `spec.updateStrategy.rollingUpdate.partition` (default 0), clamped to `0..=replicas`.
pub fn partition(sts: &StatefulSet) -> i64 {
    let partition = sts
        .spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.rolling_update.as_ref())
        .and_then(|r| r.partition);
    count(partition).clamp(0, replicas(sts))
}

/// `status.updateRevision`: the ControllerRevision name of the current template.
pub fn update_revision(sts: &StatefulSet) -> Option<&str> {
    sts.status
        .as_ref()
        .and_then(|s| s.update_revision.as_deref())
        .filter(|r| !r.is_empty())
}

/// True when the pod was created from the StatefulSet's update revision.
pub fn is_current_pod(sts: &StatefulSet, pod: &Pod) -> bool {
    update_revision(sts).is_some_and(|r| label(&pod.metadata, REVISION_LABEL) == Some(r))
}

/// Rollout state of a StatefulSet from its status: the generation observed, every replica
/// Ready (and available when `minReadySeconds` is set), no surplus pods, and
/// `updatedReplicas >= replicas - partition`; with partition 0 also
/// `currentRevision == updateRevision` (the controller sets it once the update finished).
/// With `OnDelete` (where the controller never advances `currentRevision`), pods still on an
/// old revision give [`Progress::WaitingForPodDeletion`].
pub fn evaluate(sts: &StatefulSet) -> Progress {
    let empty = StatefulSetStatus::default();
    let status = sts.status.as_ref().unwrap_or(&empty);
    let generation = generation(&sts.metadata);
    let observed = status.observed_generation.unwrap_or(0);
    if observed == 0 || observed < generation {
        return Progress::Progressing {
            message: format!(
                "waiting for the controller to observe generation {generation} (observed {observed})"
            ),
        };
    }
    let want = replicas(sts);
    let have = i64::from(status.replicas);
    let ready = count(status.ready_replicas);
    let available = count(status.available_replicas);
    let updated = count(status.updated_replicas);
    let update_rev = update_revision(sts).unwrap_or("?").to_string();
    let current_rev = status.current_revision.as_deref().unwrap_or("");
    let min_ready = count(sts.spec.as_ref().and_then(|s| s.min_ready_seconds));

    if is_on_delete(sts) {
        let old = have - updated;
        if old > 0 {
            return Progress::WaitingForPodDeletion {
                message: format!(
                    "{updated}/{want} pods on revision {update_rev}; {old} pod(s) keep the old template until deleted (updateStrategy OnDelete)"
                ),
            };
        }
    }
    let target = if is_on_delete(sts) {
        want
    } else {
        want - partition(sts)
    };
    let counts = format!("{ready}/{want} ready, {updated}/{target} updated to {update_rev}");
    if have != want {
        return Progress::Progressing {
            message: format!("{have} pods, want {want}; {counts}"),
        };
    }
    if ready < want || updated < target || (min_ready > 0 && available < want) {
        return Progress::Progressing { message: counts };
    }
    let p = partition(sts);
    if !is_on_delete(sts) && p == 0 && current_rev != update_rev {
        return Progress::Progressing {
            message: format!(
                "{counts}; waiting for currentRevision {current_rev} to become {update_rev}"
            ),
        };
    }
    let message = if want == 0 {
        "scaled to 0 replicas".to_string()
    } else if p > 0 {
        format!("partitioned rollout complete: {updated}/{want} pods on {update_rev} (partition {p}), {ready}/{want} ready")
    } else {
        format!("{want}/{want} pods ready on revision {update_rev}")
    };
    Progress::Healthy { message }
}

/// Ordinal of a StatefulSet pod (`web-2` → 2).
pub fn ordinal(sts_name: &str, pod: &Pod) -> Option<i64> {
    name(&pod.metadata)
        .strip_prefix(sts_name)?
        .strip_prefix('-')?
        .parse()
        .ok()
}

/// Progress by ordinal, from the StatefulSet's pods: "web-0, web-1 ready; waiting for web-2
/// (not Ready)". Pods are created (and must be Ready) in ascending order and updated in
/// descending order down to the partition, so the first ordinal that is missing or not Ready,
/// else the highest one not yet on the update revision, is the one the rollout waits for.
/// `None` when no pod is waited for.
pub fn ordinal_progress(sts: &StatefulSet, pods: &[Pod]) -> Option<String> {
    let sts_name = name(&sts.metadata);
    let want = replicas(sts);
    let find = |i: i64| {
        pods.iter()
            .find(|p| !terminating(&p.metadata) && ordinal(sts_name, p) == Some(i))
    };
    let going = |i: i64| {
        pods.iter()
            .any(|p| terminating(&p.metadata) && ordinal(sts_name, p) == Some(i))
    };
    let pod_name = |i: i64| format!("{sts_name}-{i}");
    let ready: Vec<String> = (0..want)
        .filter(|&i| find(i).is_some_and(pod_ready))
        .map(pod_name)
        .collect();
    let waiting = (0..want)
        .find_map(|i| match find(i) {
            None if going(i) => Some(format!(
                "waiting for {} (terminating, to be recreated)",
                pod_name(i)
            )),
            None => Some(format!("waiting for {} (not created yet)", pod_name(i))),
            Some(p) if !pod_ready(p) => Some(format!("waiting for {} (not Ready)", pod_name(i))),
            Some(_) => None,
        })
        .or_else(|| {
            let rev = update_revision(sts)?;
            (partition(sts)..want).rev().find_map(|i| {
                let p = find(i)?;
                (!is_current_pod(sts, p))
                    .then(|| format!("waiting for {} to be updated to {rev}", pod_name(i)))
            })
        })?;
    let ready_text = match ready.len() {
        0 => String::new(),
        n if n <= 4 => format!("{} ready; ", ready.join(", ")),
        n => format!("{n} pods ready; "),
    };
    Some(format!("{ready_text}{waiting}"))
}

/// The `revision` number of the ControllerRevision named `status.updateRevision`.
pub fn update_revision_number(sts: &StatefulSet, revisions: &[ControllerRevision]) -> Option<i64> {
    let wanted = update_revision(sts)?;
    revisions
        .iter()
        .find(|r| name(&r.metadata) == wanted)
        .map(|r| r.revision)
}

#[cfg(test)]
#[path = "statefulset_tests.rs"]
mod tests;
