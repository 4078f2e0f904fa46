//! Staged rollouts, the DaemonSet side: with `updateStrategy: OnDelete` held, ferry evicts
//! old pods in node batches (canary nodes first) through the Eviction API, so
//! PodDisruptionBudgets hold, and waits for each replacement to be Ready (see `staged.rs`).

use std::collections::BTreeSet;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Pod;
use serde_json::json;

use super::runner::{Step, Watch};
use super::staged::StageState;
use super::steps;
use super::util::node_of;
use super::workload::Workload;
use super::{daemonset, GateState, RolloutError};
use crate::cluster::Eviction;

impl Watch<'_> {
    /// One poll of a staged DaemonSet: evict what the step still needs, then wait and soak.
    pub(super) async fn step_daemonset(
        &mut self,
        st: &mut StageState,
        obj: &Workload,
        ds: &DaemonSet,
    ) -> Result<Option<Step>, RolloutError> {
        let Some(hash) = self.daemonset_hash(ds).await? else {
            let message = format!(
                "{}: waiting for the controller to observe the new template",
                st.label()
            );
            return Ok(Some(Step::Wait(GateState::Progressing, message)));
        };
        if st.marked.is_none() {
            self.write_hold(st, json!({"type": "OnDelete"})).await?;
        }
        let step = self
            .inspect_pods(obj, GateState::Progressing, String::new())
            .await?;
        let Step::Wait(_, detail) = step else {
            return Ok(Some(step));
        };
        let pods = self.pods.clone();
        let is_current = |p: &Pod| daemonset::is_current_pod(ds, Some(&hash), p);
        let nodes: BTreeSet<String> = pods
            .iter()
            .filter_map(|p| node_of(p).map(str::to_string))
            .collect();
        let initial = st
            .initial_nodes
            .get_or_insert_with(|| nodes.clone())
            .clone();
        let canary = match (&st.canary, &st.target.spec.canary_nodes) {
            (Some(c), _) => c.clone(),
            (None, None) => BTreeSet::new(),
            (None, Some(selector)) => {
                let named: BTreeSet<String> = match self.cluster.node_names(selector).await {
                    Ok(names) => names.into_iter().collect(),
                    Err(e) => {
                        let message = format!("ferry.dev/canary-nodes {selector:?}: {e}");
                        return Ok(Some(self.failed("InvalidAnnotation", message, None)));
                    }
                };
                let canary: BTreeSet<String> = named.intersection(&nodes).cloned().collect();
                if canary.is_empty() {
                    let message = format!(
                        "no node this DaemonSet runs on matches ferry.dev/canary-nodes {selector:?}; nothing was replaced"
                    );
                    return Ok(Some(self.failed("NoCanaryNodes", message, None)));
                }
                st.canary = Some(canary.clone());
                canary
            }
        };
        let total = daemonset_total(ds).max(nodes.len() as u32);
        let mut targets = st.target.spec.targets(total);
        if !canary.is_empty() {
            let first = (canary.len() as u32).min(total);
            targets = targets.into_iter().map(|t| t.max(first)).collect();
            targets[0] = first;
        }
        if st.index >= targets.len() {
            self.hand_back(st).await?;
            return Ok(None);
        }
        let canary_step = st.index == 0 && !canary.is_empty();
        let wanted = targets[st.index] as usize;
        st.covers = if canary_step {
            format!(
                "canary nodes {}",
                canary.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        } else {
            format!("{wanted} of {total} nodes")
        };
        if st.marked != Some(st.index) {
            self.write_hold(st, json!({"type": "OnDelete"})).await?;
        }
        let updated = steps::updated_nodes(&pods, &is_current);
        let ready = steps::ready_nodes(&pods, &is_current);
        // An evicted pod is replaced once its node runs a Ready new-template pod.
        st.evicting.retain(|v| {
            pods.iter()
                .any(|p| p.metadata.uid.as_deref() == Some(v.uid.as_str()))
                || !ready.contains(&v.node)
        });
        let in_flight = st
            .evicting
            .iter()
            .filter(|v| !updated.contains(&v.node))
            .count();
        let mut blocked = None;
        if updated.len() + in_flight < wanted {
            let chosen = steps::daemonset_victims(
                &pods,
                &is_current,
                &canary,
                canary_step,
                wanted - updated.len() - in_flight,
            );
            for victim in chosen {
                if st.evicting.iter().any(|v| v.uid == victim.uid) {
                    continue;
                }
                match self
                    .cluster
                    .evict_pod(&self.target.namespace, &victim.name, Some(&victim.uid))
                    .await?
                {
                    Eviction::Evicted => {
                        tracing::info!(object = %self.target, pod = %victim.name, node = %victim.node, step = st.index + 1, "evicted for the staged rollout");
                        st.evicting.push(victim);
                    }
                    Eviction::Blocked(why) => {
                        blocked = Some(format!(
                            "eviction of pod {} on node {} refused: {why}; retrying",
                            victim.name, victim.node
                        ));
                        break;
                    }
                    Eviction::Gone => {}
                }
            }
        }
        let joined: Vec<&String> = updated.difference(&initial).collect();
        let mut message = format!(
            "{}: {}/{} nodes on the new template and Ready",
            st.label(),
            ready.len().min(wanted),
            wanted
        );
        if !joined.is_empty() {
            let names: Vec<&str> = joined.iter().map(|s| s.as_str()).collect();
            message.push_str(&format!(
                "; node(s) {} joined during the rollout and run the new template (OnDelete creates new pods from it)",
                names.join(", ")
            ));
        }
        if !detail.is_empty() {
            message.push_str(&detail);
        }
        if let Some(why) = blocked {
            st.ready_since = None;
            return Ok(Some(Step::Wait(
                GateState::EvictionBlocked,
                format!("{message}; {why}"),
            )));
        }
        let step_done = ready.len() >= wanted && st.evicting.is_empty();
        if !step_done {
            st.ready_since = None;
            return Ok(Some(Step::Wait(GateState::Progressing, message)));
        }
        let step_pods: Vec<&Pod> = self.pods.iter().filter(|p| is_current(p)).collect();
        let restarts = steps::restarts(&step_pods);
        self.after_ready(st, restarts).await
    }
}

/// `status.desiredNumberScheduled`.
fn daemonset_total(ds: &DaemonSet) -> u32 {
    ds.status
        .as_ref()
        .map_or(0, |s| s.desired_number_scheduled.max(0) as u32)
}
