//! The read phase of a plan: everything it needs from the cluster, behind [`LiveReads`], into
//! a [`LiveSnapshot`]. The app's inventory is one LIST per kind (none before its first
//! sync); every other read is made only when a decision asks for it ([`Step::Needs`]), so
//! the read phase never decides anything itself and reads exactly what the decisions use.

use std::collections::{HashMap, HashSet};
use std::future::Future;

use futures::{StreamExt, TryStreamExt};
use serde_json::Value;

use super::build::{inventory_selector, PlanInput};
use super::decide::{inventory, object_step, Desired};
use super::object::{rejected, Read, Step, STAND_IN_NAMESPACE};
use super::prune::{orphans, RESIDENTS_SHOWN};
use super::snapshot::{DryRun, LiveSnapshot, ObjectReads};
use super::PlanError;
use crate::cluster::{Cluster, ClusterError, Resident, ServedKind};
use crate::manifest::Resource;

/// The reads a plan makes: [`Cluster`] implements them against the API server.
pub trait LiveReads: Sync {
    /// All objects of a kind (in every namespace) that carry the label selector.
    fn list_labelled(
        &self,
        kind: &ServedKind,
        selector: &str,
    ) -> impl Future<Output = Result<Vec<Value>, ClusterError>> + Send;

    /// One object; `Ok(None)` when it does not exist.
    fn get(
        &self,
        kind: &ServedKind,
        namespace: Option<&str>,
        name: &str,
    ) -> impl Future<Output = Result<Option<Value>, ClusterError>> + Send;

    /// A server-side-apply dry-run of `object`: the object as it would be after the apply.
    fn dry_run(
        &self,
        kind: &ServedKind,
        namespace: Option<&str>,
        name: &str,
        object: &Value,
    ) -> impl Future<Output = Result<Value, ClusterError>> + Send;

    /// Up to `limit` objects in `namespace` that app `app` does not manage.
    fn foreign_residents(
        &self,
        namespace: &str,
        app: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Resident>, ClusterError>> + Send;
}

impl LiveReads for Cluster {
    fn list_labelled(
        &self,
        kind: &ServedKind,
        selector: &str,
    ) -> impl Future<Output = Result<Vec<Value>, ClusterError>> + Send {
        Cluster::list_labelled(self, kind, selector)
    }

    fn get(
        &self,
        kind: &ServedKind,
        namespace: Option<&str>,
        name: &str,
    ) -> impl Future<Output = Result<Option<Value>, ClusterError>> + Send {
        Cluster::get(self, kind, namespace, name)
    }

    fn dry_run(
        &self,
        kind: &ServedKind,
        namespace: Option<&str>,
        name: &str,
        object: &Value,
    ) -> impl Future<Output = Result<Value, ClusterError>> + Send {
        self.apply(kind, namespace, name, object, true)
    }

    fn foreign_residents(
        &self,
        namespace: &str,
        app: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Resident>, ClusterError>> + Send {
        Cluster::foreign_residents(self, namespace, app, limit)
    }
}

/// Most reads one object's decision can need (lookup, dry-run, stand-in lookup and dry-run).
const MAX_READS_PER_OBJECT: usize = 4;

/// Reads what planning `input` needs: the app's inventory, then per desired object the reads
/// its decision asks for (`input.concurrency` objects at once), then the residents of
/// namespaces that would be pruned. Fails on any error that is not the server rejecting an
/// object (those are recorded as [`DryRun::Rejected`]).
pub async fn read_live<R: LiveReads>(
    reads: &R,
    input: &PlanInput<'_>,
) -> Result<LiveSnapshot, PlanError> {
    let listed = list_inventory(reads, input).await?;
    let desired = Desired::of(input.bundle);
    let live = inventory(&listed, input.options.install);
    let (desired_ref, live_ref) = (&desired, &live);
    let per_object: Vec<_> = desired
        .resources
        .iter()
        .map(|resource| async move {
            let mut done = ObjectReads::default();
            for _ in 0..=MAX_READS_PER_OBJECT {
                let step = object_step(
                    desired_ref,
                    live_ref,
                    input.kinds,
                    &input.options,
                    resource,
                    &done,
                )?;
                let Step::Needs(read) = step else {
                    return Ok((resource.key.clone(), done));
                };
                perform(reads, input, resource, read, &mut done).await?;
            }
            Err(PlanError::Unread(format!(
                "{}: still undecided after {MAX_READS_PER_OBJECT} reads",
                resource.key
            )))
        })
        .collect();
    let objects: HashMap<_, _> = futures::stream::iter(per_object)
        .buffered(input.concurrency.max(1))
        .try_collect()
        .await?;

    let mut residents = HashMap::new();
    let (_, unread) = orphans(&input.options, &live, &desired, &residents);
    for namespace in unread {
        let found = reads
            .foreign_residents(&namespace, input.options.app, RESIDENTS_SHOWN)
            .await?;
        residents.insert(namespace, found);
    }
    Ok(LiveSnapshot {
        listed,
        objects,
        residents,
    })
}

/// The app's live inventory: one LIST per kind of the bundle or the inventory record; none
/// when the app has no record (never applied by this install: a cold start of 1,000 apps
/// saves a LIST per kind per app).
async fn list_inventory<R: LiveReads>(
    reads: &R,
    input: &PlanInput<'_>,
) -> Result<Vec<(ServedKind, Vec<Value>)>, PlanError> {
    let Some(recorded) = input.inventory_kinds else {
        return Ok(Vec::new());
    };
    let mut list_kinds: Vec<&ServedKind> = Vec::new();
    let mut seen = HashSet::new();
    for kind in input.kinds.values().chain(recorded.iter()) {
        if seen.insert((kind.resource.group.clone(), kind.resource.kind.clone())) {
            list_kinds.push(kind);
        }
    }
    let selector = inventory_selector(input.options.app);
    let list_calls: Vec<_> = list_kinds
        .into_iter()
        .map(|kind| {
            let selector = &selector;
            async move {
                match reads.list_labelled(kind, selector).await {
                    Ok(items) => Ok((kind.clone(), items)),
                    // A kind from the inventory that the server no longer serves (CRD gone).
                    Err(ClusterError::Api { code: 404, .. }) => Ok((kind.clone(), Vec::new())),
                    Err(e) => Err(e),
                }
            }
        })
        .collect();
    Ok(futures::stream::iter(list_calls)
        .buffer_unordered(input.concurrency.max(1))
        .try_collect()
        .await?)
}

/// Makes one read a decision asked for and records its answer.
async fn perform<R: LiveReads>(
    reads: &R,
    input: &PlanInput<'_>,
    resource: &Resource,
    read: Read,
    done: &mut ObjectReads,
) -> Result<(), PlanError> {
    let key = &resource.key;
    let Some(kind) = input.kinds.get(&key.gvk()) else {
        return Err(PlanError::UnresolvedKind(key.gvk().to_string()));
    };
    let namespace = key.namespace.as_deref();
    match read {
        Read::Lookup => done.found = Some(reads.get(kind, namespace, &key.name).await?),
        Read::DryRun(object) => {
            done.dry_run = Some(answer(
                reads.dry_run(kind, namespace, &key.name, &object).await,
            )?);
        }
        Read::StandInLookup => {
            let found = reads.get(kind, Some(STAND_IN_NAMESPACE), &key.name).await?;
            done.stand_in_taken = Some(found.is_some());
        }
        Read::StandInDryRun(object) => {
            let result = reads
                .dry_run(kind, Some(STAND_IN_NAMESPACE), &key.name, &object)
                .await;
            done.stand_in_dry_run = Some(answer(result)?);
        }
    }
    Ok(())
}

/// A dry-run's result as the decision sees it: the server rejecting the object is an answer,
/// any other failure (unreachable, overloaded) fails the plan.
fn answer(result: Result<Value, ClusterError>) -> Result<DryRun, PlanError> {
    match result {
        Ok(after) => Ok(DryRun::Accepted(after)),
        Err(e) if rejected(&e) => Ok(DryRun::Rejected {
            code: e.code().unwrap_or_default(),
            message: e.server_message(),
        }),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
#[path = "reads_tests.rs"]
mod tests;
