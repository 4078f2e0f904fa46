//! DaemonSet evaluator tests on status snapshots taken from the local control plane.

use super::*;
use serde_json::{json, Value};

/// `kubectl get ds fluentd -o json` (trimmed) with the given generation, strategy and status.
fn ds(generation: i64, strategy: Value, status: Value) -> DaemonSet {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {
            "annotations": {"deprecated.daemonset.template.generation": generation.to_string()},
            "generation": generation,
            "name": "fluentd",
            "namespace": "logging",
            "uid": "183c69bf-100a-4a3d-800c-4c639b46d270"
        },
        "spec": {
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": {"app": "fluentd"}},
            "updateStrategy": strategy
        },
        "status": status
    }))
    .unwrap()
}

fn rolling() -> Value {
    json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}})
}

fn message(p: &Progress) -> &str {
    match p {
        Progress::Progressing { message }
        | Progress::Healthy { message }
        | Progress::WaitingForPodDeletion { message }
        | Progress::Failed { message, .. } => message,
        Progress::Skipped { reason } => reason,
    }
}

#[test]
fn complete_rollout_is_healthy() {
    let d = ds(
        1,
        rolling(),
        json!({"currentNumberScheduled": 3, "desiredNumberScheduled": 3, "numberAvailable": 3,
               "numberMisscheduled": 0, "numberReady": 3, "observedGeneration": 1,
               "updatedNumberScheduled": 3}),
    );
    let p = evaluate(&d);
    assert!(matches!(p, Progress::Healthy { .. }), "{p:?}");
    assert_eq!(message(&p), "3/3 nodes updated and available");
}

#[test]
fn mid_rollout_reports_nodes_updated_and_available() {
    // Half a second after an image bump (maxUnavailable 1).
    let d = ds(
        2,
        rolling(),
        json!({"currentNumberScheduled": 3, "desiredNumberScheduled": 3, "numberAvailable": 2,
               "numberMisscheduled": 0, "numberReady": 2, "numberUnavailable": 1,
               "observedGeneration": 2, "updatedNumberScheduled": 1}),
    );
    assert_eq!(
        evaluate(&d),
        Progress::Progressing {
            message: "1/3 nodes updated, 2 available".into()
        }
    );
}

#[test]
fn surge_rollout_with_every_node_available_waits_for_updates() {
    // maxSurge 1, maxUnavailable 0: every node keeps an available pod while only one runs the
    // new template; not done until all are updated.
    let d = ds(
        2,
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}),
        json!({"currentNumberScheduled": 3, "desiredNumberScheduled": 3, "numberAvailable": 3,
               "numberReady": 3, "observedGeneration": 2, "updatedNumberScheduled": 1}),
    );
    assert_eq!(
        evaluate(&d),
        Progress::Progressing {
            message: "1/3 nodes updated, 3 available".into()
        }
    );
}

#[test]
fn unobserved_generation_is_progressing_even_if_counts_look_done() {
    let d = ds(
        3,
        rolling(),
        json!({"currentNumberScheduled": 3, "desiredNumberScheduled": 3, "numberAvailable": 3,
               "numberReady": 3, "observedGeneration": 2, "updatedNumberScheduled": 3}),
    );
    let p = evaluate(&d);
    assert!(matches!(p, Progress::Progressing { .. }), "{p:?}");
    assert!(message(&p).contains("generation 3 (observed 2)"), "{p:?}");
}

#[test]
fn all_updated_but_unavailable_pods_keep_it_progressing() {
    // nginx:doesnotexist on two workers: updated, but numberAvailable omitted (0).
    let d = ds(
        1,
        rolling(),
        json!({"currentNumberScheduled": 2, "desiredNumberScheduled": 2, "numberMisscheduled": 0,
               "numberReady": 0, "numberUnavailable": 2, "observedGeneration": 1,
               "updatedNumberScheduled": 2}),
    );
    assert_eq!(message(&evaluate(&d)), "2/2 nodes updated, 0 available");
    // numberUnavailable alone also blocks.
    let d = ds(
        1,
        rolling(),
        json!({"currentNumberScheduled": 2, "desiredNumberScheduled": 2, "numberAvailable": 2,
               "numberUnavailable": 1, "observedGeneration": 1, "updatedNumberScheduled": 2}),
    );
    assert!(matches!(evaluate(&d), Progress::Progressing { .. }));
}

#[test]
fn no_eligible_nodes_is_healthy() {
    let d = ds(
        1,
        rolling(),
        json!({"currentNumberScheduled": 0, "desiredNumberScheduled": 0, "numberMisscheduled": 0,
               "numberReady": 0, "observedGeneration": 1}),
    );
    assert_eq!(
        evaluate(&d),
        Progress::Healthy {
            message: "no eligible nodes (desiredNumberScheduled 0)".into()
        }
    );
}

#[test]
fn on_delete_with_old_pods_waits_for_deletion() {
    // OnDelete after a template change: updatedNumberScheduled omitted (0).
    let d = ds(
        3,
        json!({"type": "OnDelete"}),
        json!({"currentNumberScheduled": 3, "desiredNumberScheduled": 3, "numberAvailable": 3,
               "numberMisscheduled": 0, "numberReady": 3, "observedGeneration": 3}),
    );
    let p = evaluate(&d);
    assert!(matches!(p, Progress::WaitingForPodDeletion { .. }), "{p:?}");
    assert!(message(&p).starts_with("0/3 nodes updated"), "{p:?}");
    assert!(
        message(&p).contains("3 pod(s) keep the old template"),
        "{p:?}"
    );
}

#[test]
fn on_delete_creating_fresh_pods_is_progressing_then_healthy() {
    let d = ds(
        1,
        json!({"type": "OnDelete"}),
        json!({"currentNumberScheduled": 3, "desiredNumberScheduled": 3, "numberAvailable": 1,
               "numberUnavailable": 2, "observedGeneration": 1, "updatedNumberScheduled": 3}),
    );
    assert!(matches!(evaluate(&d), Progress::Progressing { .. }));
    let d = ds(
        1,
        json!({"type": "OnDelete"}),
        json!({"currentNumberScheduled": 3, "desiredNumberScheduled": 3, "numberAvailable": 3,
               "observedGeneration": 1, "updatedNumberScheduled": 3}),
    );
    assert!(matches!(evaluate(&d), Progress::Healthy { .. }));
}

fn revision(name: &str, hash: &str, number: i64, owner: &str) -> ControllerRevision {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "ControllerRevision",
        "metadata": {
            "labels": {"app": "fluentd", "controller-revision-hash": hash},
            "name": name, "namespace": "logging",
            "ownerReferences": [{"apiVersion": "apps/v1", "blockOwnerDeletion": true,
                "controller": true, "kind": "DaemonSet", "name": "fluentd", "uid": owner}]
        },
        "revision": number
    }))
    .unwrap()
}

#[test]
fn current_revision_is_the_highest_owned() {
    let uid = "183c69bf-100a-4a3d-800c-4c639b46d270";
    let revs = vec![
        revision("fluentd-58b5f684f", "58b5f684f", 3, uid),
        revision("fluentd-7bc8fcd884", "7bc8fcd884", 2, uid),
        revision("fluentd-other", "aaaa", 9, "some-other-uid"),
    ];
    assert_eq!(
        current_revision(uid, &revs),
        Some(("58b5f684f".to_string(), 3))
    );
    assert_eq!(current_revision("nobody", &revs[..2]), None);
}

fn pod(hash: &str, template_generation: &str) -> Pod {
    serde_json::from_value(json!({"metadata": {"name": "fluentd-2q7pk", "labels": {
        "app": "fluentd", "controller-revision-hash": hash,
        "pod-template-generation": template_generation}}}))
    .unwrap()
}

#[test]
fn current_pods_by_hash_or_template_generation() {
    let d = ds(2, rolling(), json!({}));
    assert!(is_current_pod(
        &d,
        Some("7bc8fcd884"),
        &pod("7bc8fcd884", "1")
    ));
    assert!(is_current_pod(&d, None, &pod("7bc8fcd884", "2")));
    assert!(!is_current_pod(
        &d,
        Some("7bc8fcd884"),
        &pod("58b5f684f", "1")
    ));
    assert!(!is_current_pod(&d, None, &pod("58b5f684f", "1")));
}

#[test]
fn max_unavailable_resolves_numbers_and_percentages() {
    let with = |mu: Value| {
        ds(
            1,
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": mu}}),
            json!({"desiredNumberScheduled": 10}),
        )
    };
    assert_eq!(max_unavailable(&with(json!(3))), 3);
    assert_eq!(max_unavailable(&with(json!("25%"))), 3);
    assert_eq!(max_unavailable(&with(json!(0))), 1);
    assert_eq!(
        max_unavailable(&ds(1, json!({"type": "OnDelete"}), json!({}))),
        1
    );
}
