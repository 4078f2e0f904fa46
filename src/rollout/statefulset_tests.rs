//! StatefulSet evaluator tests on status snapshots taken from the local control plane.

use super::*;
use serde_json::{json, Value};

/// `kubectl get sts web -o json` (trimmed).
fn sts(generation: i64, replicas: i64, strategy: Value, status: Value) -> StatefulSet {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"generation": generation, "name": "web", "namespace": "db",
                     "uid": "463a66e8-bd1b-42ef-875a-565296cc64a1"},
        "spec": {
            "podManagementPolicy": "OrderedReady",
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "serviceName": "web",
            "updateStrategy": strategy
        },
        "status": status
    }))
    .unwrap()
}

fn rolling(partition: i64) -> Value {
    json!({"type": "RollingUpdate", "rollingUpdate": {"partition": partition}})
}

#[test]
fn settled_statefulset_is_healthy() {
    let s = sts(
        1,
        3,
        rolling(0),
        json!({"availableReplicas": 3, "collisionCount": 0, "currentReplicas": 3,
               "currentRevision": "web-66c9b4d89", "observedGeneration": 1, "readyReplicas": 3,
               "replicas": 3, "updateRevision": "web-66c9b4d89", "updatedReplicas": 3}),
    );
    assert_eq!(
        evaluate(&s),
        Progress::Healthy {
            message: "3/3 pods ready on revision web-66c9b4d89".into()
        }
    );
}

#[test]
fn observed_generation_lag_is_progressing() {
    let s = sts(
        2,
        3,
        rolling(0),
        json!({"currentRevision": "web-66c9b4d89", "observedGeneration": 1, "readyReplicas": 3,
               "replicas": 3, "updateRevision": "web-66c9b4d89", "updatedReplicas": 3}),
    );
    assert!(
        matches!(evaluate(&s), Progress::Progressing { message } if message.contains("observe generation 2"))
    );
    // A brand-new StatefulSet has no status at all.
    let fresh = sts(1, 3, rolling(0), json!({}));
    assert!(matches!(evaluate(&fresh), Progress::Progressing { .. }));
}

#[test]
fn rolling_update_waits_for_current_revision() {
    // All pods updated and Ready, but the controller has not yet moved currentRevision.
    let s = sts(
        2,
        3,
        rolling(0),
        json!({"availableReplicas": 3, "currentReplicas": 0, "currentRevision": "web-66c9b4d89",
               "observedGeneration": 2, "readyReplicas": 3, "replicas": 3,
               "updateRevision": "web-847f97d764", "updatedReplicas": 3}),
    );
    assert!(
        matches!(evaluate(&s), Progress::Progressing { message } if message.contains("waiting for currentRevision web-66c9b4d89 to become web-847f97d764"))
    );
}

#[test]
fn mid_rollout_counts_ready_and_updated() {
    let s = sts(
        2,
        3,
        rolling(0),
        json!({"availableReplicas": 2, "currentReplicas": 2, "currentRevision": "web-66c9b4d89",
               "observedGeneration": 2, "readyReplicas": 2, "replicas": 3,
               "updateRevision": "web-847f97d764", "updatedReplicas": 1}),
    );
    assert_eq!(
        evaluate(&s),
        Progress::Progressing {
            message: "2/3 ready, 1/3 updated to web-847f97d764".into()
        }
    );
}

#[test]
fn partition_counts_replicas_minus_partition() {
    // replicas 4, partition 2: ordinals 2 and 3 are updated; currentRevision stays old.
    let status = |updated: i64| {
        json!({"availableReplicas": 4, "currentReplicas": 4 - updated,
               "currentRevision": "web-66c9b4d89", "observedGeneration": 2, "readyReplicas": 4,
               "replicas": 4, "updateRevision": "web-847f97d764", "updatedReplicas": updated})
    };
    let one = sts(2, 4, rolling(2), status(1));
    assert_eq!(
        evaluate(&one),
        Progress::Progressing {
            message: "4/4 ready, 1/2 updated to web-847f97d764".into()
        }
    );
    let two = sts(2, 4, rolling(2), status(2));
    assert_eq!(
        evaluate(&two),
        Progress::Healthy {
            message:
                "partitioned rollout complete: 2/4 pods on web-847f97d764 (partition 2), 4/4 ready"
                    .into()
        }
    );
    // A partition above replicas updates nothing: healthy once Ready.
    let none = sts(2, 4, rolling(9), status(0));
    assert!(matches!(evaluate(&none), Progress::Healthy { .. }));
}

#[test]
fn scale_up_and_scale_down_wait_for_pod_count() {
    let up = sts(
        2,
        3,
        rolling(0),
        json!({"currentRevision": "web-1", "observedGeneration": 2, "readyReplicas": 1,
               "replicas": 1, "updateRevision": "web-1", "updatedReplicas": 1}),
    );
    assert_eq!(
        evaluate(&up),
        Progress::Progressing {
            message: "1 pods, want 3; 1/3 ready, 1/3 updated to web-1".into()
        }
    );
    let down = sts(
        2,
        1,
        rolling(0),
        json!({"currentRevision": "web-1", "observedGeneration": 2, "readyReplicas": 2,
               "replicas": 2, "updateRevision": "web-1", "updatedReplicas": 2}),
    );
    assert!(matches!(evaluate(&down), Progress::Progressing { .. }));
}

#[test]
fn on_delete_waits_for_old_pods_and_ignores_current_revision() {
    // Observed on v1.33: with OnDelete the controller never advances currentRevision.
    let before = sts(
        2,
        3,
        json!({"type": "OnDelete"}),
        json!({"availableReplicas": 3, "currentReplicas": 3, "currentRevision": "web-66c9b4d89",
               "observedGeneration": 2, "readyReplicas": 3, "replicas": 3,
               "updateRevision": "web-847f97d764"}),
    );
    assert!(
        matches!(evaluate(&before), Progress::WaitingForPodDeletion { message } if message.starts_with("0/3 pods on revision web-847f97d764; 3 pod(s)"))
    );
    let after = sts(
        2,
        3,
        json!({"type": "OnDelete"}),
        json!({"availableReplicas": 3, "currentRevision": "web-66c9b4d89",
               "observedGeneration": 2, "readyReplicas": 3, "replicas": 3,
               "updateRevision": "web-847f97d764", "updatedReplicas": 3}),
    );
    assert!(matches!(evaluate(&after), Progress::Healthy { .. }));
}

fn pod(name: &str, revision: &str, ready: bool) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": "web", "controller-revision-hash": revision,
                     "statefulset.kubernetes.io/pod-name": name}},
        "spec": {"nodeName": "kwok-worker-1"},
        "status": {"conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
                   "phase": if ready { "Running" } else { "Pending" }}
    }))
    .unwrap()
}

#[test]
fn ordinal_progress_follows_ordered_ready() {
    let s = sts(
        1,
        3,
        rolling(0),
        json!({"observedGeneration": 1, "replicas": 2, "readyReplicas": 1,
               "updateRevision": "web-1", "currentRevision": "web-1"}),
    );
    let pods = vec![pod("web-0", "web-1", true), pod("web-1", "web-1", false)];
    assert_eq!(
        ordinal_progress(&s, &pods).as_deref(),
        Some("web-0 ready; waiting for web-1 (not Ready)")
    );
    let pods = vec![pod("web-0", "web-1", true), pod("web-1", "web-1", true)];
    assert_eq!(
        ordinal_progress(&s, &pods).as_deref(),
        Some("web-0, web-1 ready; waiting for web-2 (not created yet)")
    );
}

#[test]
fn ordinal_progress_updates_from_the_highest_ordinal_down_to_the_partition() {
    let s = sts(
        2,
        3,
        rolling(1),
        json!({"observedGeneration": 2, "replicas": 3, "readyReplicas": 3,
               "updateRevision": "web-2", "currentRevision": "web-1"}),
    );
    let pods = vec![
        pod("web-0", "web-1", true),
        pod("web-1", "web-1", true),
        pod("web-2", "web-2", true),
    ];
    assert_eq!(
        ordinal_progress(&s, &pods).as_deref(),
        Some("web-0, web-1, web-2 ready; waiting for web-1 to be updated to web-2")
    );
    let done = vec![
        pod("web-0", "web-1", true),
        pod("web-1", "web-2", true),
        pod("web-2", "web-2", true),
    ];
    assert_eq!(
        ordinal_progress(&s, &done),
        None,
        "web-0 is below the partition"
    );
}

#[test]
fn update_revision_number_reads_the_named_revision() {
    let s = sts(
        2,
        3,
        rolling(0),
        json!({"updateRevision": "web-847f97d764"}),
    );
    let revs: Vec<ControllerRevision> = serde_json::from_value(json!([
        {"metadata": {"name": "web-66c9b4d89"}, "revision": 1},
        {"metadata": {"name": "web-847f97d764"}, "revision": 2},
    ]))
    .unwrap();
    assert_eq!(update_revision_number(&s, &revs), Some(2));
    assert_eq!(ordinal("web", &pod("web-12", "x", true)), Some(12));
    assert_eq!(ordinal("web", &pod("webby-1", "x", true)), None);
}
