//! One decision per desired object: create, update (with its field diff), recreate (a Job's
//! spec, or a workload replaced keeping its pods: [`replace`]), unchanged or invalid, from
//! the live object and a server-side-apply dry-run. Objects bound for a namespace the same
//! commit creates are dry-run in a stand-in namespace; objects whose kind a
//! CRD of the same commit defines are planned without one. Pure: a decision that needs a read
//! it does not have yet says which ([`Step::Needs`]); the read phase makes it and asks again.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde_json::Value;

use super::decide::PlanOptions;
use super::guard::foreign_owner;
use super::project::project_onto;
use super::replace;
use super::snapshot::{DryRun, ObjectReads};
use super::staged::{stage, RolloutMark, ROLLOUT_MANAGER};
use super::{with_bookkeeping, Action, Change, PlanError};
use crate::cluster::{ClusterError, ServedKind, FIELD_MANAGER};
use crate::diff::{self, fields};
use crate::manifest::Resource;

/// Where a desired object's decision stands.
pub(super) enum Step {
    /// Decided.
    Decided {
        /// The entry.
        change: Box<Change>,
        /// True when the local check proved the object unchanged without a dry-run.
        skipped_dry_run: bool,
    },
    /// Undecided until this read is made.
    Needs(Read),
}

fn decided(change: Change) -> Step {
    Step::Decided {
        change: Box::new(change),
        skipped_dry_run: false,
    }
}

/// A read one object's decision needs, in the order they come up.
#[derive(Debug)]
pub(super) enum Read {
    /// GET the object by name: it is not in the app's inventory but may exist.
    Lookup,
    /// Dry-run apply this object (ferry's bookkeeping added) in its own namespace.
    DryRun(Value),
    /// GET an object of the same name in [`STAND_IN_NAMESPACE`].
    StandInLookup,
    /// Dry-run apply this object, moved to [`STAND_IN_NAMESPACE`].
    StandInDryRun(Value),
}

impl fmt::Display for Read {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Read::Lookup => "a lookup by name",
            Read::DryRun(_) => "a dry-run",
            Read::StandInLookup => "a lookup in the stand-in namespace",
            Read::StandInDryRun(_) => "a dry-run in the stand-in namespace",
        })
    }
}

/// An object whose kind the cluster does not serve yet because a CustomResourceDefinition of
/// the same commit defines it: planned as a create without a dry-run (the server cannot
/// validate it before the CRD exists); apply resolves the kind once the CRD's wave is in.
/// Anything else unresolved is the caller's bug.
pub(super) fn awaiting_crd(
    options: &PlanOptions<'_>,
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
    let desired = with_bookkeeping(
        &resource.object,
        options.app,
        options.install,
        options.commit,
    );
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
        keep_dependents: false,
        staging: None,
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
pub(super) fn rejected(err: &ClusterError) -> bool {
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

/// Decides one desired object of a served kind, given its live inventory entry (if any)
/// and the reads made for it so far.
pub(super) fn decide_object(
    options: &PlanOptions<'_>,
    resource: &Resource,
    kind: &ServedKind,
    live: Option<&Value>,
    namespaces_created: &HashSet<String>,
    reads: &ObjectReads,
) -> Step {
    let key = &resource.key;
    let desired = with_bookkeeping(
        &resource.object,
        options.app,
        options.install,
        options.commit,
    );
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
        keep_dependents: false,
        staging: None,
    };
    // Objects not in the inventory may still exist: created by hand or by another tool,
    // ferry adopts them; managed by another ferry app or install, it refuses unless told to
    // take them over.
    let live = if let Some(v) = live {
        Some(v)
    } else {
        let Some(found) = &reads.found else {
            return Step::Needs(Read::Lookup);
        };
        if let Some(owner) = found
            .as_ref()
            .and_then(|v| foreign_owner(v, options.app, options.install))
        {
            if !options.take_over {
                change.action = Action::Invalid {
                    message: format!(
                        "already managed by {owner}; ferry does not take it over silently. \
                         Remove it from one of the two, or sync this app once with --take-over to move it here"
                    ),
                };
                return decided(change);
            }
            change.note = Some(format!("taken over from {owner} (--take-over)"));
        }
        found.as_ref()
    };
    match live {
        None => decide_create(
            options,
            resource,
            kind,
            change,
            desired,
            namespaces_created,
            reads,
        ),
        Some(live) => decide_existing(options, resource, live, change, desired, reads),
    }
}

/// An object that does not exist yet: a create, validated by a dry-run (in a stand-in
/// namespace when its own comes with the same commit), unless it is a Job that already ran.
fn decide_create(
    options: &PlanOptions<'_>,
    resource: &Resource,
    kind: &ServedKind,
    mut change: Change,
    desired: Value,
    namespaces_created: &HashSet<String>,
    reads: &ObjectReads,
) -> Step {
    let key = &resource.key;
    let namespace = key.namespace.as_deref();
    if key.group == "batch" && key.kind == "Job" && (options.completed_job)(key, &resource.object) {
        change.note = Some(
            "completed in an earlier sync with this spec (since removed, e.g. by its TTL); not re-run"
                .into(),
        );
        return decided(change);
    }
    match &reads.dry_run {
        None => return Step::Needs(Read::DryRun(desired)),
        Some(DryRun::Accepted(after)) => {
            change.after = Some(diff::mask_secret(&diff::normalize(after)));
        }
        Some(DryRun::Rejected { code: 404, .. })
            if namespace.is_some_and(|ns| namespaces_created.contains(ns)) =>
        {
            let target = namespace.unwrap_or_default();
            match stand_in(kind, &key.name, &desired, reads) {
                StandIn::Needs(read) => return Step::Needs(read),
                StandIn::Validated(after) => {
                    change.after = Some(diff::mask_secret(&diff::normalize(&after)));
                    change.note = Some(format!(
                        "dry-run in namespace {STAND_IN_NAMESPACE}: {target} is created by this commit"
                    ));
                }
                StandIn::Rejected(message) => {
                    change.action = Action::Invalid { message };
                    return decided(change);
                }
                StandIn::Unavailable(why) => {
                    change.after = Some(diff::mask_secret(&diff::normalize(&desired)));
                    change.note = Some(format!(
                        "not dry-run: namespace {target} is created by this commit ({why})"
                    ));
                }
            }
        }
        Some(DryRun::Rejected { message, .. }) => {
            change.action = Action::Invalid {
                message: message.clone(),
            };
            return decided(change);
        }
    }
    change.action = Action::Create;
    change.desired = Some(desired);
    decided(change)
}

/// An object that exists: unchanged when the local check proves it (no dry-run), a Job
/// recreated when its immutable spec changed, otherwise what the dry-run shows.
fn decide_existing(
    options: &PlanOptions<'_>,
    resource: &Resource,
    live: &Value,
    mut change: Change,
    mut desired: Value,
    reads: &ObjectReads,
) -> Step {
    let key = &resource.key;
    // Leave fields to the controllers that took them over (an HPA's replicas…).
    let entries = fields::managed_entries(live);
    let yield_to = options.yield_to_managers;
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
    // What ferry holds while stepping a staged rollout (a partition, an OnDelete strategy) is
    // neither drift nor something to dry-run back: compare without it.
    let mut compared = desired.clone();
    fields::strip_owned(
        &mut compared,
        &entries,
        &|e: &fields::ManagedEntry| e.manager == ROLLOUT_MANAGER,
        FIELD_MANAGER,
    );
    let mark = RolloutMark::of_object(live);
    let live_n = diff::normalize(live);
    let desired_n = diff::normalize(&compared);
    change.before = Some(diff::mask_secret(&live_n));
    let unchanged = |change: Change| Step::Decided {
        change: Box::new(change),
        skipped_dry_run: true,
    };

    if key.group == "batch" && key.kind == "Job" {
        // A Job's template is immutable: no dry-run can show the change, and an update fails.
        if diff::is_subset(&desired_n, &live_n) {
            return unchanged(change);
        }
        show_replacement(&mut change, &live_n, &desired_n);
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
        return decided(change);
    }

    // What the subset check cannot see: fields ferry owned but no longer sets, and maps or
    // lists ferry owns whole (atomic) that git changed.
    let subset_blind = entries
        .iter()
        .filter(|e| e.manager == FIELD_MANAGER && e.operation == "Apply")
        .any(|e| {
            !fields::owned_but_absent(&e.fields, &compared).is_empty()
                || !fields::atomic_changed(&e.fields, &desired_n, &live_n).is_empty()
        });
    if mark.is_none() && !subset_blind && diff::is_subset(&desired_n, &live_n) {
        return unchanged(change);
    }
    match &reads.dry_run {
        None => return Step::Needs(Read::DryRun(compared)),
        Some(DryRun::Accepted(after)) => {
            let after_n = diff::mask_secret(&diff::normalize(after));
            let before_n = diff::mask_secret(&live_n);
            change.fields = diff::field_changes(&before_n, &after_n);
            change.after = Some(after_n);
            if !change.fields.is_empty() {
                change.action = Action::Update;
                change.desired = Some(desired.clone());
            }
        }
        Some(DryRun::Rejected { message, .. }) => {
            return decided(replace::on_rejected(
                change, &live_n, desired, &desired_n, message,
            ));
        }
    }
    decided(stage(options, resource, change, desired, mark.as_ref()))
}

/// The fields and after-image of an object that is created again rather than updated: git's
/// object against the live one seen through git's shape.
pub(super) fn show_replacement(change: &mut Change, live_n: &Value, desired_n: &Value) {
    let projected = project_onto(live_n, desired_n);
    change.fields = diff::field_changes(&projected, desired_n);
    change.after = Some(diff::mask_secret(desired_n));
}

/// Where objects bound for a namespace that this commit creates are dry-run, so they are
/// validated by the server before anything is applied.
pub(super) const STAND_IN_NAMESPACE: &str = "default";

enum StandIn {
    /// Undecided until this read is made.
    Needs(Read),
    /// The server accepted the object (returned with the real namespace put back).
    Validated(Value),
    /// The server rejected it: the commit is invalid.
    Rejected(String),
    /// No faithful stand-in (an object of that name already lives there).
    Unavailable(String),
}

/// `desired` dry-run in [`STAND_IN_NAMESPACE`] instead of its own (not yet created)
/// namespace. Skipped when an object of that name exists there, since the dry-run would
/// then be an update of an unrelated object.
fn stand_in(kind: &ServedKind, name: &str, desired: &Value, reads: &ObjectReads) -> StandIn {
    match (reads.stand_in_taken, &reads.stand_in_dry_run) {
        (None, _) => StandIn::Needs(Read::StandInLookup),
        (Some(true), _) => StandIn::Unavailable(format!(
            "{} {STAND_IN_NAMESPACE}/{name} exists, so it cannot stand in",
            kind.resource.kind
        )),
        (Some(false), None) => {
            let mut moved = desired.clone();
            moved["metadata"]["namespace"] = Value::String(STAND_IN_NAMESPACE.into());
            StandIn::Needs(Read::StandInDryRun(moved))
        }
        (Some(false), Some(DryRun::Accepted(after))) => {
            let mut after = after.clone();
            after["metadata"]["namespace"] = desired["metadata"]["namespace"].clone();
            StandIn::Validated(after)
        }
        (Some(false), Some(DryRun::Rejected { message, .. })) => StandIn::Rejected(message.clone()),
    }
}

#[cfg(test)]
#[path = "object_tests.rs"]
mod tests;
