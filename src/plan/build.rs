//! Building a plan: live inventory, then one decision per object, then prunes.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use futures::{StreamExt, TryStreamExt};
use serde_json::Value;

use super::guard::{foreign_owner, other_install, PruneGuard};
use super::project::project_onto;
use super::{with_bookkeeping, Action, Change, Plan, PlanError, PlanStats};
use crate::cluster::{
    Cluster, ClusterError, ServedKind, APP_LABEL, FIELD_MANAGER, MANAGED_BY_LABEL, MANAGED_BY_VALUE,
};
use crate::diff::{self, fields};
use crate::manifest::{Bundle, ObjectKey, Resource};
use crate::source::CommitInfo;

/// What a plan is built from.
pub struct PlanInput<'a> {
    /// The app's name (its inventory label value).
    pub app: &'a str,
    /// The commit being planned.
    pub commit: &'a CommitInfo,
    /// The resolved bundle of that commit.
    pub bundle: &'a Bundle,
    /// The served kind for every (group, version, kind) in the bundle.
    pub kinds: &'a HashMap<(String, String, String), ServedKind>,
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
            let Some(kind) = input_ref.kinds.get(&kind_of(&resource.key)) else {
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

fn kind_of(key: &ObjectKey) -> (String, String, String) {
    (key.group.clone(), key.version.clone(), key.kind.clone())
}

/// An object whose kind the cluster does not serve yet because a CustomResourceDefinition of
/// the same commit defines it: planned as a create without a dry-run (the server cannot
/// validate it before the CRD exists); apply resolves the kind once the CRD's wave is in.
/// Anything else unresolved is the caller's bug.
fn awaiting_crd(
    input: &PlanInput<'_>,
    resource: &Resource,
    crd_kinds: &HashMap<(String, String, String), crate::manifest::Scope>,
) -> Result<Change, PlanError> {
    let key = &resource.key;
    let defined = (key.group.clone(), key.kind.clone(), key.version.clone());
    if !crd_kinds.contains_key(&defined) {
        return Err(PlanError::UnresolvedKind(format!(
            "{}/{}",
            key.api_version(),
            key.kind
        )));
    }
    let desired = with_bookkeeping(&resource.object, input.app, input.install, input.commit);
    Ok(Change {
        key: key.clone(),
        origin: Some(resource.origin.clone()),
        wave: resource.wave,
        action: Action::Create,
        fields: Vec::new(),
        before: None,
        after: Some(diff::mask_secret(&diff::normalize(&desired))),
        desired: Some(desired),
        kind: None,
        note: Some(format!(
            "not dry-run: {} is defined by a CustomResourceDefinition in this commit; created once the CRD is established",
            key.kind
        )),
        uid: None,
    })
}

/// Errors the server returns for a bad object (as opposed to an unreachable or failing server):
/// the object is planned invalid, at its file:line. 413: the object is over the request size
/// limit. A 500 is the server's own failure (etcd, a webhook call, a timeout), except when
/// server-side apply could not type the object sent (a list where a string belongs, a field
/// the schema does not declare, duplicate list keys: `failed to create typed patch object`) or
/// convert the result of applying it (a quantity that is not one, Secret data that is not
/// base64: `failed to convert new object`; the live object alone always converts). The field
/// manager's apply path returns these as plain errors, which the API server answers with 500.
fn rejected(err: &ClusterError) -> bool {
    match err.code() {
        Some(400 | 403 | 404 | 409 | 413 | 422) => true,
        Some(500) => {
            let message = err.server_message();
            message.contains("failed to create typed patch object")
                || message.contains("failed to convert new object")
        }
        _ => false,
    }
}

async fn plan_one(
    cluster: &Cluster,
    input: &PlanInput<'_>,
    resource: &Resource,
    kind: &ServedKind,
    live: Option<Value>,
    namespaces_created: &HashSet<String>,
    skipped: &std::sync::atomic::AtomicU64,
) -> Result<Change, PlanError> {
    let key = &resource.key;
    let namespace = key.namespace.as_deref();
    let mut desired = with_bookkeeping(&resource.object, input.app, input.install, input.commit);
    let mut change = Change {
        key: key.clone(),
        origin: Some(resource.origin.clone()),
        wave: resource.wave,
        action: Action::Unchanged,
        fields: Vec::new(),
        before: None,
        after: None,
        desired: None,
        kind: Some(kind.clone()),
        note: None,
        uid: None,
    };
    // Objects not in the inventory may still exist: created by hand or by another tool,
    // ferry adopts them; managed by another ferry app or install, it refuses unless told to
    // take them over.
    let live = match live {
        Some(v) => Some(v),
        None => {
            let found = cluster.get(kind, namespace, &key.name).await?;
            if let Some(owner) = found
                .as_ref()
                .and_then(|v| foreign_owner(v, input.app, input.install))
            {
                if !input.take_over {
                    change.action = Action::Invalid {
                        message: format!(
                            "already managed by {owner}; ferry does not take it over silently. \
                             Remove it from one of the two, or sync this app once with --take-over to move it here"
                        ),
                    };
                    return Ok(change);
                }
                change.note = Some(format!("taken over from {owner} (--take-over)"));
            }
            found
        }
    };
    let Some(live) = live else {
        if key.group == "batch" && key.kind == "Job" && (input.completed_job)(key, &resource.object)
        {
            change.note = Some(
                "completed in an earlier sync with this spec (since removed, e.g. by its TTL); not re-run"
                    .into(),
            );
            return Ok(change);
        }
        match cluster
            .apply(kind, namespace, &key.name, &desired, true)
            .await
        {
            Ok(after) => {
                change.after = Some(diff::mask_secret(&diff::normalize(&after)));
            }
            Err(e)
                if e.code() == Some(404)
                    && namespace.is_some_and(|ns| namespaces_created.contains(ns)) =>
            {
                let target = namespace.unwrap_or_default();
                match stand_in_dry_run(cluster, kind, &key.name, &desired).await? {
                    StandIn::Validated(after) => {
                        change.after = Some(diff::mask_secret(&diff::normalize(&after)));
                        change.note = Some(format!(
                            "dry-run in namespace {STAND_IN_NAMESPACE}: {target} is created by this commit"
                        ));
                    }
                    StandIn::Rejected(message) => {
                        change.action = Action::Invalid { message };
                        return Ok(change);
                    }
                    StandIn::Unavailable(why) => {
                        change.after = Some(diff::mask_secret(&diff::normalize(&desired)));
                        change.note = Some(format!(
                            "not dry-run: namespace {target} is created by this commit ({why})"
                        ));
                    }
                }
            }
            Err(e) if rejected(&e) => {
                change.action = Action::Invalid {
                    message: e.server_message(),
                };
                return Ok(change);
            }
            Err(e) => return Err(e.into()),
        }
        change.action = Action::Create;
        change.desired = Some(desired);
        return Ok(change);
    };

    // Leave fields to the controllers that took them over (an HPA's replicas…).
    let entries = fields::managed_entries(&live);
    let yield_to = input.yield_to_managers;
    let yielded = fields::strip_owned(
        &mut desired,
        &entries,
        &|e: &fields::ManagedEntry| {
            e.manager != FIELD_MANAGER
                && (e.subresource.as_deref() == Some("scale") || yield_to.contains(&e.manager))
        },
        FIELD_MANAGER,
    );
    if !yielded.is_empty() {
        change.note = Some(format!(
            "left to other field managers: {}",
            yielded.join(", ")
        ));
    }
    let live_n = diff::normalize(&live);
    let desired_n = diff::normalize(&desired);
    change.before = Some(diff::mask_secret(&live_n));

    if key.group == "batch" && key.kind == "Job" {
        // A Job's template is immutable: no dry-run can show the change, and an update fails.
        if diff::is_subset(&desired_n, &live_n) {
            skipped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Ok(change);
        }
        let projected = project_onto(&live_n, &desired_n);
        change.fields = diff::field_changes(&projected, &desired_n);
        change.after = Some(diff::mask_secret(&desired_n));
        let spec_changed = change.fields.iter().any(|f| f.path.starts_with("spec"));
        change.action = if spec_changed {
            Action::Recreate {
                reason:
                    "a Job's spec is immutable; ferry deletes it (foreground) and creates it again"
                        .into(),
            }
        } else {
            Action::Update
        };
        change.desired = Some(desired);
        return Ok(change);
    }

    let ferry_owned_but_unset = entries
        .iter()
        .filter(|e| e.manager == FIELD_MANAGER && e.operation == "Apply")
        .any(|e| !fields::owned_but_absent(&e.fields, &desired).is_empty());
    if !ferry_owned_but_unset && diff::is_subset(&desired_n, &live_n) {
        skipped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return Ok(change);
    }
    match cluster
        .apply(kind, namespace, &key.name, &desired, true)
        .await
    {
        Ok(after) => {
            let after_n = diff::mask_secret(&diff::normalize(&after));
            let before_n = diff::mask_secret(&live_n);
            change.fields = diff::field_changes(&before_n, &after_n);
            change.after = Some(after_n);
            if !change.fields.is_empty() {
                change.action = Action::Update;
                change.desired = Some(desired);
            }
        }
        Err(e) if rejected(&e) => {
            change.action = Action::Invalid {
                message: e.server_message(),
            };
        }
        Err(e) => return Err(e.into()),
    }
    Ok(change)
}

/// Where objects bound for a namespace that this commit creates are dry-run, so they are
/// validated by the server before anything is applied.
const STAND_IN_NAMESPACE: &str = "default";

enum StandIn {
    /// The server accepted the object (returned with the real namespace put back).
    Validated(Value),
    /// The server rejected it: the commit is invalid.
    Rejected(String),
    /// No faithful stand-in (an object of that name already lives there).
    Unavailable(String),
}

/// Dry-runs `desired` in [`STAND_IN_NAMESPACE`] instead of its own (not yet created)
/// namespace. Skipped when an object of that name exists there, since the dry-run would
/// then be an update of an unrelated object.
async fn stand_in_dry_run(
    cluster: &Cluster,
    kind: &ServedKind,
    name: &str,
    desired: &Value,
) -> Result<StandIn, PlanError> {
    if cluster
        .get(kind, Some(STAND_IN_NAMESPACE), name)
        .await?
        .is_some()
    {
        return Ok(StandIn::Unavailable(format!(
            "{} {STAND_IN_NAMESPACE}/{name} exists, so it cannot stand in",
            kind.resource.kind
        )));
    }
    let mut moved = desired.clone();
    let original = moved["metadata"]["namespace"].clone();
    moved["metadata"]["namespace"] = Value::String(STAND_IN_NAMESPACE.into());
    match cluster
        .apply(kind, Some(STAND_IN_NAMESPACE), name, &moved, true)
        .await
    {
        Ok(mut after) => {
            after["metadata"]["namespace"] = original;
            Ok(StandIn::Validated(after))
        }
        Err(e) if rejected(&e) => Ok(StandIn::Rejected(e.server_message())),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod rejected_tests {
    use super::*;

    fn api(code: u16, message: &str) -> ClusterError {
        ClusterError::Api {
            action: "dry-run applying ConfigMap a/b".into(),
            code,
            reason: String::new(),
            message: message.into(),
        }
    }

    #[test]
    fn the_objects_fault_or_the_servers() {
        assert!(rejected(&api(422, "spec.selector: Required value")));
        assert!(rejected(&api(413, "Request entity too large")));
        assert!(rejected(&api(
            500,
            "failed to create typed patch object (a/b; /v1, Kind=ConfigMap): .data.k: expected string"
        )));
        // Real outages stay errors: retried, never reported as a bad manifest.
        assert!(rejected(&api(
            500,
            "failed to convert new object (a/b; apps/v1, Kind=DaemonSet) to proper version: \
             quantities must match the regular expression"
        )));
        assert!(!rejected(&api(500, "etcdserver: request timed out")));
        assert!(!rejected(&api(
            500,
            "failed to convert live object (a/b) to proper version"
        )));
        assert!(!rejected(&api(
            500,
            "failed to create typed live object: x"
        )));
        assert!(!rejected(&api(503, "failed to create typed patch object")));
        assert!(!rejected(&ClusterError::Transport {
            action: "x".into(),
            cause: "connection refused".into()
        }));
    }
}
