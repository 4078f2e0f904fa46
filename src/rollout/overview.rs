//! What the web UI shows under one workload: its pods, each with its node, phase, readiness,
//! restarts and, when it will not become Ready by itself, the same fail-fast diagnosis the
//! gates use ([`super::pods::diagnose`]). Read on demand; nothing here waits.

use k8s_openapi::api::core::v1::Pod;
use serde::Serialize;

use super::util::{decode_all, name, node_of, owned_by, pod_ready, selector_string, uid};
use super::workload::Workload;
use super::{pods, GateTarget, PodProblem, RolloutError};
use crate::cluster::Cluster;

/// One pod of a workload, as the UI lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodView {
    /// Pod name.
    pub name: String,
    /// The node it runs on (`None`: not scheduled).
    pub node: Option<String>,
    /// `Pending`, `Running`, `Succeeded`, `Failed` (`Terminating` while being deleted).
    pub phase: String,
    /// True when its Ready condition is True.
    pub ready: bool,
    /// Container restarts, summed.
    pub restarts: i32,
    /// Why it will not become Ready by itself (ImagePullBackOff, CrashLoopBackOff…).
    pub problem: Option<PodProblem>,
}

/// A workload's pods; `None` when the workload does not exist (any more).
pub async fn workload_pods(
    cluster: &Cluster,
    target: &GateTarget,
) -> Result<Option<Vec<PodView>>, RolloutError> {
    let gvk = target.kind.group_version_kind();
    let Some(kind) = cluster
        .served_kind(&gvk.group, &gvk.version, &gvk.kind)
        .await?
    else {
        return Err(RolloutError::NotServed(gvk.to_string()));
    };
    let Some(live) = cluster
        .get(&kind, Some(&target.namespace), &target.name)
        .await?
    else {
        return Ok(None);
    };
    let workload = Workload::decode(target, live)?;
    let Some(selector) = selector_string(workload.selector()) else {
        return Ok(Some(Vec::new()));
    };
    let listed = cluster.list_pods(&target.namespace, &selector).await?;
    let pods: Vec<Pod> = decode_all(&format!("pods of {target}"), listed)?;
    let owner = uid(workload.metadata());
    let mut views: Vec<PodView> = pods
        .iter()
        .filter(|p| owned_by(&p.metadata, owner))
        .map(view)
        .collect();
    views.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Some(views))
}

/// One pod's view.
fn view(pod: &Pod) -> PodView {
    let status = pod.status.as_ref();
    let phase = if pod.metadata.deletion_timestamp.is_some() {
        "Terminating".to_string()
    } else {
        status
            .and_then(|s| s.phase.clone())
            .unwrap_or_else(|| "Pending".to_string())
    };
    let restarts = status
        .and_then(|s| s.container_statuses.as_ref())
        .into_iter()
        .flatten()
        .map(|c| c.restart_count)
        .sum();
    PodView {
        name: name(&pod.metadata).to_string(),
        node: node_of(pod).map(str::to_string),
        phase,
        ready: pod_ready(pod),
        restarts,
        problem: pods::diagnose(std::slice::from_ref(pod), &[])
            .into_iter()
            .next(),
    }
}
