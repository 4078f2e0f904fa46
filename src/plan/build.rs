//! Building a plan: the read phase ([`read_live`]) against the cluster, then the pure
//! decision ([`decide`]) on what it read.

use std::collections::HashMap;
use std::time::Instant;

use super::decide::{decide, PlanOptions};
use super::reads::read_live;
use super::{Plan, PlanError};
use crate::cluster::{Cluster, ServedKind, APP_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE};
use crate::manifest::{Bundle, Gvk};

/// What a plan is built from.
pub struct PlanInput<'a> {
    /// The resolved bundle of the commit.
    pub bundle: &'a Bundle,
    /// The served kind for every kind in the bundle.
    pub kinds: &'a HashMap<Gvk, ServedKind>,
    /// Kinds this app applied before (its inventory record), so objects of kinds no longer
    /// in git can be pruned. `None`: the app has no inventory record, so this install never
    /// applied anything for it; nothing is listed (each desired object is still looked up),
    /// and objects labelled for it without a record are found by the next plan, once the
    /// first sync has recorded its kinds.
    pub inventory_kinds: Option<&'a [ServedKind]>,
    /// How many objects are read / dry-run at once.
    pub concurrency: usize,
    /// What the decisions go by (app, commit, prune, guards…).
    pub options: PlanOptions<'a>,
}

/// The label selector for an app's inventory.
pub fn inventory_selector(app: &str) -> String {
    format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE},{APP_LABEL}={app}")
}

/// Builds the plan for one commit: reads the app's live inventory and what each decision
/// needs, then decides. Reads and dry-runs only.
pub async fn build_plan(cluster: &Cluster, input: PlanInput<'_>) -> Result<Plan, PlanError> {
    let started = Instant::now();
    let reads_before = cluster.counters().reads();
    let dry_runs_before = cluster.counters().dry_runs();
    let live = read_live(cluster, &input).await?;
    let mut plan = decide(input.bundle, input.kinds, &live, &input.options)?;
    plan.stats.reads = cluster.counters().reads() - reads_before;
    plan.stats.dry_runs = cluster.counters().dry_runs() - dry_runs_before;
    plan.stats.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(plan)
}
