//! Staged rollouts, the pure part: what a step of a StatefulSet or DaemonSet covers, whether
//! its pods are done, and which DaemonSet pods to evict next. [`super::staged`] does the
//! writes and the waiting.

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;
use serde::Serialize;

use super::statefulset::{self, ordinal};
use super::util::{name, node_of, pod_ready, terminating, uid};

/// How one step of a staged rollout ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepOutcome {
    /// The step, 1-based.
    pub step: u32,
    /// How many steps the rollout has.
    pub of: u32,
    /// What it covered: `ordinals 4`, `nodes kwok-worker-1`.
    pub covers: String,
    /// `healthy`, `failed`, `timed-out`, `superseded`, `interrupted`, or `skipped` (done before
    /// ferry was restarted).
    pub result: String,
    /// How long the step took (soak included).
    #[serde(rename = "elapsed_seconds", serialize_with = "super::seconds")]
    pub elapsed: Duration,
}

impl fmt::Display for StepOutcome {
    /// `step 1/3 (ordinals 4): healthy in 12s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "step {}/{} ({}): {} in {}s",
            self.step,
            self.of,
            self.covers,
            self.result,
            self.elapsed.as_secs()
        )
    }
}

/// `4`, `2–4`: a run of ordinals for messages.
pub(crate) fn ordinal_range(from: i64, to: i64) -> String {
    if from >= to {
        format!("{to}")
    } else {
        format!("{from}–{to}")
    }
}

/// The pods of one StatefulSet step: every ordinal from `partition` up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatefulStep {
    /// Ordinals of the step whose pod is on the update revision and Ready.
    pub done: Vec<i64>,
    /// Ordinals of the step still waiting (missing, old revision, not Ready, terminating).
    pub waiting: Vec<i64>,
}

impl StatefulStep {
    /// True when every pod of the step is on the update revision and Ready.
    pub fn complete(&self) -> bool {
        self.waiting.is_empty()
    }
}

/// Where the step with `partition` stands: pods with ordinal `>= partition` on
/// `status.updateRevision` and Ready.
pub(crate) fn statefulset_step(sts: &StatefulSet, pods: &[Pod], partition: i64) -> StatefulStep {
    let replicas = statefulset::replicas(sts);
    let sts_name = name(&sts.metadata);
    let mut step = StatefulStep {
        done: Vec::new(),
        waiting: Vec::new(),
    };
    for ord in partition.max(0)..replicas {
        let ok = pods.iter().any(|p| {
            ordinal(sts_name, p) == Some(ord)
                && !terminating(&p.metadata)
                && statefulset::is_current_pod(sts, p)
                && pod_ready(p)
        });
        if ok {
            step.done.push(ord);
        } else {
            step.waiting.push(ord);
        }
    }
    step
}

/// Container restarts of these pods in all.
pub(crate) fn restarts(pods: &[&Pod]) -> i64 {
    pods.iter()
        .flat_map(|p| {
            p.status
                .as_ref()
                .and_then(|s| s.container_statuses.as_ref())
                .into_iter()
                .flatten()
        })
        .map(|c| i64::from(c.restart_count))
        .sum()
}

/// A pod ferry chose to evict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Victim {
    /// Pod name.
    pub name: String,
    /// Pod uid.
    pub uid: String,
    /// Its node.
    pub node: String,
}

/// The DaemonSet pods to evict so that `target` nodes run the new template: `needed` of the
/// old pods (`is_current` false), canary nodes first, then by node name; with
/// `canary_only`, only pods on canary nodes.
pub(crate) fn daemonset_victims(
    pods: &[Pod],
    is_current: &dyn Fn(&Pod) -> bool,
    canary: &BTreeSet<String>,
    canary_only: bool,
    needed: usize,
) -> Vec<Victim> {
    let mut old: Vec<Victim> = pods
        .iter()
        .filter(|p| !terminating(&p.metadata) && !is_current(p))
        .filter_map(|p| {
            Some(Victim {
                name: name(&p.metadata).to_string(),
                uid: uid(&p.metadata).to_string(),
                node: node_of(p)?.to_string(),
            })
        })
        .filter(|v| !canary_only || canary.contains(&v.node))
        .collect();
    old.sort_by(|a, b| {
        (!canary.contains(&a.node), &a.node).cmp(&(!canary.contains(&b.node), &b.node))
    });
    old.truncate(needed);
    old
}

/// Nodes whose DaemonSet pod runs the new template (terminating pods aside).
pub(crate) fn updated_nodes(pods: &[Pod], is_current: &dyn Fn(&Pod) -> bool) -> BTreeSet<String> {
    pods.iter()
        .filter(|p| !terminating(&p.metadata) && is_current(p))
        .filter_map(|p| node_of(p).map(str::to_string))
        .collect()
}

/// Nodes whose new-template pod is Ready.
pub(crate) fn ready_nodes(pods: &[Pod], is_current: &dyn Fn(&Pod) -> bool) -> BTreeSet<String> {
    pods.iter()
        .filter(|p| !terminating(&p.metadata) && is_current(p) && pod_ready(p))
        .filter_map(|p| node_of(p).map(str::to_string))
        .collect()
}

#[cfg(test)]
#[path = "steps_tests.rs"]
mod tests;
