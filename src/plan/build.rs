//! Building a plan: live inventory, then one decision per object, then prunes.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use futures::{StreamExt, TryStreamExt};
use serde_json::Value;

use super::guard::{other_install, PruneGuard};
use super::object::{awaiting_crd, plan_one};
use super::{Action, Change, Plan, PlanError, PlanStats};
use crate::cluster::{
    Cluster, ClusterError, ServedKind, APP_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE,
};
use crate::manifest::{Bundle, Gvk, ObjectKey, Resource};
use crate::source::CommitInfo;

/// What a plan is built from.
pub struct PlanInput<'a> {
    /// The app's name (its inventory label value).
    pub app: &'a str,
    /// The commit being planned.
    pub commit: &'a CommitInfo,
    /// The resolved bundle of that commit.
    pub bundle: &'a Bundle,
    /// The served kind for every kind in the bundle.
    pub kinds: &'a HashMap<Gvk, ServedKind>,
    /// Kinds this app applied before (its inventory), so objects of kinds no longer in git
    /// can be pruned.
    pub inventory_kinds: &'a [ServedKind],
    /// Whether objects no longer in git are deleted.
    pub prune: bool,
    /// The ferry install (ferry's namespace): labels every object, and objects labelled for
    /// another install are never changed or pruned.
    pub install: &'a str,
    /// How much of the app one sync may prune.
    pub guard: PruneGuard,
    /// Take over objects git wants that another ferry app manages (`--take-over`); without
    /// it such an object makes the plan invalid.
    pub take_over: bool,
    /// Field managers whose fields ferry leaves alone (besides anything written through a
    /// `scale` subresource, e.g. by an HPA).
    pub yield_to_managers: &'a [String],
    /// How many objects are read / dry-run at once.
    pub concurrency: usize,
    /// True for a Job (key, manifest) that already ran to completion with this spec in an
    /// earlier sync: when it is gone (its TTL removed it) it is not created again.
    pub completed_job: &'a (dyn Fn(&ObjectKey, &Value) -> bool + Sync),
}

/// (group, kind, namespace, name): an object's identity regardless of API version.
pub(super) type Identity = (String, String, Option<String>, String);

pub(super) fn identity_of_key(key: &ObjectKey) -> Identity {
    (
        key.group.clone(),
        key.kind.clone(),
        key.namespace.clone(),
        key.name.clone(),
    )
}

/// The label selector for an app's inventory.
pub fn inventory_selector(app: &str) -> String {
    format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE},{APP_LABEL}={app}")
}

/// Builds the plan for one commit: reads the app's live inventory, decides per object, and
/// lists prunes. Reads and dry-runs only.
pub async fn build_plan(cluster: &Cluster, input: PlanInput<'_>) -> Result<Plan, PlanError> {
    let started = Instant::now();
    let reads_before = cluster.counters().reads();
    let dry_runs_before = cluster.counters().dry_runs();

    // 1. Live inventory, one LIST per kind.
    let mut list_kinds: Vec<ServedKind> = Vec::new();
    let mut seen = HashSet::new();
    for kind in input.kinds.values().chain(input.inventory_kinds.iter()) {
        if seen.insert((kind.resource.group.clone(), kind.resource.kind.clone())) {
            list_kinds.push(kind.clone());
        }
    }
    let selector = inventory_selector(input.app);
    let list_calls: Vec<_> = list_kinds
        .into_iter()
        .map(|kind| {
            let selector = selector.clone();
            async move {
                match cluster.list_labelled(&kind, &selector).await {
                    Ok(items) => Ok((kind, items)),
                    // A kind from the inventory that the server no longer serves (CRD gone).
                    Err(ClusterError::Api { code: 404, .. }) => Ok((kind, Vec::new())),
                    Err(e) => Err(e),
                }
            }
        })
        .collect();
    let lists: Vec<(ServedKind, Vec<Value>)> = futures::stream::iter(list_calls)
        .buffer_unordered(input.concurrency.max(1))
        .try_collect()
        .await?;
    let mut live: HashMap<Identity, (ServedKind, Value)> = HashMap::new();
    for (kind, items) in lists {
        // Same app name, another ferry install: never this install's to change or prune.
        for item in items
            .into_iter()
            .filter(|i| !other_install(i, input.install))
        {
            let meta = &item["metadata"];
            let name = meta["name"].as_str().unwrap_or_default().to_string();
            let namespace = meta["namespace"].as_str().map(str::to_string);
            let id = (
                kind.resource.group.clone(),
                kind.resource.kind.clone(),
                namespace,
                name,
            );
            live.insert(id, (kind.clone(), item));
        }
    }

    // 2. One decision per desired object, in wave order.
    let mut resources: Vec<&Resource> = input.bundle.resources.iter().collect();
    resources.sort_by_key(|r| r.wave);
    let namespaces_created: HashSet<String> = input
        .bundle
        .resources
        .iter()
        .filter(|r| r.key.group.is_empty() && r.key.kind == "Namespace")
        .map(|r| r.key.name.clone())
        .collect();
    let desired_ids: HashSet<Identity> =
        resources.iter().map(|r| identity_of_key(&r.key)).collect();
    let skipped = std::sync::atomic::AtomicU64::new(0);
    let input_ref = &input;
    let skipped_ref = &skipped;
    let namespaces_ref = &namespaces_created;
    let live_ref = &live;
    let crd_kinds = crate::manifest::kinds_defined_in_bundle(input.bundle);
    let crd_kinds_ref = &crd_kinds;
    let decisions: Vec<_> = resources
        .into_iter()
        .map(|resource| async move {
            let Some(kind) = input_ref.kinds.get(&resource.key.gvk()) else {
                return awaiting_crd(input_ref, resource, crd_kinds_ref);
            };
            let current = live_ref
                .get(&identity_of_key(&resource.key))
                .map(|(_, v)| v.clone());
            plan_one(
                cluster,
                input_ref,
                resource,
                kind,
                current,
                namespaces_ref,
                skipped_ref,
            )
            .await
        })
        .collect();
    let mut changes: Vec<Change> = futures::stream::iter(decisions)
        .buffered(input.concurrency.max(1))
        .try_collect()
        .await?;

    // 3. Inventory objects no longer in git, each judged by the prune guards.
    let desired_namespaces: HashSet<&str> = input
        .bundle
        .resources
        .iter()
        .filter_map(|r| r.key.namespace.as_deref())
        .collect();
    let prunes =
        super::prune::orphans(cluster, &input, &live, &desired_ids, &desired_namespaces).await?;
    changes.extend(prunes);
    let pruned = changes
        .iter()
        .filter(|c| matches!(c.action, Action::Prune))
        .count();
    let refusal = input.guard.judge(pruned, live.len());

    Ok(Plan {
        app: input.app.to_string(),
        commit: input.commit.clone(),
        changes,
        stats: PlanStats {
            reads: cluster.counters().reads() - reads_before,
            dry_runs: cluster.counters().dry_runs() - dry_runs_before,
            skipped_dry_runs: skipped.load(std::sync::atomic::Ordering::Relaxed),
            elapsed_ms: started.elapsed().as_millis() as u64,
        },
        recorded: Default::default(),
        refusal,
    })
}
