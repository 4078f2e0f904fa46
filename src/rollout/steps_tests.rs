use std::collections::BTreeSet;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;
use serde_json::json;

use super::*;

fn pod(name: &str, node: &str, revision: &str, ready: bool, restarts: i32) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "uid": format!("uid-{name}"),
                     "labels": {"controller-revision-hash": revision}},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "x"}]},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
            "containerStatuses": [{"name": "c", "image": "x", "imageID": "", "ready": ready,
                                   "restartCount": restarts}]
        }
    }))
    .unwrap()
}

fn sts(replicas: i32) -> StatefulSet {
    serde_json::from_value(json!({
        "metadata": {"name": "db", "generation": 2},
        "spec": {"replicas": replicas, "selector": {}, "serviceName": "db",
                 "template": {"spec": {"containers": []}}},
        "status": {"replicas": replicas, "observedGeneration": 2, "updateRevision": "db-new",
                   "currentRevision": "db-old"}
    }))
    .unwrap()
}

#[test]
fn a_statefulset_step_covers_every_ordinal_from_the_partition_up() {
    let pods = vec![
        pod("db-0", "n", "db-old", true, 0),
        pod("db-1", "n", "db-old", true, 0),
        pod("db-2", "n", "db-new", false, 0),
        pod("db-3", "n", "db-new", true, 0),
        pod("db-4", "n", "db-new", true, 0),
    ];
    let step = statefulset_step(&sts(5), &pods, 4);
    assert_eq!(step.done, vec![4]);
    assert!(step.complete());
    let step = statefulset_step(&sts(5), &pods, 2);
    assert_eq!(step.done, vec![3, 4]);
    assert_eq!(step.waiting, vec![2], "db-2 is new but not Ready");
    let step = statefulset_step(&sts(5), &pods, 0);
    assert_eq!(step.waiting, vec![0, 1, 2], "old revision pods wait");
}

#[test]
fn daemonset_victims_take_canary_nodes_first_then_node_names() {
    let pods = vec![
        pod("a-1", "worker-2", "old", true, 0),
        pod("a-2", "worker-1", "old", true, 0),
        pod("a-3", "control-plane", "old", true, 0),
        pod("a-4", "worker-3", "new", true, 0),
    ];
    let current =
        |p: &Pod| p.metadata.labels.as_ref().unwrap()["controller-revision-hash"] == "new";
    let canary: BTreeSet<String> = ["worker-2".to_string()].into();
    let names = |v: Vec<Victim>| v.into_iter().map(|v| v.node).collect::<Vec<_>>();
    assert_eq!(
        names(daemonset_victims(&pods, &current, &canary, false, 2)),
        ["worker-2", "control-plane"]
    );
    assert_eq!(
        names(daemonset_victims(&pods, &current, &canary, true, 3)),
        ["worker-2"],
        "the canary step touches canary nodes only"
    );
    assert_eq!(
        names(daemonset_victims(
            &pods,
            &current,
            &BTreeSet::new(),
            false,
            1
        )),
        ["control-plane"]
    );
    assert_eq!(
        updated_nodes(&pods, &current),
        ["worker-3".to_string()].into()
    );
}

#[test]
fn restarts_add_up_over_the_step_pods() {
    let a = pod("a", "n", "r", true, 2);
    let b = pod("b", "n", "r", true, 3);
    assert_eq!(restarts(&[&a, &b]), 5);
    assert_eq!(ordinal_range(2, 4), "2–4");
    assert_eq!(ordinal_range(4, 4), "4");
}
