//! Deleting without taking the pods down, as `kubectl delete --cascade=orphan` does: a
//! DaemonSet or StatefulSet whose immutable fields changed (selector, `serviceName`,
//! `volumeClaimTemplates`) is replaced keeping its pods when it says so
//! (`ferry.dev/replace: orphan`), and an object leaving git is pruned keeping its dependents
//! when it says so (`ferry.dev/delete-propagation: orphan`). Pure: both read only the
//! objects' annotations and the server's answer.

use serde_json::Value;

use super::object::show_replacement;
use super::{Action, Change};
use crate::manifest::ObjectKey;

/// On a DaemonSet or StatefulSet: `orphan` replaces it, keeping its pods, when an immutable
/// field changed (delete with `propagationPolicy: Orphan`, create again).
pub const REPLACE_ANNOTATION: &str = "ferry.dev/replace";
/// On any object: `orphan` prunes it with `propagationPolicy: Orphan` (its dependents, e.g.
/// a DaemonSet's pods, keep running); `background` (the default) lets them go with it.
pub const DELETE_PROPAGATION_ANNOTATION: &str = "ferry.dev/delete-propagation";

/// The one value both annotations take to keep dependents.
const ORPHAN: &str = "orphan";

fn annotation<'v>(object: &'v Value, name: &str) -> Option<&'v str> {
    object["metadata"]["annotations"][name].as_str()
}

/// Whether the server refused an update of `key` because a field it cannot change did.
fn immutable_refusal(key: &ObjectKey, message: &str) -> bool {
    key.group == "apps"
        && matches!(key.kind.as_str(), "DaemonSet" | "StatefulSet")
        && (message.contains("field is immutable")
            || message.contains("updates to statefulset spec for fields other than"))
}

/// The decision for an existing object whose dry-run the server rejected with `message`:
/// a replace keeping its pods when the refusal is an immutable field of a DaemonSet or
/// StatefulSet annotated [`REPLACE_ANNOTATION`]` orphan`, else invalid (with the way out
/// when there is one).
pub(super) fn on_rejected(
    mut change: Change,
    live_n: &Value,
    desired: Value,
    desired_n: &Value,
    message: &str,
) -> Change {
    if !immutable_refusal(&change.key, message) {
        change.action = Action::Invalid {
            message: message.to_string(),
        };
        return change;
    }
    match annotation(&desired, REPLACE_ANNOTATION) {
        Some(ORPHAN) => {
            show_replacement(&mut change, live_n, desired_n);
            change.action = Action::Recreate {
                reason: format!(
                    "{message}; {REPLACE_ANNOTATION}: {ORPHAN}: ferry deletes the {} keeping its pods (propagationPolicy Orphan) and creates it again; the new one adopts the pods its selector matches and rolls them to its template, others keep running unowned",
                    change.key.kind
                ),
            };
            change.keep_dependents = true;
            change.desired = Some(desired);
        }
        Some(other) => {
            change.action = Action::Invalid {
                message: format!(
                    "{message}; {REPLACE_ANNOTATION}: \"{other}\" is not understood (the only value is \"{ORPHAN}\")"
                ),
            };
        }
        None => {
            change.action = Action::Invalid {
                message: format!(
                    "{message} (to replace it while its pods keep running, annotate it {REPLACE_ANNOTATION}: {ORPHAN})"
                ),
            };
        }
    }
    change
}

/// How a live object leaving git is pruned: `Ok(true)` keeps its dependents, `Ok(false)`
/// lets them go with it, `Err` names an annotation value ferry does not understand (the
/// object is then kept, never deleted in a way nobody asked for).
pub(super) fn prune_keeps_dependents(live: &Value) -> Result<bool, String> {
    match annotation(live, DELETE_PROPAGATION_ANNOTATION) {
        None | Some("background") => Ok(false),
        Some(ORPHAN) => Ok(true),
        Some(other) => Err(format!(
            "{DELETE_PROPAGATION_ANNOTATION}: \"{other}\" is not understood (\"{ORPHAN}\" or \"background\"); not pruned"
        )),
    }
}

#[cfg(test)]
#[path = "replace_tests.rs"]
mod tests;
