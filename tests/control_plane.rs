//! The local control plane is real: these tests exercise, through `kube::Client` and `kubectl`,
//! the Kubernetes behaviour ferry's gates rely on (DaemonSet placement and rolling updates,
//! StatefulSet ordering and PVCs, Job completion and failure, the kwok failure knobs, and
//! server-side apply with dry-run). They double as the project's record of what real
//! Kubernetes does.

mod support;

use std::time::Duration;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Node, PersistentVolumeClaim, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;
use support::{client, kubectl_ok, wait_until, TestNamespace};

const TIMEOUT: Duration = Duration::from_secs(60);

async fn pods(client: &kube::Client, ns: &str, selector: &str) -> Vec<Pod> {
    Api::<Pod>::namespaced(client.clone(), ns)
        .list(&ListParams::default().labels(selector))
        .await
        .unwrap()
        .items
}

fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn node_of(pod: &Pod) -> String {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .unwrap_or_default()
}

async fn node_names(client: &kube::Client) -> Vec<String> {
    let mut names: Vec<String> = Api::<Node>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    names.sort();
    names
}

fn daemonset(name: &str, image: &str, extra_spec: serde_json::Value) -> DaemonSet {
    let mut pod_spec = json!({"containers": [{"name": name, "image": image}]});
    if let (Some(dst), Some(src)) = (pod_spec.as_object_mut(), extra_spec.as_object()) {
        for (k, v) in src {
            dst.insert(k.clone(), v.clone());
        }
    }
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec}
        }
    }))
    .unwrap()
}

#[tokio::test]
async fn fluentd_daemonset_with_toleration_runs_one_ready_pod_on_every_node() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "cp-fluentd").await;
    let ds = daemonset(
        "fluentd",
        "fluent/fluentd:v1.16-1",
        json!({
            "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}],
            "volumes": [{"name": "varlog", "hostPath": {"path": "/var/log"}}],
        }),
    );
    let api: Api<DaemonSet> = Api::namespaced(client.clone(), &ns.name);
    api.create(&PostParams::default(), &ds).await.unwrap();
    let nodes = node_names(&client).await;
    assert!(nodes.contains(&"kwok-control-plane".to_string()));
    let ready_nodes = wait_until(TIMEOUT, "a Ready fluentd pod on every node", || async {
        let ps = pods(&client, &ns.name, "app=fluentd").await;
        let mut on: Vec<String> = ps.iter().filter(|p| is_ready(p)).map(node_of).collect();
        on.sort();
        (on == nodes).then_some(on)
    })
    .await;
    assert_eq!(ready_nodes.len(), 3);
    let status = api.get("fluentd").await.unwrap().status.unwrap();
    assert_eq!(status.desired_number_scheduled, 3);
    wait_until(TIMEOUT, "numberAvailable == 3", || async {
        let s = api.get("fluentd").await.unwrap().status.unwrap();
        (s.number_available == Some(3)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn daemonset_without_toleration_skips_the_tainted_control_plane() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "cp-taint").await;
    let api: Api<DaemonSet> = Api::namespaced(client.clone(), &ns.name);
    api.create(
        &PostParams::default(),
        &daemonset("plain", "nginx:1.27", json!({})),
    )
    .await
    .unwrap();
    let on = wait_until(TIMEOUT, "2 Ready pods", || async {
        let ps = pods(&client, &ns.name, "app=plain").await;
        let on: Vec<String> = ps.iter().filter(|p| is_ready(p)).map(node_of).collect();
        (on.len() == 2).then_some(on)
    })
    .await;
    assert!(!on.contains(&"kwok-control-plane".to_string()), "{on:?}");
    let s = api.get("plain").await.unwrap().status.unwrap();
    assert_eq!(s.desired_number_scheduled, 2);
}

#[tokio::test]
async fn node_selector_daemonset_follows_node_labels() {
    // `dev/cluster/cluster.sh up` labels kwok-worker-1 type=platform-tools; this test labels
    // and unlabels kwok-worker-2 and restores it.
    let client = client().await;
    let ns = TestNamespace::new(&client, "cp-selector").await;
    let api: Api<DaemonSet> = Api::namespaced(client.clone(), &ns.name);
    api.create(
        &PostParams::default(),
        &daemonset(
            "tools",
            "nginx:1.27",
            json!({"nodeSelector": {"type": "platform-tools"}}),
        ),
    )
    .await
    .unwrap();
    let nodes: Api<Node> = Api::all(client.clone());
    let label_worker_2 = |v: Option<&'static str>| {
        let nodes = nodes.clone();
        async move {
            nodes
                .patch(
                    "kwok-worker-2",
                    &PatchParams::default(),
                    &Patch::Merge(json!({"metadata": {"labels": {"type": v}}})),
                )
                .await
                .unwrap();
        }
    };
    let ready_nodes = || async {
        let mut on: Vec<String> = pods(&client, &ns.name, "app=tools")
            .await
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none() && is_ready(p))
            .map(node_of)
            .collect();
        on.sort();
        on
    };
    wait_until(
        TIMEOUT,
        "a pod on the labelled kwok-worker-1 only",
        || async { (ready_nodes().await == vec!["kwok-worker-1".to_string()]).then_some(()) },
    )
    .await;

    label_worker_2(Some("platform-tools")).await;
    wait_until(
        TIMEOUT,
        "a pod following the label to kwok-worker-2",
        || async {
            (ready_nodes().await == vec!["kwok-worker-1".to_string(), "kwok-worker-2".to_string()])
                .then_some(())
        },
    )
    .await;

    label_worker_2(None).await;
    wait_until(
        TIMEOUT,
        "the pod to leave the unlabelled kwok-worker-2",
        || async {
            let ps = pods(&client, &ns.name, "app=tools").await;
            let live: Vec<String> = ps
                .iter()
                .filter(|p| p.metadata.deletion_timestamp.is_none())
                .map(node_of)
                .collect();
            (live == vec!["kwok-worker-1".to_string()]).then_some(())
        },
    )
    .await;
    // The controller updates status after the pod is gone.
    wait_until(TIMEOUT, "desiredNumberScheduled back to 1", || async {
        let s = api.get("tools").await.unwrap().status?;
        (s.desired_number_scheduled == 1).then_some(())
    })
    .await;
}

#[tokio::test]
async fn rolling_update_creates_a_second_revision_with_change_cause() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "cp-rollout").await;
    let api: Api<DaemonSet> = Api::namespaced(client.clone(), &ns.name);
    let mut ds = daemonset(
        "nginx",
        "nginx:1.18.0",
        json!({"tolerations": [{"operator": "Exists"}]}),
    );
    let spec = ds.spec.as_mut().unwrap();
    spec.update_strategy = Some(
        serde_json::from_value(
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}),
        )
        .unwrap(),
    );
    ds.metadata.annotations = Some(
        [(
            "kubernetes.io/change-cause".to_string(),
            "ferry 1111111: first".to_string(),
        )]
        .into(),
    );
    api.create(&PostParams::default(), &ds).await.unwrap();
    wait_until(TIMEOUT, "first rollout", || async {
        let s = api.get("nginx").await.unwrap().status?;
        (s.number_available == Some(3) && s.updated_number_scheduled == Some(3)).then_some(())
    })
    .await;

    // Image and change-cause in one write, as ferry does it.
    api.patch(
        "nginx",
        &PatchParams::default(),
        &Patch::Merge(json!({
            "metadata": {"annotations": {"kubernetes.io/change-cause": "ferry 2222222: bump to latest"}},
            "spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:latest"}]}}}
        })),
    )
    .await
    .unwrap();
    wait_until(TIMEOUT, "second rollout to complete", || async {
        let d = api.get("nginx").await.unwrap();
        let s = d.status?;
        let done = s.observed_generation >= d.metadata.generation
            && s.updated_number_scheduled == Some(s.desired_number_scheduled)
            && s.number_available == Some(s.desired_number_scheduled)
            && s.number_unavailable.unwrap_or(0) == 0;
        done.then_some(())
    })
    .await;
    let images: Vec<String> = pods(&client, &ns.name, "app=nginx")
        .await
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .map(|p| {
            p.spec.as_ref().unwrap().containers[0]
                .image
                .clone()
                .unwrap()
        })
        .collect();
    assert!(images.iter().all(|i| i == "nginx:latest"), "{images:?}");

    let revisions: Api<ControllerRevision> = Api::namespaced(client.clone(), &ns.name);
    let revs = revisions
        .list(&ListParams::default().labels("app=nginx"))
        .await
        .unwrap()
        .items;
    assert_eq!(revs.len(), 2, "two ControllerRevisions");
    let mut numbers: Vec<i64> = revs.iter().map(|r| r.revision).collect();
    numbers.sort();
    assert_eq!(numbers, vec![1, 2]);

    let history = kubectl_ok(&["rollout", "history", "-n", &ns.name, "daemonset/nginx"]);
    assert!(history.contains("ferry 1111111: first"), "{history}");
    assert!(
        history.contains("ferry 2222222: bump to latest"),
        "{history}"
    );
}

#[tokio::test]
async fn statefulset_starts_web_0_before_web_1_with_bound_pvcs() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "cp-sts").await;
    support::kubectl_apply(
        &ns.name,
        r"
apiVersion: v1
kind: Service
metadata: {name: nginx}
spec:
  clusterIP: None
  selector: {app: nginx}
  ports: [{name: web, port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: nginx
  replicas: 2
  selector: {matchLabels: {app: nginx}}
  template:
    metadata: {labels: {app: nginx}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        volumeMounts: [{name: www, mountPath: /usr/share/nginx/html}]
  volumeClaimTemplates:
  - metadata: {name: www}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
",
    );
    let api: Api<StatefulSet> = Api::namespaced(client.clone(), &ns.name);
    wait_until(TIMEOUT, "2 ready replicas", || async {
        let s = api.get("web").await.unwrap().status?;
        (s.ready_replicas == Some(2)).then_some(())
    })
    .await;
    let ps = pods(&client, &ns.name, "app=nginx").await;
    let get = |n: &str| {
        ps.iter()
            .find(|p| p.metadata.name.as_deref() == Some(n))
            .unwrap()
            .clone()
    };
    let (web0, web1) = (get("web-0"), get("web-1"));
    let ready_at = web0
        .status
        .as_ref()
        .unwrap()
        .conditions
        .as_ref()
        .unwrap()
        .iter()
        .find(|c| c.type_ == "Ready")
        .unwrap()
        .last_transition_time
        .clone()
        .unwrap();
    let web1_created = web1.metadata.creation_timestamp.clone().unwrap();
    // OrderedReady: web-1 is only created once web-0 is Ready (second resolution timestamps).
    assert!(
        web1_created.0 >= ready_at.0,
        "web-1 created {web1_created:?} before web-0 Ready {ready_at:?}"
    );

    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns.name);
    for name in ["www-web-0", "www-web-1"] {
        wait_until(TIMEOUT, "PVC bound", || async {
            let pvc = pvcs.get(name).await.ok()?;
            (pvc.status?.phase.as_deref() == Some("Bound")).then_some(())
        })
        .await;
    }
}

fn job(name: &str, command: &str, backoff_limit: i32) -> Job {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": backoff_limit,
            "template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "main", "image": "busybox:1.36", "command": ["sh", "-c", command]}]
            }}
        }
    }))
    .unwrap()
}

fn condition(job: &Job, type_: &str) -> Option<(String, Option<String>)> {
    job.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_ && c.status == "True")
        .map(|c| (c.status.clone(), c.reason.clone()))
}

#[tokio::test]
async fn hello_world_job_completes() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "cp-job").await;
    let api: Api<Job> = Api::namespaced(client.clone(), &ns.name);
    api.create(&PostParams::default(), &job("hello-world", "echo hello", 4))
        .await
        .unwrap();
    wait_until(TIMEOUT, "Complete=True", || async {
        let j = api.get("hello-world").await.unwrap();
        condition(&j, "Complete")
    })
    .await;
    let j = api.get("hello-world").await.unwrap();
    assert_eq!(j.status.unwrap().succeeded, Some(1));
}

#[tokio::test]
async fn failing_job_ends_with_backoff_limit_exceeded() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "cp-jobfail").await;
    let api: Api<Job> = Api::namespaced(client.clone(), &ns.name);
    api.create(&PostParams::default(), &job("fails", "exit 1", 1))
        .await
        .unwrap();
    let (_, reason) = wait_until(Duration::from_secs(90), "Failed=True", || async {
        let j = api.get("fails").await.unwrap();
        condition(&j, "Failed")
    })
    .await;
    assert_eq!(reason.as_deref(), Some("BackoffLimitExceeded"));
    let j = api.get("fails").await.unwrap();
    assert_eq!(
        j.status.unwrap().failed,
        Some(2),
        "backoffLimit 1 = two attempts"
    );
}

#[tokio::test]
async fn image_pull_knob_leaves_a_daemonset_rollout_stuck_with_the_reason() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "cp-pull").await;
    let api: Api<DaemonSet> = Api::namespaced(client.clone(), &ns.name);
    api.create(
        &PostParams::default(),
        &daemonset("bad", "nginx:doesnotexist", json!({})),
    )
    .await
    .unwrap();
    let reasons = wait_until(TIMEOUT, "ImagePullBackOff on both pods", || async {
        let ps = pods(&client, &ns.name, "app=bad").await;
        let reasons: Vec<String> = ps
            .iter()
            .filter_map(|p| {
                let cs = p.status.as_ref()?.container_statuses.as_ref()?;
                cs[0].state.as_ref()?.waiting.as_ref()?.reason.clone()
            })
            .collect();
        (reasons.len() == 2 && reasons.iter().all(|r| r == "ImagePullBackOff")).then_some(reasons)
    })
    .await;
    assert_eq!(reasons.len(), 2);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let s = api.get("bad").await.unwrap().status.unwrap();
    assert_eq!(s.number_available.unwrap_or(0), 0, "rollout stays stuck");
    assert_eq!(s.number_unavailable, Some(2));
}

#[tokio::test]
async fn crashloop_knob_shows_crash_loop_back_off_with_restarts() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "cp-crash").await;
    let api: Api<DaemonSet> = Api::namespaced(client.clone(), &ns.name);
    api.create(
        &PostParams::default(),
        &daemonset("crash", "example/crashloop:1", json!({})),
    )
    .await
    .unwrap();
    wait_until(TIMEOUT, "CrashLoopBackOff with restarts", || async {
        let ps = pods(&client, &ns.name, "app=crash").await;
        let ok = ps.len() == 2
            && ps.iter().all(|p| {
                p.status
                    .as_ref()
                    .and_then(|s| s.container_statuses.as_ref())
                    .is_some_and(|cs| {
                        let c = &cs[0];
                        c.restart_count > 0
                            && c.state
                                .as_ref()
                                .and_then(|s| s.waiting.as_ref())
                                .and_then(|w| w.reason.as_deref())
                                == Some("CrashLoopBackOff")
                            && c.last_state
                                .as_ref()
                                .and_then(|s| s.terminated.as_ref())
                                .map(|t| t.exit_code)
                                == Some(1)
                    })
            });
        ok.then_some(())
    })
    .await;
}

#[tokio::test]
async fn server_side_apply_dry_run_defaults_without_persisting() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "cp-ssa").await;
    let api: Api<DaemonSet> = Api::namespaced(client.clone(), &ns.name);
    let body = json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "ssa"},
        "spec": {"selector": {"matchLabels": {"app": "ssa"}},
                 "template": {"metadata": {"labels": {"app": "ssa"}},
                              "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}}
    });
    let dry = api
        .patch(
            "ssa",
            &PatchParams::apply("ferry").force().dry_run(),
            &Patch::Apply(&body),
        )
        .await
        .unwrap();
    let spec = dry.spec.unwrap();
    // Server defaulting happened…
    assert_eq!(
        spec.update_strategy.unwrap().type_.as_deref(),
        Some("RollingUpdate")
    );
    assert_eq!(
        spec.template.spec.unwrap().restart_policy.as_deref(),
        Some("Always")
    );
    assert!(dry
        .metadata
        .managed_fields
        .unwrap()
        .iter()
        .any(|m| m.manager.as_deref() == Some("ferry")));
    // …and nothing was stored.
    assert!(api.get_opt("ssa").await.unwrap().is_none());

    // A real apply stores it; a conflicting manager is overridden only with force.
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), &ns.name);
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "a"}});
    cms.patch("c", &PatchParams::apply("other"), &Patch::Apply(&cm))
        .await
        .unwrap();
    let cm2 = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "b"}});
    let conflict = cms
        .patch("c", &PatchParams::apply("ferry"), &Patch::Apply(&cm2))
        .await;
    assert!(
        matches!(conflict, Err(kube::Error::Api(ref s)) if s.code == 409),
        "{conflict:?}"
    );
    let forced = cms
        .patch(
            "c",
            &PatchParams::apply("ferry").force(),
            &Patch::Apply(&cm2),
        )
        .await
        .unwrap();
    assert_eq!(forced.data.unwrap()["k"], "b");
}
