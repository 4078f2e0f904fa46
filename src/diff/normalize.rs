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
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn drops_noise_and_keeps_intent() {
        let live = json!({
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {
                "name": "agent",
                "namespace": "default",
                "uid": "1234",
                "resourceVersion": "99",
                "generation": 3,
                "creationTimestamp": "2024-01-01T00:00:00Z",
                "selfLink": "/apis/apps/v1/x",
                "deletionTimestamp": "2024-01-02T00:00:00Z",
                "deletionGracePeriodSeconds": 30,
                "managedFields": [{"manager": "ferry"}],
                "labels": {"app": "agent"},
                "annotations": {
                    "ferry.dev/commit": "abc",
                    "ferry.dev/commit-subject": "subject",
                    "ferry.dev/spec-hash": "h",
                    "kubernetes.io/change-cause": "ferry abc: subject",
                    "deprecated.daemonset.template.generation": "3",
                    "deployment.kubernetes.io/revision": "2",
                    "kubectl.kubernetes.io/last-applied-configuration": "{}",
                    "team": "infra"
                },
                "finalizers": ["x"]
            },
            "spec": {"minReadySeconds": 5},
            "status": {"numberReady": 1}
        });
        let n = normalize(&live);
        assert_eq!(
            n,
            json!({
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "metadata": {
                    "name": "agent",
                    "namespace": "default",
                    "labels": {"app": "agent"},
                    "annotations": {"team": "infra"},
                    "finalizers": ["x"]
                },
                "spec": {"minReadySeconds": 5}
            })
        );
    }

    #[test]
    fn removes_maps_left_empty() {
        let obj = json!({
            "metadata": {
                "name": "x",
                "labels": {},
                "annotations": {"ferry.dev/commit": "abc"}
            }
        });
        assert_eq!(normalize(&obj), json!({"metadata": {"name": "x"}}));
    }

    #[test]
    fn odd_input_does_not_panic() {
        assert_eq!(normalize(&json!("x")), json!("x"));
        assert_eq!(
            normalize(&json!({"metadata": 5, "status": 1})),
            json!({"metadata": 5})
        );
        assert_eq!(
            normalize(&json!({"metadata": {"annotations": [1]}})),
            json!({"metadata": {"annotations": [1]}})
        );
    }
}
