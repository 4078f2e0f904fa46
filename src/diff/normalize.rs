//! Dropping what the API server and controllers maintain, so that only intent is compared.

use serde_json::Value;

/// Annotations that ferry writes for bookkeeping or that the server/controllers maintain;
/// never drift.
pub const IGNORED_ANNOTATIONS: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    "ferry.dev/commit",
    "ferry.dev/commit-subject",
    "ferry.dev/spec-hash",
    "kubernetes.io/change-cause",
    "deprecated.daemonset.template.generation",
    "deployment.kubernetes.io/revision",
];

/// Metadata fields the server maintains.
pub const IGNORED_METADATA: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// Returns a copy without server-maintained noise: top-level `status`;
/// `metadata.{managedFields, resourceVersion, uid, generation, creationTimestamp, selfLink,
/// deletionTimestamp, deletionGracePeriodSeconds}`; the [`IGNORED_ANNOTATIONS`]; and
/// `metadata.annotations` / `metadata.labels` when they end up empty (or are `null`).
/// Anything that is not an object is returned unchanged.
pub fn normalize(obj: &Value) -> Value {
    let mut out = obj.clone();
    let Some(root) = out.as_object_mut() else {
        return out;
    };
    root.remove("status");
    if let Some(meta) = root.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in IGNORED_METADATA {
            meta.remove(*field);
        }
        if let Some(ann) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            for key in IGNORED_ANNOTATIONS {
                ann.remove(*key);
            }
        }
        for map in ["annotations", "labels"] {
            let empty = match meta.get(map) {
                Some(Value::Object(m)) => m.is_empty(),
                Some(Value::Null) => true,
                _ => false,
            };
            if empty {
                meta.remove(map);
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "normalize_tests.rs"]
mod tests;
