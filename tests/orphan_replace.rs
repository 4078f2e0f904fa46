//! Replacing and pruning workloads without taking their pods down, as
//! `kubectl delete ds --cascade=orphan` does: `ferry.dev/replace: orphan` for an immutable
//! selector change, `ferry.dev/delete-propagation: orphan` for a prune. Real API server,
//! real garbage collector and DaemonSet controller, kwok pods.

mod support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use support::{client, ferry_app, wait_until, FerryRun, GitRepo, TestNamespace};

/// The agent DaemonSet on every node, selecting `selector`, with `annotations`.
fn agent(selector: &str, annotations: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  annotations: {{{annotations}}}
spec:
  selector: {{matchLabels: {{{selector}}}}}
  template:
    metadata: {{labels: {{app: agent, tier: node}}}}
    spec:
      tolerations: [{{key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}}]
      containers: [{{name: agent, image: "nginx:1.27"}}]
"#
    )
}

const KEEP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep\ndata: {k: v}\n";

fn sync(repo: &GitRepo, ns: &str) -> FerryRun {
    let flags = ["--prune", "--grace", "2s", "--timeout", "2m"];
    ferry_app("sync", &repo.path_str(), ns, &flags)
}

fn assert_code(run: &FerryRun, code: i32) {
    assert_eq!(
        run.code, code,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
}

/// The agent's live pods: uid → the uid of their controller (if any).
async fn pods(client: &kube::Client, ns: &str) -> BTreeMap<String, Option<String>> {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let listed = api
        .list(&ListParams::default().labels("app=agent"))
        .await
        .unwrap();
    listed
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .map(|p| {
            let owner = p
                .metadata
                .owner_references
                .unwrap_or_default()
                .into_iter()
                .find(|o| o.controller == Some(true))
                .map(|o| o.uid);
            (p.metadata.uid.unwrap_or_default(), owner)
        })
        .collect()
}

/// Samples the agent's live pods every 100 ms until stopped: the fewest ever seen.
struct Sampler {
    stop: Arc<AtomicBool>,
    fewest: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    fn start(client: &kube::Client, ns: &str) -> Sampler {
        let (stop, fewest) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicUsize::new(usize::MAX)),
        );
        let (client, ns) = (client.clone(), ns.to_string());
        let (s, f) = (stop.clone(), fewest.clone());
        let task = tokio::spawn(async move {
            while !s.load(Ordering::SeqCst) {
                f.fetch_min(pods(&client, &ns).await.len(), Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        Sampler { stop, fewest, task }
    }

    async fn fewest(self) -> usize {
        self.stop.store(true, Ordering::SeqCst);
        self.task.await.unwrap();
        self.fewest.load(Ordering::SeqCst)
    }
}

async fn ds_uid(client: &kube::Client, ns: &str) -> Option<String> {
    let api: Api<DaemonSet> = Api::namespaced(client.clone(), ns);
    api.get_opt("agent")
        .await
        .unwrap()
        .and_then(|d| d.metadata.uid)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_selector_change_is_refused_then_replaced_with_its_pods_never_absent() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "orphan-replace").await;
    let repo = GitRepo::new();
    repo.write("agent.yaml", &agent("app: agent, tier: node", ""));
    repo.commit("agent selecting app and tier");
    assert_code(&sync(&repo, &ns.name), 0);
    let before = pods(&client, &ns.name).await;
    assert_eq!(before.len(), 3, "one pod per node: {before:?}");
    let old_uid = ds_uid(&client, &ns.name).await;

    // The selector is immutable: without the annotation the commit is refused, nothing moves.
    repo.write("agent.yaml", &agent("app: agent", ""));
    repo.commit("select on app only");
    let refused = sync(&repo, &ns.name);
    assert_code(&refused, 2);
    let said = format!("{}{}", refused.stdout, refused.stderr);
    assert!(said.contains("field is immutable"), "{said}");
    assert!(
        said.contains("ferry.dev/replace: orphan"),
        "names the way out: {said}"
    );
    assert_eq!(pods(&client, &ns.name).await, before);
    assert_eq!(ds_uid(&client, &ns.name).await, old_uid);

    // With it: deleted keeping its pods, created again, the same pods adopted.
    repo.write(
        "agent.yaml",
        &agent("app: agent", "ferry.dev/replace: orphan"),
    );
    repo.commit("select on app only, replacing the DaemonSet");
    let sampler = Sampler::start(&client, &ns.name);
    let replaced = sync(&repo, &ns.name);
    let fewest = sampler.fewest().await;
    assert_code(&replaced, 0);
    assert!(replaced.stdout.contains("recreate"), "{}", replaced.stdout);
    assert_eq!(fewest, 3, "a pod was absent during the replace");
    let new_uid = ds_uid(&client, &ns.name).await;
    assert!(
        new_uid.is_some() && new_uid != old_uid,
        "a new DaemonSet object"
    );
    let adopted = wait_until(
        Duration::from_secs(30),
        "the new DaemonSet adopts the pods",
        || {
            let (client, ns, new_uid) = (client.clone(), ns.name.clone(), new_uid.clone());
            async move {
                let now = pods(&client, &ns).await;
                now.values().all(|owner| *owner == new_uid).then_some(now)
            }
        },
    )
    .await;
    let same: Vec<&String> = adopted.keys().collect();
    let old: Vec<&String> = before.keys().collect();
    assert_eq!(same, old, "the very same pods, adopted, not replaced");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_prune_marked_orphan_deletes_the_daemonset_and_leaves_its_pods_running() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "orphan-prune").await;
    let repo = GitRepo::new();
    repo.write(
        "agent.yaml",
        &agent(
            "app: agent, tier: node",
            "ferry.dev/delete-propagation: orphan",
        ),
    )
    .write("keep.yaml", KEEP);
    repo.commit("agent, marked to keep its pods when pruned");
    assert_code(&sync(&repo, &ns.name), 0);
    let before = pods(&client, &ns.name).await;
    assert_eq!(before.len(), 3, "{before:?}");

    repo.remove("agent.yaml");
    repo.commit("hand the agent over to another tool");
    let plan = ferry_app("plan", &repo.path_str(), &ns.name, &["--prune"]);
    assert!(
        plan.stdout.contains("propagationPolicy Orphan"),
        "{}",
        plan.stdout
    );
    let pruned = sync(&repo, &ns.name);
    assert_code(&pruned, 0);
    assert!(pruned.stdout.contains("pruned"), "{}", pruned.stdout);
    wait_until(Duration::from_secs(30), "the DaemonSet to be gone", || {
        let (client, ns) = (client.clone(), ns.name.clone());
        async move { ds_uid(&client, &ns).await.is_none().then_some(()) }
    })
    .await;
    let after = pods(&client, &ns.name).await;
    let same: Vec<&String> = after.keys().collect();
    let old: Vec<&String> = before.keys().collect();
    assert_eq!(same, old, "every pod still running");
    assert!(
        after.values().all(Option::is_none),
        "unowned now: {after:?}"
    );
}
