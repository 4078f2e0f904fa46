//! The decision phase of a plan: from the bundle, the kinds discovery resolved and what the
//! read phase saw ([`LiveSnapshot`]) to a [`Plan`]. Pure: no I/O, no clock, no async; the same
//! inputs always give the same plan, so every decision is unit-tested from fixtures.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::guard::{other_install, PruneGuard};
use super::object::{awaiting_crd, decide_object, Step};
use super::snapshot::{LiveSnapshot, ObjectReads};
use super::{Action, Change, Plan, PlanError, PlanStats};
use crate::cluster::ServedKind;
use crate::manifest::{Bundle, Gvk, ObjectKey, Resource, Scope};
use crate::source::CommitInfo;

/// What a plan decides with, besides the bundle and what the cluster holds.
pub struct PlanOptions<'a> {
    /// The app's name (its inventory label value).
    pub app: &'a str,
    /// The commit being planned.
    pub commit: &'a CommitInfo,
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
    /// True for a Job (key, manifest) that already ran to completion with this spec in an
    /// earlier sync: when it is gone (its TTL removed it) it is not created again.
    pub completed_job: &'a (dyn Fn(&ObjectKey, &Value) -> bool + Sync),
    /// The app's staged-rollout default (`gates.steps`…); an object's `ferry.dev/steps`
    /// annotations win over it.
    pub default_steps: Option<&'a super::staged::StageSpec>,
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

/// The app's live inventory as decisions see it: by identity, with its served kind; objects
/// labelled for another ferry install left out (never this install's to change or prune).
pub(super) type Inventory<'s> = HashMap<Identity, (&'s ServedKind, &'s Value)>;

/// Indexes the listed inventory by identity.
pub(super) fn inventory<'s>(
    listed: &'s [(ServedKind, Vec<Value>)],
    install: &str,
) -> Inventory<'s> {
    let mut live = HashMap::new();
    for (kind, items) in listed {
        for item in items.iter().filter(|i| !other_install(i, install)) {
            let meta = &item["metadata"];
            let name = meta["name"].as_str().unwrap_or_default().to_string();
            let namespace = meta["namespace"].as_str().map(str::to_string);
            let id = (
                kind.resource.group.clone(),
                kind.resource.kind.clone(),
                namespace,
                name,
            );
            live.insert(id, (kind, item));
        }
    }
    live
}

/// What git wants, indexed the ways the decisions ask.
pub(super) struct Desired<'b> {
    /// The resources in wave order (stable: as written in git within a wave).
    pub resources: Vec<&'b Resource>,
    /// Namespaces the bundle itself creates.
    pub namespaces_created: HashSet<String>,
    /// Every desired object's identity.
    pub ids: HashSet<Identity>,
    /// Every namespace some desired object lives in.
    pub namespaces: HashSet<&'b str>,
    /// Kinds that CustomResourceDefinitions of the bundle define.
    pub crd_kinds: HashMap<Gvk, Scope>,
}

impl<'b> Desired<'b> {
    pub(super) fn of(bundle: &'b Bundle) -> Desired<'b> {
        let mut resources: Vec<&Resource> = bundle.resources.iter().collect();
        resources.sort_by_key(|r| r.wave);
        Desired {
            namespaces_created: bundle
                .resources
                .iter()
                .filter(|r| r.key.group.is_empty() && r.key.kind == "Namespace")
                .map(|r| r.key.name.clone())
                .collect(),
            ids: resources.iter().map(|r| identity_of_key(&r.key)).collect(),
            namespaces: bundle
                .resources
                .iter()
                .filter_map(|r| r.key.namespace.as_deref())
                .collect(),
            crd_kinds: crate::manifest::kinds_defined_in_bundle(bundle),
            resources,
        }
    }
}

/// One desired object's decision so far: its change, or the read it needs next. The read
/// phase calls it until it decides; [`decide`] calls it once per object.
pub(super) fn object_step(
    desired: &Desired<'_>,
    inventory: &Inventory<'_>,
    kinds: &HashMap<Gvk, ServedKind>,
    options: &PlanOptions<'_>,
    resource: &Resource,
    reads: &ObjectReads,
) -> Result<Step, PlanError> {
    let Some(kind) = kinds.get(&resource.key.gvk()) else {
        let change = awaiting_crd(options, resource, &desired.crd_kinds)?;
        return Ok(Step::Decided {
            change: Box::new(change),
            skipped_dry_run: false,
        });
    };
    let live = inventory
        .get(&identity_of_key(&resource.key))
        .map(|(_, v)| *v);
    Ok(decide_object(
        options,
        resource,
        kind,
        live,
        &desired.namespaces_created,
        reads,
    ))
}

/// Decides the plan: one entry per desired object in wave order, then the prune-or-keep
/// entries of inventory objects git no longer wants, then the prune guard's verdict. Fails
/// only on a kind neither discovery nor a CRD of the bundle knows, or on a read the snapshot
/// lacks (both bugs of the caller). `stats` carries only `skipped_dry_runs`.
pub fn decide(
    bundle: &Bundle,
    kinds: &HashMap<Gvk, ServedKind>,
    live: &LiveSnapshot,
    options: &PlanOptions<'_>,
) -> Result<Plan, PlanError> {
    let desired = Desired::of(bundle);
    let inventory = inventory(&live.listed, options.install);
    let unread = ObjectReads::default();
    let mut changes: Vec<Change> = Vec::with_capacity(desired.resources.len());
    let mut skipped = 0;
    for resource in &desired.resources {
        let reads = live.objects.get(&resource.key).unwrap_or(&unread);
        match object_step(&desired, &inventory, kinds, options, resource, reads)? {
            Step::Decided {
                change,
                skipped_dry_run,
            } => {
                skipped += u64::from(skipped_dry_run);
                changes.push(*change);
            }
            Step::Needs(read) => {
                return Err(PlanError::Unread(format!("{} ({read})", resource.key)))
            }
        }
    }
    let (prunes, unread_namespaces) =
        super::prune::orphans(options, &inventory, &desired, &live.residents);
    if let Some(namespace) = unread_namespaces.first() {
        return Err(PlanError::Unread(format!(
            "what else lives in namespace {namespace}"
        )));
    }
    changes.extend(prunes);
    let pruned = changes
        .iter()
        .filter(|c| matches!(c.action, Action::Prune))
        .count();
    let refusal = options.guard.judge(pruned, inventory.len());
    Ok(Plan {
        app: options.app.to_string(),
        commit: options.commit.clone(),
        changes,
        stats: PlanStats {
            skipped_dry_runs: skipped,
            ..PlanStats::default()
        },
        recorded: Default::default(),
        refusal,
        rendered: None,
    })
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
