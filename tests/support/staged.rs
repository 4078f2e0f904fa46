//! Helpers of the staged-rollout tests (`tests/staged_*.rs`): manifests, a sync run on a
//! blocking thread, samplers of a StatefulSet's partition and its pods' revisions, a canary
//! node label, and readers of ferry's history.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams, WatchEvent, WatchParams};

use super::{ferry_app, FerryRun};

pub const STEPS: &str = "ferry.dev/steps";

pub fn statefulset(image: &str, annotations: &str, replicas: u32) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  annotations: {{{annotations}}}
spec:
  replicas: {replicas}
  serviceName: db
  podManagementPolicy: Parallel
  selector: {{matchLabels: {{app: db}}}}
  template:
    metadata: {{labels: {{app: db}}}}
    spec: {{containers: [{{name: db, image: "{image}"}}]}}
"#
    )
}

pub fn daemonset(image: &str, annotations: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  annotations: {{{annotations}}}
spec:
  selector: {{matchLabels: {{app: agent}}}}
  updateStrategy: {{type: RollingUpdate, rollingUpdate: {{maxUnavailable: 1}}}}
  template:
    metadata: {{labels: {{app: agent}}}}
    spec:
      tolerations: [{{key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}}]
      containers: [{{name: agent, image: "{image}"}}]
"#
    )
}

pub fn sync(repo: &str, ns: &str, extra: &[&str]) -> FerryRun {
    let timeout = if extra.contains(&"--timeout") {
        &[][..]
    } else {
        &["--timeout", "90s"][..]
    };
    let flags = [&["--grace", "2s"][..], timeout, extra].concat();
    ferry_app("sync", repo, ns, &flags)
}

/// [`sync`] on a blocking thread, so samplers on the test's runtime keep running.
pub async fn sync_sampled(repo: &str, ns: &str, extra: &[&str]) -> FerryRun {
    let (repo, ns) = (repo.to_string(), ns.to_string());
    let extra: Vec<String> = extra.iter().map(ToString::to_string).collect();
    tokio::task::spawn_blocking(move || {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        sync(&repo, &ns, &extra)
    })
    .await
    .unwrap()
}

/// Samples the StatefulSet's pods every 50 ms: every pod name ever seen on a revision other
/// than `old`.
pub struct MovedSampler {
    moved: Arc<Mutex<std::collections::BTreeSet<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl MovedSampler {
    pub fn start(client: &kube::Client, ns: &str, old: &str) -> MovedSampler {
        let (client, ns, old) = (client.clone(), ns.to_string(), old.to_string());
        let moved = Arc::new(Mutex::new(std::collections::BTreeSet::new()));
        let out = moved.clone();
        let task = tokio::spawn(async move {
            loop {
                for (pod, rev) in revisions(&client, &ns).await {
                    if rev != old {
                        out.lock().unwrap().insert(pod);
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        MovedSampler { moved, task }
    }

    pub fn stop(self) -> Vec<String> {
        self.task.abort();
        self.moved.lock().unwrap().iter().cloned().collect()
    }
}

pub fn assert_code(run: &FerryRun, code: i32) {
    assert_eq!(
        run.code, code,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
}

/// Watches a StatefulSet's partition: each value in the order written.
pub struct PartitionSampler {
    seen: Arc<Mutex<Vec<i32>>>,
    task: tokio::task::JoinHandle<()>,
}

impl PartitionSampler {
    /// Reads the StatefulSet now, then watches it from that resourceVersion: every write
    /// after this call is seen, however quickly the next one follows.
    pub async fn start(client: &kube::Client, ns: &str) -> PartitionSampler {
        let api: Api<StatefulSet> = Api::namespaced(client.clone(), ns);
        let now = api.get("db").await.unwrap();
        let rv = now.metadata.resource_version.clone().unwrap_or_default();
        let seen = Arc::new(Mutex::new(vec![partition(&now)]));
        let out = seen.clone();
        let task = tokio::spawn(async move {
            let params = WatchParams::default().fields("metadata.name=db");
            let mut rv = rv;
            loop {
                let Ok(stream) = api.watch(&params, &rv).await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let mut stream = std::pin::pin!(stream);
                while let Some(Ok(event)) = stream.next().await {
                    if let WatchEvent::Added(sts) | WatchEvent::Modified(sts) = event {
                        rv = sts.metadata.resource_version.clone().unwrap_or_default();
                        let p = partition(&sts);
                        let mut seen = out.lock().unwrap();
                        if seen.last() != Some(&p) {
                            seen.push(p);
                        }
                    }
                }
            }
        });
        PartitionSampler { seen, task }
    }

    pub fn stop(self) -> Vec<i32> {
        self.task.abort();
        self.seen.lock().unwrap().clone()
    }
}

pub fn partition(sts: &StatefulSet) -> i32 {
    sts.spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.rolling_update.as_ref())
        .and_then(|r| r.partition)
        .unwrap_or(0)
}

/// The StatefulSet's pods: ordinal → revision label.
pub async fn revisions(client: &kube::Client, ns: &str) -> BTreeMap<String, String> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    pods.list(&ListParams::default().labels("app=db"))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .map(|p| {
            let labels = p.metadata.labels.unwrap_or_default();
            (
                p.metadata.name.unwrap_or_default(),
                labels
                    .get("controller-revision-hash")
                    .cloned()
                    .unwrap_or_default(),
            )
        })
        .collect()
}

/// Managers of the live object's fields, and its annotations.
pub fn managers_and_annotations(
    ns: &str,
    kind: &str,
    name: &str,
) -> (Vec<String>, serde_json::Value) {
    let out = super::kubectl_ok(&[
        "-n",
        ns,
        "get",
        kind,
        name,
        "-o",
        "json",
        "--show-managed-fields",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let managers = v["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["manager"].as_str().unwrap_or_default().to_string())
        .collect();
    (managers, v["metadata"]["annotations"].clone())
}

pub fn last_sync(ns: &str) -> serde_json::Value {
    let run = super::ferry(&["history", "--app", ns, "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    v.as_array()
        .and_then(|a| a.first())
        .cloned()
        .unwrap_or_default()
}

pub fn steps_of(record: &serde_json::Value, kind: &str) -> Vec<(String, String)> {
    record["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == kind)
        .and_then(|o| o["steps"].as_array())
        .map(|steps| {
            steps
                .iter()
                .map(|s| {
                    (
                        s["covers"].as_str().unwrap_or_default().to_string(),
                        s["result"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Labels one schedulable node `key=yes` for the test, and removes the label when dropped.
pub struct CanaryLabel {
    pub node: String,
    key: String,
}

impl CanaryLabel {
    pub async fn new(client: &kube::Client, key: &str) -> CanaryLabel {
        let nodes: Api<Node> = Api::all(client.clone());
        let node = "kwok-worker-1".to_string();
        let patch = serde_json::json!({"metadata": {"labels": {key: "yes"}}});
        nodes
            .patch(&node, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap();
        CanaryLabel {
            node,
            key: key.to_string(),
        }
    }
}

impl Drop for CanaryLabel {
    fn drop(&mut self) {
        let _ = super::kubectl(&["label", "node", &self.node, &format!("{}-", self.key)]);
    }
}

/// The agent's pods: node → (pod uid, image).
pub async fn agent_pods(client: &kube::Client, ns: &str) -> BTreeMap<String, (String, String)> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    pods.list(&ListParams::default().labels("app=agent"))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .map(|p| {
            let spec = p.spec.unwrap_or_default();
            (
                spec.node_name.unwrap_or_default(),
                (
                    p.metadata.uid.unwrap_or_default(),
                    spec.containers[0].image.clone().unwrap_or_default(),
                ),
            )
        })
        .collect()
}

pub fn spawn_sync(repo: &str, ns: &str) -> Child {
    let cache = std::env::temp_dir().join("ferry-test-cache");
    Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args([
            "sync",
            "--repo",
            repo,
            "--namespace",
            ns,
            "--app",
            ns,
            "--grace",
            "2s",
            "--timeout",
            "90s",
        ])
        .env("KUBECONFIG", super::kubeconfig())
        .env("FERRY_CACHE_DIR", &cache)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

pub fn rollout_mark(ns: &str) -> String {
    super::kubectl_ok(&[
        "-n",
        ns,
        "get",
        "sts",
        "db",
        "-o",
        "jsonpath={.metadata.annotations.ferry\\.dev/rollout-step}",
    ])
}
