//! One decision per desired object: create, update (with its field diff), recreate, unchanged
//! or invalid, from the live object and a server-side-apply dry-run. Objects bound for a
//! namespace the same commit creates are dry-run in a stand-in namespace; objects whose kind a
//! CRD of the same commit defines are planned without one.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::build::PlanInput;
use super::guard::foreign_owner;
use super::project::project_onto;
use super::{with_bookkeeping, Action, Change, PlanError};
use crate::cluster::{Cluster, ClusterError, ServedKind, FIELD_MANAGER};
use crate::diff::{self, fields};
use crate::manifest::Resource;

/// An object whose kind the cluster does not serve yet because a CustomResourceDefinition of
/// the same commit defines it: planned as a create without a dry-run (the server cannot
/// validate it before the CRD exists); apply resolves the kind once the CRD's wave is in.
/// Anything else unresolved is the caller's bug.
pub(super) fn awaiting_crd(
    input: &PlanInput<'_>,
    resource: &Resource,
    crd_kinds: &HashMap<crate::manifest::Gvk, crate::manifest::Scope>,
) -> Result<Change, PlanError> {
    let key = &resource.key;
    if !crd_kinds.contains_key(&key.gvk()) {
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

pub(super) async fn plan_one(
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
#[path = "object_tests.rs"]
mod tests;
