//! Pod diagnosis tests on pods and events as the local control plane reports them.

use super::*;
use serde_json::{json, Value};

/// [`diagnose`] on pods and events as the API server returns them (JSON), decoded as the gate
/// decodes them.
fn diagnose_json(pods: &[Value], events: &[Value]) -> Vec<PodProblem> {
    let pods: Vec<Pod> = serde_json::from_value(json!(pods)).unwrap();
    let events: Vec<Event> = serde_json::from_value(json!(events)).unwrap();
    diagnose(&pods, &events)
}

fn pod(name: &str, owner_kind: &str, node: Option<&str>, status: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "namespace": "logging", "uid": format!("uid-{name}"),
            "labels": {"app": "x", "controller-revision-hash": "7696d79498"},
            "ownerReferences": [{"apiVersion": "apps/v1", "controller": true,
                                 "kind": owner_kind, "name": "x", "uid": "owner"}]
        },
        "spec": {"nodeName": node},
        "status": status
    })
}

fn pull_backoff() -> Value {
    pod(
        "pull-9mxkk",
        "DaemonSet",
        Some("kwok-worker-1"),
        json!({
            "conditions": [
                {"status": "True", "type": "Initialized"},
                {"message": "containers with unready status: [c ]", "reason": "ContainersNotReady",
                 "status": "False", "type": "Ready"},
                {"status": "True", "type": "PodScheduled"}],
            "containerStatuses": [{"image": "nginx:doesnotexist", "imageID": "", "lastState": {},
                "name": "c", "ready": false, "restartCount": 0, "started": false,
                "state": {"waiting": {"message": "Back-off pulling image \"nginx:doesnotexist\"",
                                      "reason": "ImagePullBackOff"}}}],
            "hostIP": "127.0.0.1", "phase": "Pending"
        }),
    )
}

#[test]
fn image_pull_back_off_names_pod_node_and_image() {
    let problems = diagnose_json(&[pull_backoff()], &[]);
    assert_eq!(problems.len(), 1);
    let p = &problems[0];
    assert_eq!(p.reason, "ImagePullBackOff");
    assert_eq!(p.container.as_deref(), Some("c"));
    assert_eq!(p.exit_code, None);
    assert_eq!(
        p.to_string(),
        r#"pod pull-9mxkk on kwok-worker-1: ImagePullBackOff: Back-off pulling image "nginx:doesnotexist""#
    );
}

#[test]
fn the_latest_informative_warning_event_is_appended() {
    let event = |reason: &str, message: &str, time: &str| {
        json!({"involvedObject": {"kind": "Pod", "name": "pull-9mxkk", "namespace": "logging",
                                  "uid": "uid-pull-9mxkk"},
               "reason": reason, "type": "Warning", "message": message, "lastTimestamp": time,
               "source": {"component": "kwok_controller"}})
    };
    let events = vec![
        event(
            "Failed",
            "Failed to pull image: first",
            "2026-11-23T09:45:13Z",
        ),
        event(
            "Failed",
            "Failed to pull image: rpc error: code = NotFound",
            "2026-11-23T09:45:14Z",
        ),
        event("Failed", "Error: ImagePullBackOff", "2026-11-23T09:45:15Z"),
        event(
            "BackOff",
            r#"Back-off pulling image "nginx:doesnotexist""#,
            "2026-11-23T09:45:16Z",
        ),
        json!({"involvedObject": {"kind": "Pod", "name": "other", "uid": "uid-other"},
               "type": "Warning", "reason": "Failed", "message": "not mine",
               "lastTimestamp": "2026-11-23T09:46:00Z"}),
    ];
    let p = &diagnose_json(&[pull_backoff()], &events)[0];
    assert_eq!(
        p.message,
        r#"Back-off pulling image "nginx:doesnotexist"; Failed: Failed to pull image: rpc error: code = NotFound"#
    );
}

#[test]
fn crash_loop_back_off_carries_the_last_exit_code() {
    let crash = pod(
        "crash-crgqh",
        "DaemonSet",
        Some("kwok-worker-1"),
        json!({
            "containerStatuses": [{"image": "example/crashloop:1", "imageID": "",
                "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-11-23T09:45:14Z",
                              "reason": "Error", "startedAt": "2026-11-23T09:45:14Z",
                              "message": "panic: config not found\n"}},
                "name": "c", "ready": false, "restartCount": 3, "started": false,
                "state": {"waiting": {"message": "back-off 40s restarting failed container=c",
                                      "reason": "CrashLoopBackOff"}}}],
            "phase": "Running"
        }),
    );
    let p = &diagnose_json(&[crash], &[])[0];
    assert_eq!(p.reason, "CrashLoopBackOff");
    assert_eq!(p.exit_code, Some(1));
    assert_eq!(
        p.message,
        "back-off 40s restarting failed container=c; last exit code 1 (Error), restarted 3 time(s); last output: panic: config not found"
    );
}

#[test]
fn unschedulable_carries_the_schedulers_message() {
    let big = pod(
        "big-gdrgw",
        "DaemonSet",
        None,
        json!({
            "conditions": [{"lastProbeTime": null, "lastTransitionTime": "2026-11-23T09:45:14Z",
                "message": "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.",
                "reason": "Unschedulable", "status": "False", "type": "PodScheduled"}],
            "phase": "Pending", "qosClass": "Burstable"
        }),
    );
    let p = &diagnose_json(&[big], &[])[0];
    assert_eq!(p.reason, "Unschedulable");
    assert_eq!(p.node, None);
    assert!(p.to_string().starts_with(
        "pod big-gdrgw (not scheduled): Unschedulable: 0/3 nodes are available: 1 Insufficient cpu"
    ));
}

#[test]
fn oom_killed_before_a_restart_back_off_is_reported_as_oom() {
    let oom = pod(
        "web-0",
        "StatefulSet",
        Some("kwok-worker-2"),
        json!({
            "containerStatuses": [{"name": "app", "restartCount": 2,
                "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}},
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 20s"}}}],
            "phase": "Running"
        }),
    );
    let p = &diagnose_json(&[oom], &[])[0];
    assert_eq!(p.reason, "OOMKilled");
    assert_eq!(p.exit_code, Some(137));
    assert_eq!(
        p.message,
        "container app was OOMKilled (exit code 137), restarted 2 time(s)"
    );
    // OOMKilled once, but running again: not a problem.
    let recovered = pod(
        "web-1",
        "StatefulSet",
        Some("kwok-worker-2"),
        json!({"containerStatuses": [{"name": "app", "restartCount": 1, "ready": true,
            "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}},
            "state": {"running": {"startedAt": "2026-11-23T09:45:14Z"}}}],
            "phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}),
    );
    assert!(diagnose_json(&[recovered], &[]).is_empty());
}

#[test]
fn config_errors_in_init_containers_come_first() {
    let p = pod(
        "web-0",
        "StatefulSet",
        Some("kwok-worker-1"),
        json!({
            "initContainerStatuses": [{"name": "init", "restartCount": 0,
                "state": {"waiting": {"reason": "CreateContainerConfigError",
                                      "message": "secret \"db\" not found"}}}],
            "containerStatuses": [{"name": "app", "restartCount": 0,
                "state": {"waiting": {"reason": "PodInitializing"}}}],
            "phase": "Pending"
        }),
    );
    let p = &diagnose_json(&[p], &[])[0];
    assert_eq!(p.reason, "CreateContainerConfigError");
    assert_eq!(p.container.as_deref(), Some("init"));
    assert_eq!(p.message, "secret \"db\" not found");
}

fn failed_pod(owner_kind: &str) -> Value {
    pod(
        "x-1",
        owner_kind,
        Some("kwok-worker-2"),
        json!({
            "containerStatuses": [{"name": "main", "restartCount": 0, "lastState": {},
                "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}],
            "phase": "Failed"
        }),
    )
}

#[test]
fn failed_phase_counts_for_daemonsets_but_not_for_jobs() {
    let p = &diagnose_json(&[failed_pod("DaemonSet")], &[])[0];
    assert_eq!(p.reason, "Failed");
    assert_eq!(p.exit_code, Some(1));
    assert_eq!(p.message, "container main exited with code 1");
    assert!(diagnose_json(&[failed_pod("Job")], &[]).is_empty());
    let evicted = pod(
        "x-2",
        "DaemonSet",
        Some("kwok-worker-1"),
        json!({"phase": "Failed", "reason": "Evicted",
               "message": "The node was low on resource: memory."}),
    );
    assert_eq!(
        diagnose_json(&[evicted], &[])[0].to_string(),
        "pod x-2 on kwok-worker-1: Evicted: The node was low on resource: memory."
    );
}

#[test]
fn healthy_pending_terminating_and_succeeded_pods_are_fine() {
    let ready = pod(
        "ok",
        "DaemonSet",
        Some("kwok-worker-1"),
        json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
               "containerStatuses": [{"name": "c", "ready": true, "restartCount": 0,
                                      "state": {"running": {"startedAt": "2026-11-23T09:45:15Z"}}}]}),
    );
    let creating = pod(
        "new",
        "DaemonSet",
        Some("kwok-worker-1"),
        json!({"phase": "Pending", "containerStatuses": [{"name": "c", "restartCount": 0,
               "state": {"waiting": {"reason": "ContainerCreating"}}}]}),
    );
    let mut going = pull_backoff();
    going["metadata"]["deletionTimestamp"] = json!("2026-11-23T09:45:20Z");
    let done = pod(
        "job-x",
        "Job",
        Some("kwok-worker-1"),
        json!({"phase": "Succeeded"}),
    );
    assert!(diagnose_json(&[ready, creating, going, done], &[]).is_empty());
}
