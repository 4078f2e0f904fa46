//! The prune half of a plan: every object of the app's live inventory that git no longer
//! wants, judged one by one. An object is pruned only when pruning is on, it does not opt out,
//! ferry's own field manager applied it, and — for a Namespace — it is not a system
//! namespace or ferry's own, git wants nothing inside it, and it holds nothing ferry does not
//! manage. Everything else is kept as an orphan with the reason. Pure: what lives in a
//! namespace comes from the read phase.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::decide::{Desired, Identity, Inventory, PlanOptions};
use super::guard::{applied_by_ferry, protected_namespace, uid_of};
use super::replace::{prune_keeps_dependents, DELETE_PROPAGATION_ANNOTATION};
use super::{Action, Change, PRUNE_ANNOTATION};
use crate::cluster::{Resident, ServedKind};
use crate::diff;
use crate::manifest::ObjectKey;

/// How many foreign objects a kept Namespace's reason names.
pub(super) const RESIDENTS_SHOWN: usize = 5;

/// The prune-or-keep entries for live objects no longer in git, in a stable order, and the
/// namespaces whose residents `residents` lacks but a decision needs (their Namespace stays
/// a prune until they are read).
pub(super) fn orphans(
    options: &PlanOptions<'_>,
    live: &Inventory<'_>,
    desired: &Desired<'_>,
    residents: &HashMap<String, Vec<Resident>>,
) -> (Vec<Change>, Vec<String>) {
    let mut gone: Vec<(&Identity, &(&ServedKind, &Value))> = live
        .iter()
        .filter(|(id, _)| !desired.ids.contains(*id))
        .collect();
    gone.sort_by(|a, b| a.0.cmp(b.0));
    let mut changes = Vec::with_capacity(gone.len());
    for ((_, _, namespace, name), (kind, object)) in &gone {
        let key = ObjectKey {
            group: kind.resource.group.clone(),
            version: kind.resource.version.clone(),
            kind: kind.resource.kind.clone(),
            namespace: namespace.clone(),
            name: name.clone(),
        };
        let (action, keep_dependents) = match keep_reason(options, &key, object) {
            Some(reason) => (Action::Orphan { reason }, false),
            None => match prune_keeps_dependents(object) {
                Ok(keep) => (Action::Prune, keep),
                Err(reason) => (Action::Orphan { reason }, false),
            },
        };
        let note = keep_dependents.then(|| {
            format!("{DELETE_PROPAGATION_ANNOTATION}: orphan: deleted with propagationPolicy Orphan, its dependents keep running")
        });
        changes.push(Change {
            wave: crate::manifest::default_wave(&key.group, &key.kind),
            key,
            origin: None,
            action,
            fields: Vec::new(),
            before: Some(diff::mask_secret(&diff::normalize(object))),
            after: None,
            desired: None,
            kind: Some((*kind).clone()),
            note,
            uid: uid_of(object),
            keep_dependents,
            staging: None,
        });
    }
    // A Namespace goes with everything in it: keep it while git still wants something there,
    // while this app keeps an object there, or while it holds anything ferry does not manage.
    let kept_namespaces: HashSet<String> = changes
        .iter()
        .filter(|c| !matches!(c.action, Action::Prune))
        .filter_map(|c| c.key.namespace.clone())
        .collect();
    let mut unread = Vec::new();
    for change in &mut changes {
        if !matches!(change.action, Action::Prune) || !is_namespace(&change.key) {
            continue;
        }
        let name = change.key.name.as_str();
        let reason = if desired.namespaces.contains(name) {
            Some(format!(
                "git still wants objects in namespace {name}; deleting it would delete them"
            ))
        } else if kept_namespaces.contains(name) {
            Some(format!(
                "objects of this app in namespace {name} are kept (see above); deleting it would delete them"
            ))
        } else if let Some(residents) = residents.get(name) {
            (!residents.is_empty()).then(|| {
                let listed: Vec<String> = residents.iter().map(ToString::to_string).collect();
                format!(
                    "namespace {name} holds objects ferry does not manage ({}); deleting it would delete them",
                    listed.join(", ")
                )
            })
        } else {
            unread.push(name.to_string());
            None
        };
        if let Some(reason) = reason {
            change.action = Action::Orphan { reason };
        }
    }
    (changes, unread)
}

fn is_namespace(key: &ObjectKey) -> bool {
    key.group.is_empty() && key.kind == "Namespace"
}

/// Why a live object no longer in git is kept rather than pruned, if it is.
fn keep_reason(options: &PlanOptions<'_>, key: &ObjectKey, object: &Value) -> Option<String> {
    if object["metadata"]["annotations"][PRUNE_ANNOTATION].as_str() == Some("false") {
        return Some(format!("{PRUNE_ANNOTATION}: \"false\""));
    }
    if !options.prune {
        return Some("pruning is off for this app (use --prune or prune: true)".into());
    }
    if !applied_by_ferry(object) {
        return Some(
            "it carries this app's labels, but ferry's field manager never applied it; ferry deletes only what it applied"
                .into(),
        );
    }
    if is_namespace(key) {
        return protected_namespace(&key.name, options.install);
    }
    None
}

#[cfg(test)]
#[path = "prune_tests.rs"]
mod tests;
