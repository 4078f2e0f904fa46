//! The labels and annotations ferry adds to every object it applies.

use serde_json::{Map, Value};

use crate::cluster::{APP_LABEL, INSTALL_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE};
use crate::source::CommitInfo;

/// Annotation holding the sha of the commit that last changed the object.
pub const COMMIT_ANNOTATION: &str = "ferry.dev/commit";
/// Annotation Kubernetes copies onto a new ControllerRevision; ferry writes
/// `ferry <short-sha>: <subject>` on DaemonSets and StatefulSets.
pub const CHANGE_CAUSE_ANNOTATION: &str = "kubernetes.io/change-cause";
/// Per-object opt-out of pruning: `ferry.dev/prune: "false"`.
pub const PRUNE_ANNOTATION: &str = "ferry.dev/prune";

/// Returns the manifest with ferry's inventory labels and commit annotations added. The
/// change-cause goes on DaemonSets and StatefulSets in the same apply that changes their
/// template, because Kubernetes copies it only when it creates the revision.
pub fn with_bookkeeping(object: &Value, app: &str, install: &str, commit: &CommitInfo) -> Value {
    let mut out = object.clone();
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(meta) = out.get_mut("metadata").and_then(Value::as_object_mut) else {
        return out;
    };
    let labels = child_map(meta, "labels");
    labels.insert(MANAGED_BY_LABEL.into(), MANAGED_BY_VALUE.into());
    labels.insert(APP_LABEL.into(), app.into());
    labels.insert(INSTALL_LABEL.into(), install.into());
    let annotations = child_map(meta, "annotations");
    annotations.insert(COMMIT_ANNOTATION.into(), commit.sha.clone().into());
    if kind == "DaemonSet" || kind == "StatefulSet" {
        annotations.insert(
            CHANGE_CAUSE_ANNOTATION.into(),
            format!("ferry {}: {}", commit.short_sha(), commit.subject).into(),
        );
    }
    out
}

fn child_map<'a>(meta: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let slot = meta
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(map) => map,
        _ => unreachable!("slot was just made an object"),
    }
}

#[cfg(test)]
#[path = "bookkeeping_tests.rs"]
mod tests;
