//! Rollout gates end to end on the local control plane, through the library API: objects are
//! server-side applied with `Cluster::apply`, then `rollout::wait_healthy` (or `reconcile`'s `GateHook`)
//! gates them. The kwok failure knobs (`doesnotexist`, `crashloop`, `exit 1`) make pods fail.

mod support;

use std::sync::Mutex;
use std::time::Duration;

use ferry::apply::{ObjectResult, Outcome, WaveHook};
use ferry::cluster::Cluster;
use ferry::manifest::ObjectKey;
use ferry::reconcile::GateHook;
use ferry::rollout::{
    wait_healthy, GateConfig, GateEvent, GateOutcome, GateResult, GateState, GateTarget,
    WorkloadKind,
};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use serde_json::{json, Value};
use support::{client, TestNamespace};

/// Short grace and timeout so failures show within seconds.
fn config() -> GateConfig {
    GateConfig {
        timeout: Duration::from_secs(90),
        grace: Duration::from_secs(2),
        poll_interval: Duration::from_millis(500),
        ..GateConfig::default()
    }
}

async fn setup(prefix: &str) -> (Cluster, TestNamespace) {
    let client = client().await;
    let ns = TestNamespace::new(&client, prefix).await;
    (Cluster::from_client(client, "test".into()), ns)
}

/// Server-side applies one object (as ferry does) into the namespace.
async fn apply(cluster: &Cluster, ns: &str, object: Value) {
    let api_version = object["apiVersion"].as_str().unwrap();
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let kind = cluster
        .served_kind(group, version, object["kind"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    let name = object["metadata"]["name"].as_str().unwrap().to_string();
    cluster
        .apply(&kind, Some(ns), &name, &object, false)
        .await
        .unwrap();
}

/// Gates one object, collecting its events.
async fn gate(
    cluster: &Cluster,
    target: GateTarget,
    config: &GateConfig,
) -> (GateOutcome, Vec<GateEvent>) {
    let events = Mutex::new(Vec::new());
    let sink = |e: GateEvent| events.lock().unwrap().push(e);
    let mut outcomes = wait_healthy(cluster, vec![target], config, &sink).await;
    assert_eq!(outcomes.len(), 1);
    let events = events.into_inner().unwrap();
    // Shown when a test fails (or with --nocapture): what a user would have seen.
    for e in &events {
        eprintln!(
            "[{:>5.1}s] {:?}: {}",
            e.elapsed.as_secs_f64(),
            e.state,
            e.message
        );
    }
    eprintln!("outcome: {}", outcomes[0].summary());
    (outcomes.remove(0), events)
}

fn daemonset(name: &str, image: &str, annotations: Value, spec: Value) -> Value {
    let mut ds = json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "tolerations": [{"operator": "Exists"}],
                    "containers": [{"name": name, "image": image}]
                }
            }
        }
    });
    merge(&mut ds["spec"], spec);
    ds
}

fn statefulset(name: &str, image: &str, replicas: i64, annotations: Value, spec: Value) -> Value {
    let mut sts = json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {
            "serviceName": name,
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": image}]}
            }
        }
    });
    merge(&mut sts["spec"], spec);
    sts
}

fn merge(dst: &mut Value, src: Value) {
    match (dst, src) {
        (Value::Object(d), Value::Object(s)) => {
            for (k, v) in s {
                merge(d.entry(k).or_insert(Value::Null), v);
            }
        }
        (d, s) => *d = s,
    }
}

fn failed(outcome: &GateOutcome) -> (&str, &str, Option<&str>, Duration) {
    match &outcome.result {
        GateResult::Failed {
            reason,
            message,
            node,
            elapsed,
            ..
        } => (reason, message, node.as_deref(), *elapsed),
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn assert_healthy(outcome: &GateOutcome) -> &str {
    match &outcome.result {
        GateResult::Healthy { message, .. } => message,
        other => panic!("expected healthy, got {other:?}"),
    }
}

async fn images(cluster: &Cluster, ns: &str, app: &str) -> Vec<(String, String)> {
    let pods: Api<Pod> = Api::namespaced(cluster.client().clone(), ns);
    let mut out: Vec<(String, String)> = pods
        .list(&ListParams::default().labels(&format!("app={app}")))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .map(|p| {
            let image = p.spec.unwrap().containers[0].image.clone().unwrap();
            (p.metadata.name.unwrap(), image)
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn daemonset_image_bump_passes_and_reports_revision_2() {
    let (cluster, ns) = setup("gate-ds-good").await;
    let target = GateTarget::new(WorkloadKind::DaemonSet, &ns.name, "fluentd");
    apply(
        &cluster,
        &ns.name,
        daemonset("fluentd", "fluent/fluentd:v1.16-1", json!({}), json!({})),
    )
    .await;
    let (first, _) = gate(&cluster, target.clone(), &config()).await;
    assert_eq!(assert_healthy(&first), "3/3 nodes updated and available");
    assert_eq!(first.revision, Some(1));

    apply(
        &cluster,
        &ns.name,
        daemonset("fluentd", "fluent/fluentd:v1.17", json!({}), json!({})),
    )
    .await;
    let (second, events) = gate(&cluster, target, &config()).await;
    assert_eq!(assert_healthy(&second), "3/3 nodes updated and available");
    assert_eq!(second.revision, Some(2));
    let images = images(&cluster, &ns.name, "fluentd").await;
    assert!(
        images.iter().all(|(_, i)| i == "fluent/fluentd:v1.17"),
        "{images:?}"
    );
    // Progress was reported per node while the rollout moved, each message once.
    let messages: Vec<&str> = events.iter().map(|e| e.message.as_str()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("nodes updated,") || m.contains("observe generation")),
        "{messages:?}"
    );
    for pair in events.windows(2) {
        assert!(pair[0].message != pair[1].message || pair[0].state != pair[1].state);
    }
    assert_eq!(events.last().unwrap().state, GateState::Healthy);
}

#[tokio::test]
async fn image_that_does_not_exist_fails_in_seconds_naming_pod_and_node() {
    let (cluster, ns) = setup("gate-ds-pull").await;
    let target = GateTarget::new(WorkloadKind::DaemonSet, &ns.name, "web");
    apply(
        &cluster,
        &ns.name,
        daemonset("web", "nginx:1.27", json!({}), json!({})),
    )
    .await;
    assert_healthy(&gate(&cluster, target.clone(), &config()).await.0);

    apply(
        &cluster,
        &ns.name,
        daemonset("web", "nginx:doesnotexist", json!({}), json!({})),
    )
    .await;
    let (outcome, _) = gate(&cluster, target, &config()).await;
    let (reason, message, node, elapsed) = failed(&outcome);
    assert_eq!(reason, "ImagePullBackOff");
    let node = node.expect("the failing pod has a node");
    assert!(node.starts_with("kwok-"), "{node}");
    assert!(
        message.starts_with("pod web-")
            && message.contains(&format!(" on {node}: ImagePullBackOff: ")),
        "{message}"
    );
    assert!(
        message.contains(r#"Back-off pulling image "nginx:doesnotexist""#),
        "{message}"
    );
    assert!(
        elapsed < Duration::from_secs(20),
        "took {elapsed:?} of a 90s timeout"
    );
    assert_eq!(outcome.revision, Some(2));
}

#[tokio::test]
async fn crashloop_fails_with_crash_loop_back_off_and_exit_code() {
    let (cluster, ns) = setup("gate-ds-crash").await;
    apply(
        &cluster,
        &ns.name,
        daemonset("crash", "example/crashloop:1", json!({}), json!({})),
    )
    .await;
    let target = GateTarget::new(WorkloadKind::DaemonSet, &ns.name, "crash");
    let (outcome, _) = gate(&cluster, target, &config()).await;
    let (reason, message, node, elapsed) = failed(&outcome);
    assert_eq!(reason, "CrashLoopBackOff");
    assert!(node.is_some());
    assert!(message.contains("last exit code 1 (Error)"), "{message}");
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
}

#[tokio::test]
async fn unschedulable_daemonset_fails_with_the_schedulers_message() {
    let (cluster, ns) = setup("gate-ds-big").await;
    let big = json!({"template": {"spec": {"containers": [
        {"name": "big", "image": "nginx:1.27", "resources": {"requests": {"cpu": "16"}}}]}}});
    apply(
        &cluster,
        &ns.name,
        daemonset("big", "nginx:1.27", json!({}), big),
    )
    .await;
    let target = GateTarget::new(WorkloadKind::DaemonSet, &ns.name, "big");
    let (outcome, _) = gate(&cluster, target, &config()).await;
    let (reason, message, node, _) = failed(&outcome);
    assert_eq!(reason, "Unschedulable");
    assert_eq!(node, None);
    assert!(
        message.contains("(not scheduled): Unschedulable: 0/3 nodes are available"),
        "{message}"
    );
    assert!(message.contains("Insufficient cpu"), "{message}");
}

#[tokio::test]
async fn unschedulable_statefulset_fails_with_the_schedulers_message() {
    let (cluster, ns) = setup("gate-sts-nowhere").await;
    let nowhere = json!({"template": {"spec": {"nodeSelector": {"disk": "none"}}}});
    apply(
        &cluster,
        &ns.name,
        statefulset("db", "nginx:1.27", 2, json!({}), nowhere),
    )
    .await;
    let target = GateTarget::new(WorkloadKind::StatefulSet, &ns.name, "db");
    let (outcome, _) = gate(&cluster, target, &config()).await;
    let (reason, message, _, elapsed) = failed(&outcome);
    assert_eq!(reason, "Unschedulable");
    assert!(
        message.starts_with("pod db-0 (not scheduled): Unschedulable: "),
        "{message}"
    );
    assert!(
        message.contains("didn't match Pod's node affinity/selector"),
        "{message}"
    );
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
    assert_eq!(outcome.revision, Some(1));
}

#[tokio::test]
async fn statefulset_partition_gates_on_replicas_minus_partition() {
    let (cluster, ns) = setup("gate-sts-part").await;
    let target = GateTarget::new(WorkloadKind::StatefulSet, &ns.name, "web");
    apply(
        &cluster,
        &ns.name,
        statefulset("web", "nginx:1.27", 3, json!({}), json!({})),
    )
    .await;
    let (first, _) = gate(&cluster, target.clone(), &config()).await;
    assert!(assert_healthy(&first).starts_with("3/3 pods ready on revision web-"));

    let partitioned =
        json!({"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}});
    apply(
        &cluster,
        &ns.name,
        statefulset("web", "nginx:1.28", 3, json!({}), partitioned),
    )
    .await;
    let (second, events) = gate(&cluster, target, &config()).await;
    let message = assert_healthy(&second);
    assert!(
        message.starts_with("partitioned rollout complete: 1/3 pods on web-"),
        "{message}"
    );
    assert_eq!(second.revision, Some(2));
    let images = images(&cluster, &ns.name, "web").await;
    let expected = [
        ("web-0", "nginx:1.27"),
        ("web-1", "nginx:1.27"),
        ("web-2", "nginx:1.28"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(p, i)| (p.to_string(), i.to_string()))
        .collect();
    assert_eq!(images, expected);
    assert!(
        events
            .iter()
            .any(|e| e.message.contains("0/1 updated") || e.message.contains("observe generation")),
        "{events:?}"
    );
}

fn job(name: &str, command: &str) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": 1,
            "template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "main", "image": "busybox:1.36", "command": ["sh", "-c", command]}]
            }}
        }
    })
}

fn created(ns: &str, group: &str, kind: &str, name: &str) -> ObjectResult {
    ObjectResult {
        key: ObjectKey {
            group: group.into(),
            version: "v1".into(),
            kind: kind.into(),
            namespace: Some(ns.into()),
            name: name.into(),
        },
        origin: None,
        wave: 0,
        outcome: Outcome::Created,
        live: None,
    }
}

#[tokio::test]
async fn gate_hook_passes_a_good_job_and_halts_on_backoff_limit_exceeded() {
    let (cluster, ns) = setup("gate-job").await;
    apply(&cluster, &ns.name, job("hello", "echo hello")).await;
    apply(&cluster, &ns.name, job("fails", "exit 1")).await;
    let hook = GateHook::new(cluster.clone(), config());
    let mut unchanged = created(&ns.name, "apps", "DaemonSet", "not-there");
    unchanged.outcome = Outcome::Unchanged;
    let results = vec![
        created(&ns.name, "batch", "Job", "hello"),
        created(&ns.name, "", "ConfigMap", "settings"),
        unchanged,
    ];
    assert_eq!(
        GateHook::targets(&results).len(),
        1,
        "only the changed Job is gated"
    );
    let first = hook.after_wave(0, &results).await;
    assert_eq!(first.halt, None);

    let second = hook
        .after_wave(1, &[created(&ns.name, "batch", "Job", "fails")])
        .await;
    let err = second
        .halt
        .expect("the failed Job halts the sync")
        .to_string();
    assert!(
        err.contains(&format!("Job {}/fails: failed: ", ns.name)),
        "{err}"
    );
    let outcomes: Vec<GateOutcome> = first.findings.into_iter().chain(second.findings).collect();
    assert_eq!(outcomes.len(), 2);
    assert!(
        matches!(&outcomes[0].result, GateResult::Healthy { message, .. } if message == "complete: 1/1 succeeded")
    );
    let (reason, message, node, _) = failed(&outcomes[1]);
    assert_eq!(reason, "BackoffLimitExceeded");
    assert!(node.is_some());
    assert!(
        message.starts_with("Job has reached the specified backoff limit; last failed pod fails-"),
        "{message}"
    );
    assert!(
        message.ends_with("container main exited with code 1 (Error)"),
        "{message}"
    );
    assert_eq!(outcomes[1].revision, None);
}

fn on_delete(policy: Option<&str>) -> (Value, Value) {
    let annotations = match policy {
        Some(p) => json!({"ferry.dev/on-delete": p}),
        None => json!({}),
    };
    (annotations, json!({"updateStrategy": {"type": "OnDelete"}}))
}

#[tokio::test]
async fn on_delete_daemonset_is_skipped_by_default_and_times_out_with_wait() {
    let (cluster, ns) = setup("gate-ondelete-skip").await;
    let target = GateTarget::new(WorkloadKind::DaemonSet, &ns.name, "agent");
    let (annotations, spec) = on_delete(None);
    apply(
        &cluster,
        &ns.name,
        daemonset("agent", "nginx:1.27", annotations.clone(), spec.clone()),
    )
    .await;
    assert_healthy(&gate(&cluster, target.clone(), &config()).await.0);

    apply(
        &cluster,
        &ns.name,
        daemonset("agent", "nginx:1.28", annotations, spec),
    )
    .await;
    let (outcome, _) = gate(&cluster, target.clone(), &config()).await;
    assert_eq!(
        outcome.result,
        GateResult::Skipped {
            reason: "updateStrategy OnDelete: pods keep the old template until deleted (ferry.dev/on-delete: skip)".into()
        }
    );
    assert_eq!(outcome.revision, Some(2));

    let (annotations, spec) = on_delete(Some("wait"));
    apply(
        &cluster,
        &ns.name,
        daemonset("agent", "nginx:1.28", annotations, spec),
    )
    .await;
    let short = GateConfig {
        timeout: Duration::from_secs(3),
        ..config()
    };
    let (outcome, events) = gate(&cluster, target, &short).await;
    assert!(
        matches!(&outcome.result, GateResult::TimedOut { message, .. } if message.starts_with("waiting for pods to be deleted: 0/3 nodes updated")),
        "{outcome:?}"
    );
    assert!(events
        .iter()
        .any(|e| e.state == GateState::WaitingForPodDeletion));
}

#[tokio::test]
async fn on_delete_restart_pods_replaces_daemonset_pods_node_by_node() {
    let (cluster, ns) = setup("gate-ondelete-ds").await;
    let target = GateTarget::new(WorkloadKind::DaemonSet, &ns.name, "agent");
    let (annotations, spec) = on_delete(Some("restart-pods"));
    apply(
        &cluster,
        &ns.name,
        daemonset("agent", "nginx:1.27", annotations.clone(), spec.clone()),
    )
    .await;
    assert_healthy(&gate(&cluster, target.clone(), &config()).await.0);

    apply(
        &cluster,
        &ns.name,
        daemonset("agent", "nginx:1.28", annotations, spec),
    )
    .await;
    let (outcome, events) = gate(&cluster, target, &config()).await;
    assert_eq!(assert_healthy(&outcome), "3/3 nodes updated and available");
    assert_eq!(outcome.revision, Some(2));
    let images = images(&cluster, &ns.name, "agent").await;
    assert_eq!(images.len(), 3);
    assert!(images.iter().all(|(_, i)| i == "nginx:1.28"), "{images:?}");
    assert!(
        events.iter().any(|e| e.state == GateState::RestartingPods),
        "{events:?}"
    );
}

#[tokio::test]
async fn on_delete_restart_pods_replaces_statefulset_pods_highest_ordinal_first() {
    let (cluster, ns) = setup("gate-ondelete-sts").await;
    let target = GateTarget::new(WorkloadKind::StatefulSet, &ns.name, "db");
    let (annotations, spec) = on_delete(Some("restart-pods"));
    apply(
        &cluster,
        &ns.name,
        statefulset("db", "nginx:1.27", 3, annotations.clone(), spec.clone()),
    )
    .await;
    assert_healthy(&gate(&cluster, target.clone(), &config()).await.0);

    apply(
        &cluster,
        &ns.name,
        statefulset("db", "nginx:1.28", 3, annotations, spec),
    )
    .await;
    let (outcome, events) = gate(&cluster, target, &config()).await;
    assert!(assert_healthy(&outcome).starts_with("3/3 pods ready on revision db-"));
    assert_eq!(outcome.revision, Some(2));
    let images = images(&cluster, &ns.name, "db").await;
    assert!(images.iter().all(|(_, i)| i == "nginx:1.28"), "{images:?}");
    let restarts: Vec<&str> = events
        .iter()
        .filter_map(|e| e.message.split("; restarting ").nth(1))
        .collect();
    let first = restarts.first().expect("a restart was reported");
    assert!(first.starts_with("db-2"), "{restarts:?}");
}

#[tokio::test]
async fn invalid_annotation_fails_the_gate_naming_it() {
    let (cluster, ns) = setup("gate-annotation").await;
    let annotations = json!({"ferry.dev/timeout": "soon"});
    apply(
        &cluster,
        &ns.name,
        daemonset("agent", "nginx:1.27", annotations, json!({})),
    )
    .await;
    let target = GateTarget::new(WorkloadKind::DaemonSet, &ns.name, "agent");
    let (outcome, _) = gate(&cluster, target, &config()).await;
    let (reason, message, _, _) = failed(&outcome);
    assert_eq!(reason, "InvalidAnnotation");
    assert!(
        message.contains("ferry.dev/timeout") && message.contains("\"soon\""),
        "{message}"
    );
}
