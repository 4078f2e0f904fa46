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
