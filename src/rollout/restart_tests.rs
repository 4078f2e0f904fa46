use super::*;
use serde_json::{json, Value};

fn typed<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).unwrap()
}

fn pod(name: &str, node: &str, labels: Value, ready: bool) -> Pod {
    typed(json!({
        "metadata": {"name": name, "uid": format!("uid-{name}"), "labels": labels},
        "spec": {"nodeName": node},
        "status": {"conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}
    }))
}

fn ds() -> DaemonSet {
    typed(json!({
        "metadata": {"name": "agent", "annotations": {"deprecated.daemonset.template.generation": "2"}},
        "spec": {"updateStrategy": {"type": "OnDelete"}},
        "status": {"desiredNumberScheduled": 3, "numberUnavailable": 0}
    }))
}

fn ds_pod(name: &str, node: &str, generation: &str, ready: bool) -> Pod {
    pod(
        name,
        node,
        json!({"controller-revision-hash": format!("h{generation}"), "pod-template-generation": generation}),
        ready,
    )
}

#[test]
fn daemonset_restarts_one_node_at_a_time() {
    let mut pending = Vec::new();
    let pods = vec![
        ds_pod("a-1", "kwok-worker-1", "1", true),
        ds_pod("a-2", "kwok-worker-2", "1", true),
        ds_pod("a-3", "kwok-control-plane", "2", true),
    ];
    let next = daemonset_next(&ds(), None, &pods, &mut pending).unwrap();
    assert_eq!(next.name, "a-1");
    pending.push(next);
    // Old pod still terminating: nothing else is deleted.
    assert_eq!(daemonset_next(&ds(), None, &pods, &mut pending), None);
    // Replacement on kwok-worker-1 exists but is not Ready yet.
    let mut pods = pods[1..].to_vec();
    pods.push(ds_pod("a-4", "kwok-worker-1", "2", false));
    assert_eq!(daemonset_next(&ds(), None, &pods, &mut pending), None);
    // Ready: kwok-worker-2 is next.
    pods[2] = ds_pod("a-4", "kwok-worker-1", "2", true);
    let next = daemonset_next(&ds(), None, &pods, &mut pending).unwrap();
    assert!(pending.is_empty());
    assert_eq!(next.node.as_deref(), Some("kwok-worker-2"));
}

#[test]
fn daemonset_deletes_unready_old_pods_first_and_honours_max_unavailable() {
    let mut d = ds();
    d.status.as_mut().unwrap().number_unavailable = Some(1);
    let ready_only = vec![ds_pod("a-1", "kwok-worker-1", "1", true)];
    assert_eq!(daemonset_next(&d, None, &ready_only, &mut Vec::new()), None);
    let pods = vec![
        ds_pod("a-1", "kwok-worker-1", "1", true),
        ds_pod("a-2", "kwok-worker-2", "1", false),
    ];
    let next = daemonset_next(&d, None, &pods, &mut Vec::new()).unwrap();
    assert_eq!(next.name, "a-2");
}

fn sts() -> StatefulSet {
    typed(json!({"metadata": {"name": "web"}, "spec": {"replicas": 3},
           "status": {"updateRevision": "web-new"}}))
}

fn sts_pod(ordinal: u32, revision: &str, ready: bool) -> Pod {
    pod(
        &format!("web-{ordinal}"),
        "kwok-worker-1",
        json!({"controller-revision-hash": revision}),
        ready,
    )
}

#[test]
fn statefulset_restarts_highest_ordinal_first_and_waits_for_ready() {
    let mut pending = Vec::new();
    let pods = vec![
        sts_pod(0, "web-old", true),
        sts_pod(1, "web-old", true),
        sts_pod(2, "web-new", true),
    ];
    let next = statefulset_next(&sts(), &pods, &mut pending).unwrap();
    assert_eq!(next.name, "web-1");
    pending.push(next);
    // Replacement web-1 (new uid, new revision) not Ready yet.
    let mut replaced = pods.clone();
    replaced[1] = sts_pod(1, "web-new", false);
    replaced[1].metadata.uid = Some("uid-web-1-b".into());
    assert_eq!(statefulset_next(&sts(), &replaced, &mut pending), None);
    replaced[1]
        .status
        .as_mut()
        .unwrap()
        .conditions
        .as_mut()
        .unwrap()[0]
        .status = "True".into();
    let next = statefulset_next(&sts(), &replaced, &mut pending).unwrap();
    assert_eq!(next.name, "web-0");
}

#[test]
fn statefulset_deletes_a_broken_old_pod_even_when_not_all_are_ready() {
    let pods = vec![
        sts_pod(0, "web-old", true),
        sts_pod(1, "web-old", false),
        sts_pod(2, "web-old", true),
    ];
    let next = statefulset_next(&sts(), &pods, &mut Vec::new()).unwrap();
    assert_eq!(next.name, "web-1");
    // Missing pod and nothing broken: wait for the controller.
    let missing = vec![sts_pod(0, "web-old", true), sts_pod(1, "web-new", true)];
    assert_eq!(statefulset_next(&sts(), &missing, &mut Vec::new()), None);
}
