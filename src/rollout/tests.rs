use super::*;
use serde_json::json;

#[test]
fn outcomes_serialize_flat_with_seconds() {
    let outcome = GateOutcome {
        target: GateTarget::new(WorkloadKind::DaemonSet, "logging", "fluentd"),
        result: GateResult::Failed {
            reason: "ImagePullBackOff".into(),
            message: "pod fluentd-abc12 on kwok-worker-1: ImagePullBackOff".into(),
            pod: Some("fluentd-abc12".into()),
            node: Some("kwok-worker-1".into()),
            elapsed: Duration::from_millis(3240),
        },
        revision: Some(2),
        steps: Vec::new(),
    };
    assert_eq!(
        serde_json::to_value(&outcome).unwrap(),
        json!({
            "target": {"kind": "DaemonSet", "namespace": "logging", "name": "fluentd"},
            "result": "failed", "reason": "ImagePullBackOff",
            "message": "pod fluentd-abc12 on kwok-worker-1: ImagePullBackOff",
            "pod": "fluentd-abc12", "node": "kwok-worker-1", "elapsed_seconds": 3.2,
            "revision": 2
        })
    );
    assert!(outcome.is_failure());
    assert_eq!(
        outcome.summary(),
        "DaemonSet logging/fluentd: failed: pod fluentd-abc12 on kwok-worker-1: ImagePullBackOff"
    );
}

#[test]
fn only_daemonsets_statefulsets_and_jobs_are_gated() {
    let key = |group: &str, kind: &str| ObjectKey {
        group: group.into(),
        version: "v1".into(),
        kind: kind.into(),
        namespace: Some("ns".into()),
        name: "x".into(),
    };
    assert_eq!(
        GateTarget::from_key(&key("apps", "StatefulSet")).map(|t| t.to_string()),
        Some("StatefulSet ns/x".to_string())
    );
    assert!(GateTarget::from_key(&key("batch", "Job")).is_some());
    assert!(GateTarget::from_key(&key("apps", "Deployment")).is_none());
    assert!(GateTarget::from_key(&key("", "ConfigMap")).is_none());
}
