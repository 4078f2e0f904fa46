//! `ferry.dev/on-delete: restart-pods`: which old-revision pod to delete next (pure).
//!
//! One pod at a time: a deleted pod stays *pending* until its replacement (DaemonSet: a
//! current-revision pod on the same node; StatefulSet: the pod of the same name with another
//! uid, on the update revision) is Ready. A DaemonSet may have up to maxUnavailable pods
//! pending; old pods that are not Ready are deleted first (they are unavailable anyway).
//! A StatefulSet goes from the highest ordinal down, old pods that are not Ready first.

use k8s_openapi::api::apps::v1::{DaemonSet, StatefulSet};
use k8s_openapi::api::core::v1::Pod;

use super::util::{count, name, node_of, pod_ready, terminating, uid};
use super::{daemonset, statefulset};

/// A pod the gate deleted, whose replacement is not Ready yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pending {
    /// Pod name.
    pub name: String,
    /// Pod uid (the incarnation that was deleted).
    pub uid: String,
    /// Its node.
    pub node: Option<String>,
}

impl Pending {
    fn of(pod: &Pod) -> Pending {
        Pending {
            name: name(&pod.metadata).to_string(),
            uid: uid(&pod.metadata).to_string(),
            node: node_of(pod).map(str::to_string),
        }
    }
}

/// DaemonSet: drops resolved entries from `pending` and returns the next old pod to delete.
/// `pods` are the pods the DaemonSet owns.
pub(crate) fn daemonset_next(
    ds: &DaemonSet,
    current_hash: Option<&str>,
    pods: &[Pod],
    pending: &mut Vec<Pending>,
) -> Option<Pending> {
    let is_current = |p: &Pod| daemonset::is_current_pod(ds, current_hash, p);
    pending.retain(|done| {
        let old_still_there = pods.iter().any(|p| uid(&p.metadata) == done.uid);
        let replaced = pods.iter().any(|p| {
            !terminating(&p.metadata)
                && is_current(p)
                && pod_ready(p)
                && node_of(p) == done.node.as_deref()
        });
        old_still_there || !replaced
    });
    let max = daemonset::max_unavailable(ds);
    let in_flight = pending.len() as i64;
    if in_flight >= max {
        return None;
    }
    let unavailable = count(ds.status.as_ref().and_then(|s| s.number_unavailable)).max(in_flight);
    let mut old: Vec<&Pod> = pods
        .iter()
        .filter(|p| !terminating(&p.metadata) && !is_current(p))
        .collect();
    old.sort_by_key(|p| (pod_ready(p), node_of(p).unwrap_or("").to_string()));
    let next = old.first()?;
    (!pod_ready(next) || unavailable < max).then(|| Pending::of(next))
}

/// StatefulSet: drops resolved entries from `pending` and returns the next old pod to delete.
/// `pods` are the pods the StatefulSet owns.
pub(crate) fn statefulset_next(
    sts: &StatefulSet,
    pods: &[Pod],
    pending: &mut Vec<Pending>,
) -> Option<Pending> {
    pending.retain(|done| {
        !pods.iter().any(|p| {
            name(&p.metadata) == done.name
                && uid(&p.metadata) != done.uid
                && !terminating(&p.metadata)
                && statefulset::is_current_pod(sts, p)
                && pod_ready(p)
        })
    });
    if !pending.is_empty() {
        return None;
    }
    let sts_name = name(&sts.metadata);
    let live: Vec<&Pod> = pods.iter().filter(|p| !terminating(&p.metadata)).collect();
    let highest_old = |want_ready: bool| {
        live.iter()
            .filter(|p| !statefulset::is_current_pod(sts, p) && pod_ready(p) == want_ready)
            .max_by_key(|p| statefulset::ordinal(sts_name, p))
            .map(|p| Pending::of(p))
    };
    if let Some(unready) = highest_old(false) {
        return Some(unready);
    }
    let all_ready =
        live.len() as i64 == statefulset::replicas(sts) && live.iter().all(|p| pod_ready(p));
    if all_ready {
        highest_old(true)
    } else {
        None
    }
}

#[cfg(test)]
#[path = "restart_tests.rs"]
mod tests;
