//! Recovering a StatefulSet stuck on a broken revision.
//!
//! With `podManagementPolicy: OrderedReady`, a StatefulSet whose pod is broken on a bad
//! revision does not progress after the template is reverted: the controller waits for that
//! pod to become Ready before replacing it, which it never will (a long-standing Kubernetes
//! trap, kubernetes/kubernetes#67250). When ferry rolls back it deletes such pods — on a
//! non-update revision and not Ready — one at a time, highest ordinal first, so the controller
//! recreates each from the restored template.

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;

use super::statefulset::{is_current_pod, observed, ordinal};
use super::util::{
    decode, decode_all, name, owned_by, pod_ready, selector_string, terminating, uid,
};
use super::RolloutError;
use crate::cluster::Cluster;

/// Deletes the StatefulSet's not-Ready pods that are not on its update revision, one at a
/// time, waiting for each replacement to exist on the update revision. Returns the pods
/// deleted. Does nothing when no pod is stuck.
pub async fn unstick_statefulset(
    cluster: &Cluster,
    namespace: &str,
    sts_name: &str,
    timeout: Duration,
) -> Result<Vec<String>, RolloutError> {
    let kind = cluster
        .served_kind("apps", "v1", "StatefulSet")
        .await?
        .ok_or_else(|| RolloutError::NotServed("apps/v1 StatefulSet".into()))?;
    let deadline = Instant::now() + timeout;
    let mut deleted = Vec::new();
    let what = format!("StatefulSet {namespace}/{sts_name}");
    let pods_of = format!("pods of {what}");
    loop {
        let Some(live) = cluster.get(&kind, Some(namespace), sts_name).await? else {
            return Ok(deleted);
        };
        let sts: StatefulSet = decode(&what, live)?;
        // Wait until the controller has seen the restored template (new update revision).
        if !observed(&sts) {
            if Instant::now() > deadline {
                return Ok(deleted);
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            continue;
        }
        let Some(selector) = selector_string(sts.spec.as_ref().map(|s| &s.selector)) else {
            return Ok(deleted);
        };
        let pods: Vec<Pod> = decode_all(&pods_of, cluster.list_pods(namespace, &selector).await?)?;
        let mut stuck: Vec<&Pod> = pods
            .iter()
            .filter(|p| owned_by(&p.metadata, uid(&sts.metadata)) && !terminating(&p.metadata))
            .filter(|p| !is_current_pod(&sts, p) && !pod_ready(p))
            .collect();
        stuck.sort_by_key(|p| std::cmp::Reverse(ordinal(sts_name, p).unwrap_or(-1)));
        let Some(pod) = stuck.first() else {
            return Ok(deleted);
        };
        let pod_name = name(&pod.metadata).to_string();
        tracing::warn!(statefulset = sts_name, pod = %pod_name, "deleting a pod stuck on a broken revision");
        cluster
            .delete_pod(namespace, &pod_name, Some(uid(&pod.metadata)))
            .await?;
        deleted.push(pod_name.clone());
        // Wait for the replacement (same name, new uid) on the update revision.
        let old_uid = uid(&pod.metadata).to_string();
        loop {
            if Instant::now() > deadline {
                return Ok(deleted);
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            let pods: Vec<Pod> =
                decode_all(&pods_of, cluster.list_pods(namespace, &selector).await?)?;
            let replaced = pods.iter().any(|p| {
                name(&p.metadata) == pod_name
                    && uid(&p.metadata) != old_uid
                    && is_current_pod(&sts, p)
            });
            if replaced {
                break;
            }
        }
    }
}
