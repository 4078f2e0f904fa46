//! Staged rollouts (`ferry.dev/steps`): a StatefulSet stepped partition by partition, a
//! DaemonSet node batch by node batch through the Eviction API with canary nodes first, each
//! step gated and soaked; a failing step keeps the blast radius to that step; a
//! PodDisruptionBudget makes a step wait; a killed ferry resumes at the step it was on; a newer
//! commit supersedes a soaking step. Real API server, controllers, kwok pods.

mod support;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams};
use support::serve::{app_status, github_push, history, hmac_hex, send_github, start_server};
use support::{client, ferry_app, kubectl_apply, wait_until, FerryRun, Remote, TestNamespace};

const STEPS: &str = "ferry.dev/steps";

fn statefulset(image: &str, annotations: &str, replicas: u32) -> String {
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

fn daemonset(image: &str, annotations: &str) -> String {
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

fn sync(repo: &str, ns: &str, extra: &[&str]) -> FerryRun {
    let timeout = if extra.contains(&"--timeout") {
        &[][..]
    } else {
        &["--timeout", "90s"][..]
    };
    let flags = [&["--grace", "2s"][..], timeout, extra].concat();
    ferry_app("sync", repo, ns, &flags)
}

/// [`sync`] on a blocking thread, so samplers on the test's runtime keep running.
async fn sync_sampled(repo: &str, ns: &str, extra: &[&str]) -> FerryRun {
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
struct MovedSampler {
    moved: Arc<Mutex<std::collections::BTreeSet<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl MovedSampler {
    fn start(client: &kube::Client, ns: &str, old: &str) -> MovedSampler {
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

    fn stop(self) -> Vec<String> {
        self.task.abort();
        self.moved.lock().unwrap().iter().cloned().collect()
    }
}

fn assert_code(run: &FerryRun, code: i32) {
    assert_eq!(
        run.code, code,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
}

/// Samples a StatefulSet's partition every 50 ms: each value in the order first seen.
struct PartitionSampler {
    seen: Arc<Mutex<Vec<i32>>>,
    task: tokio::task::JoinHandle<()>,
}

impl PartitionSampler {
    fn start(client: &kube::Client, ns: &str) -> PartitionSampler {
        let api: Api<StatefulSet> = Api::namespaced(client.clone(), ns);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let out = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                if let Ok(sts) = api.get("db").await {
                    let p = partition(&sts);
                    let mut seen = out.lock().unwrap();
                    if seen.last() != Some(&p) {
                        seen.push(p);
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        PartitionSampler { seen, task }
    }

    fn stop(self) -> Vec<i32> {
        self.task.abort();
        self.seen.lock().unwrap().clone()
    }
}

fn partition(sts: &StatefulSet) -> i32 {
    sts.spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.rolling_update.as_ref())
        .and_then(|r| r.partition)
        .unwrap_or(0)
}

/// The StatefulSet's pods: ordinal → revision label.
async fn revisions(client: &kube::Client, ns: &str) -> BTreeMap<String, String> {
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
fn managers_and_annotations(ns: &str, kind: &str, name: &str) -> (Vec<String>, serde_json::Value) {
    let out = support::kubectl_ok(&[
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

fn last_sync(ns: &str) -> serde_json::Value {
    let run = support::ferry(&["history", "--app", ns, "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    v.as_array()
        .and_then(|a| a.first())
        .cloned()
        .unwrap_or_default()
}

fn steps_of(record: &serde_json::Value, kind: &str) -> Vec<(String, String)> {
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

#[tokio::test]
async fn a_statefulset_steps_ordinal_4_then_2_to_4_then_all_and_hands_the_partition_back() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "stg-sts").await;
    let remote = Remote::new();
    let annotations = format!("{STEPS}: \"1, 3, 100%\", ferry.dev/step-soak: 1s");
    remote
        .work
        .write("db.yaml", &statefulset("postgres:16", &annotations, 5));
    remote.commit_and_push("db 16");
    assert_code(&sync(&remote.url(), &ns.name, &[]), 0);
    let old = revisions(&client, &ns.name).await;

    remote
        .work
        .write("db.yaml", &statefulset("postgres:17", &annotations, 5));
    remote.commit_and_push("db 17");
    let plan = ferry_app("plan", &remote.url(), &ns.name, &[]);
    assert!(
        plan.stdout.contains("staged: 1 → 3 → 100%, soak 1s"),
        "{}",
        plan.stdout
    );

    let sampler = PartitionSampler::start(&client, &ns.name);
    let run = sync_sampled(&remote.url(), &ns.name, &[]).await;
    let partitions = sampler.stop();
    assert_code(&run, 0);
    // 5 (held: no pod moves while the template changes), then 4, 2 and 0: in that order.
    assert_eq!(
        partitions,
        vec![0, 5, 4, 2, 0],
        "partitions seen: {partitions:?}\n{}",
        run.stderr
    );
    let new = revisions(&client, &ns.name).await;
    assert!(
        new.values().all(|r| !old.values().any(|o| o == r)),
        "{old:?} → {new:?}"
    );

    let record = last_sync(&ns.name);
    assert_eq!(
        steps_of(&record, "StatefulSet"),
        [
            ("ordinals 4", "healthy"),
            ("ordinals 2–4", "healthy"),
            ("ordinals 0–4", "healthy")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let (managers, annotations) = managers_and_annotations(&ns.name, "statefulset", "db");
    assert!(
        !managers.iter().any(|m| m == "ferry-rollout"),
        "hold released: {managers:?}"
    );
    assert!(
        annotations.get("ferry.dev/rollout-step").is_none(),
        "{annotations}"
    );
    let again = ferry_app("plan", &remote.url(), &ns.name, &[]);
    assert_code(&again, 0);
    // One new ControllerRevision for the whole staged rollout.
    let revs = support::kubectl_ok(&["-n", &ns.name, "get", "controllerrevisions", "-o", "name"]);
    assert_eq!(revs.lines().count(), 2, "{revs}");
}

#[tokio::test]
async fn a_crashlooping_first_step_touches_only_ordinal_4_and_revert_brings_the_set_back() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "stg-crash").await;
    let remote = Remote::new();
    let annotations = format!("{STEPS}: \"1, 3, 100%\", ferry.dev/step-soak: 2s");
    remote
        .work
        .write("db.yaml", &statefulset("postgres:16", &annotations, 5));
    remote.commit_and_push("db 16");
    assert_code(&sync(&remote.url(), &ns.name, &[]), 0);
    let old_rev = revisions(&client, &ns.name).await["db-0"].clone();

    // Halt: the first step fails and only ordinal 4 ever leaves the old revision.
    remote.work.write(
        "db.yaml",
        &statefulset("postgres:crashloop", &annotations, 5),
    );
    remote.commit_and_push("db broken");
    let sampler = MovedSampler::start(&client, &ns.name, &old_rev);
    let started = std::time::Instant::now();
    let run = sync_sampled(&remote.url(), &ns.name, &[]).await;
    let took = started.elapsed();
    let moved = sampler.stop();
    assert_code(&run, 3);
    assert!(
        run.stdout.contains("step 1/3 (ordinals 4)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("CrashLoopBackOff"), "{}", run.stdout);
    eprintln!("failed after {took:?} (grace 2s)");
    assert_eq!(moved, ["db-4"], "only the first step's ordinal moves");
    let steps = steps_of(&last_sync(&ns.name), "StatefulSet");
    assert_eq!(steps, [("ordinals 4".to_string(), "failed".to_string())]);

    // Revert: the failure writes and syncs a revert; the set returns to the old revision and
    // no pod stays broken.
    remote
        .work
        .write("db.yaml", &statefulset("postgres:16", &annotations, 5));
    remote.commit_and_push("db 16 again");
    assert_code(&sync(&remote.url(), &ns.name, &[]), 0);
    remote.work.write(
        "db.yaml",
        &statefulset("postgres:crashloop", &annotations, 5),
    );
    remote.commit_and_push("db broken, with the revert policy");
    let sampler = MovedSampler::start(&client, &ns.name, &old_rev);
    let run = sync_sampled(&remote.url(), &ns.name, &["--on-failure", "revert"]).await;
    let moved = sampler.stop();
    assert!(
        run.stdout.contains("step 1/3 (ordinals 4)"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert_eq!(moved, ["db-4"], "{}", run.stdout);
    assert!(
        remote.tip_message().starts_with("Revert"),
        "{}",
        remote.tip_message()
    );
    wait_until(
        Duration::from_secs(60),
        "every pod back on the old revision and Ready",
        || async {
            let pods: Api<Pod> = Api::namespaced(client.clone(), &ns.name);
            let listed = pods
                .list(&ListParams::default().labels("app=db"))
                .await
                .ok()?;
            let back = listed.items.iter().filter(|p| {
                p.metadata.deletion_timestamp.is_none()
                    && p.metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get("controller-revision-hash"))
                        == Some(&old_rev)
                    && p.status
                        .as_ref()
                        .and_then(|s| s.container_statuses.as_ref())
                        .is_some_and(|c| c.iter().all(|c| c.ready))
            });
            (back.count() == 5).then_some(())
        },
    )
    .await;
}

/// Labels one schedulable node `key=yes` for the test, and removes the label when dropped.
struct CanaryLabel {
    node: String,
    key: String,
}

impl CanaryLabel {
    async fn new(client: &kube::Client, key: &str) -> CanaryLabel {
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
        let _ = support::kubectl(&["label", "node", &self.node, &format!("{}-", self.key)]);
    }
}

/// The agent's pods: node → (pod uid, image).
async fn agent_pods(client: &kube::Client, ns: &str) -> BTreeMap<String, (String, String)> {
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

#[tokio::test]
async fn a_daemonset_canary_node_goes_first_and_a_bad_image_there_replaces_no_other_pod() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "stg-ds").await;
    let key = format!("ferry-test-canary-{}", ns.name);
    let canary = CanaryLabel::new(&client, &key).await;
    let remote = Remote::new();
    let annotations = format!(
        "{STEPS}: \"1, 100%\", ferry.dev/step-soak: 1s, ferry.dev/canary-nodes: \"{key}=yes\""
    );
    remote
        .work
        .write("agent.yaml", &daemonset("fluent-bit:3.0", &annotations));
    remote.commit_and_push("agent 3.0");
    assert_code(&sync(&remote.url(), &ns.name, &[]), 0);
    let before = agent_pods(&client, &ns.name).await;
    assert_eq!(before.len(), 3, "{before:?}");

    remote.work.write(
        "agent.yaml",
        &daemonset("fluent-bit:doesnotexist", &annotations),
    );
    remote.commit_and_push("agent broken");
    let run = sync(&remote.url(), &ns.name, &[]);
    assert_code(&run, 3);
    let expected = format!("step 1/2 (canary nodes {})", canary.node);
    assert!(run.stdout.contains(&expected), "{}", run.stdout);
    assert!(run.stdout.contains("ImagePullBackOff"), "{}", run.stdout);
    let after = agent_pods(&client, &ns.name).await;
    for (node, (uid, _)) in &before {
        if *node == canary.node {
            assert_ne!(after[node].0, *uid, "the canary's pod was replaced");
            assert_eq!(after[node].1, "fluent-bit:doesnotexist");
        } else {
            assert_eq!(
                after[node].0, *uid,
                "{node}'s pod was not touched: {after:?}"
            );
        }
    }
    let strategy = support::kubectl_ok(&[
        "-n",
        &ns.name,
        "get",
        "ds",
        "agent",
        "-o",
        "jsonpath={.spec.updateStrategy.type}",
    ]);
    assert_eq!(
        strategy, "RollingUpdate",
        "git's strategy is back after the failed step"
    );
    let (managers, _) = managers_and_annotations(&ns.name, "daemonset", "agent");
    assert!(
        !managers.iter().any(|m| m == "ferry-rollout"),
        "{managers:?}"
    );

    // The fix rolls out canary first, then the rest.
    remote
        .work
        .write("agent.yaml", &daemonset("fluent-bit:3.1", &annotations));
    remote.commit_and_push("agent 3.1");
    assert_code(&sync(&remote.url(), &ns.name, &[]), 0);
    let fixed = agent_pods(&client, &ns.name).await;
    assert!(
        fixed.values().all(|(_, image)| image == "fluent-bit:3.1"),
        "{fixed:?}"
    );
    let steps = steps_of(&last_sync(&ns.name), "DaemonSet");
    assert_eq!(
        steps[0],
        (
            format!("canary nodes {}", canary.node),
            "healthy".to_string()
        )
    );
    assert_eq!(
        steps[1],
        ("3 of 3 nodes".to_string(), "healthy".to_string())
    );
}

#[tokio::test]
async fn a_disruption_budget_that_forbids_eviction_makes_the_step_wait_not_bypass_it() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "stg-pdb").await;
    let remote = Remote::new();
    let annotations = format!("{STEPS}: \"1, 100%\"");
    remote
        .work
        .write("agent.yaml", &daemonset("fluent-bit:3.0", &annotations));
    remote.commit_and_push("agent 3.0");
    assert_code(&sync(&remote.url(), &ns.name, &[]), 0);
    kubectl_apply(
        &ns.name,
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: agent}\nspec: {maxUnavailable: 0, selector: {matchLabels: {app: agent}}}\n",
    );
    let before = agent_pods(&client, &ns.name).await;

    remote
        .work
        .write("agent.yaml", &daemonset("fluent-bit:3.1", &annotations));
    remote.commit_and_push("agent 3.1");
    let run = sync(&remote.url(), &ns.name, &["--timeout", "8s"]);
    assert_code(&run, 3);
    assert!(
        run.stderr.contains("refused") && run.stderr.contains("disruption budget"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("timed out"), "{}", run.stdout);
    assert_eq!(
        agent_pods(&client, &ns.name).await,
        before,
        "no pod was replaced past the PDB"
    );

    support::kubectl_ok(&["-n", &ns.name, "delete", "pdb", "agent"]);
    assert_code(&sync(&remote.url(), &ns.name, &[]), 0);
    let after = agent_pods(&client, &ns.name).await;
    assert!(
        after.values().all(|(_, image)| image == "fluent-bit:3.1"),
        "{after:?}"
    );
}

fn spawn_sync(repo: &str, ns: &str) -> Child {
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
        .env("KUBECONFIG", support::kubeconfig())
        .env("FERRY_CACHE_DIR", &cache)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn rollout_mark(ns: &str) -> String {
    support::kubectl_ok(&[
        "-n",
        ns,
        "get",
        "sts",
        "db",
        "-o",
        "jsonpath={.metadata.annotations.ferry\\.dev/rollout-step}",
    ])
}

#[tokio::test]
async fn a_ferry_killed_mid_step_resumes_at_that_step_and_never_reruns_a_finished_one() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "stg-kill").await;
    let remote = Remote::new();
    let annotations = format!("{STEPS}: \"1, 2, 100%\", ferry.dev/step-soak: 4s");
    remote
        .work
        .write("db.yaml", &statefulset("postgres:16", &annotations, 3));
    remote.commit_and_push("db 16");
    assert_code(&sync(&remote.url(), &ns.name, &[]), 0);
    remote
        .work
        .write("db.yaml", &statefulset("postgres:17", &annotations, 3));
    let sha = remote.commit_and_push("db 17");

    let mut child = spawn_sync(&remote.url(), &ns.name);
    wait_until(Duration::from_secs(60), "step 2 in progress", || async {
        rollout_mark(&ns.name).starts_with("2/3 ").then_some(())
    })
    .await;
    child.kill().unwrap(); // SIGKILL
    let _ = child.wait();
    assert_eq!(rollout_mark(&ns.name), format!("2/3 {sha}"));
    let plan = ferry_app("plan", &remote.url(), &ns.name, &[]);
    assert!(
        plan.stdout.contains("resuming at step 2 of 3"),
        "{}",
        plan.stdout
    );

    let sampler = PartitionSampler::start(&client, &ns.name);
    let run = sync_sampled(&remote.url(), &ns.name, &[]).await;
    let partitions = sampler.stop();
    assert_code(&run, 0);
    // Step 2's partition (1), then 0: never back to step 1's partition (2) or the hold (3).
    assert_eq!(partitions, vec![1, 0], "{partitions:?}\n{}", run.stderr);
    let steps = steps_of(&last_sync(&ns.name), "StatefulSet");
    assert_eq!(steps[0].1, "done-earlier", "{steps:?}");
    assert_eq!(
        steps[1],
        ("ordinals 1–2".to_string(), "healthy".to_string())
    );
    assert_eq!(
        steps[2],
        ("ordinals 0–2".to_string(), "healthy".to_string())
    );
    assert_eq!(rollout_mark(&ns.name), "");
    assert_code(&ferry_app("plan", &remote.url(), &ns.name, &[]), 0);
}

#[tokio::test]
async fn a_newer_commit_supersedes_a_soaking_step_and_starts_its_own_steps() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "stg-super").await;
    let remote = Remote::new();
    let annotations = format!("{STEPS}: \"1, 100%\", ferry.dev/step-soak: 10m");
    remote
        .work
        .write("apps/db.yaml", &statefulset("postgres:16", &annotations, 3));
    remote.commit_and_push("db 16");
    let server = start_server(&remote, &ns.name, "1h", &[]);
    let sts: Api<StatefulSet> = Api::namespaced(client.clone(), &ns.name);
    wait_until(
        Duration::from_secs(60),
        "the first commit synced",
        || async { sts.get_opt("db").await.ok().flatten().map(|_| ()) },
    )
    .await;
    wait_until(
        Duration::from_secs(60),
        "the first sync recorded",
        || async {
            let status = app_status(server.port, &ns.name).await;
            status["syncedCommit"].is_string().then_some(())
        },
    )
    .await;

    remote
        .work
        .write("apps/db.yaml", &statefulset("postgres:17", &annotations, 3));
    let soaking = remote.commit_and_push("db 17");
    let body = github_push(&remote.url(), "refs/heads/main", &soaking);
    assert_eq!(
        send_github(server.port, &body, &format!("sha256={}", hmac_hex(&body))).0,
        202
    );
    wait_until(Duration::from_secs(60), "step 1 soaking", || async {
        let status = app_status(server.port, &ns.name).await;
        let text = status.to_string();
        text.contains("soaking").then_some(())
    })
    .await;

    let fix = {
        let no_soak = format!("{STEPS}: \"1, 100%\"");
        remote
            .work
            .write("apps/db.yaml", &statefulset("postgres:18", &no_soak, 3));
        remote.commit_and_push("db 18")
    };
    let body = github_push(&remote.url(), "refs/heads/main", &fix);
    assert_eq!(
        send_github(server.port, &body, &format!("sha256={}", hmac_hex(&body))).0,
        202
    );
    wait_until(
        Duration::from_secs(60),
        "the newer commit synced",
        || async {
            let status = app_status(server.port, &ns.name).await;
            (status["syncedCommit"] == fix.as_str()).then_some(())
        },
    )
    .await;
    let records = history(&ns.name);
    let superseded = records
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["commit"]["sha"] == soaking.as_str())
        .cloned()
        .unwrap();
    assert_eq!(
        superseded["outcome"]["status"], "superseded",
        "{superseded}"
    );
    assert_eq!(
        steps_of(&superseded, "StatefulSet")[0].1,
        "superseded",
        "{superseded}"
    );
    let images: Vec<String> = Api::<Pod>::namespaced(client.clone(), &ns.name)
        .list(&ListParams::default().labels("app=db"))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|p| p.spec.unwrap().containers[0].image.clone().unwrap())
        .collect();
    assert!(images.iter().all(|i| i == "postgres:18"), "{images:?}");
    assert_eq!(partition(&sts.get("db").await.unwrap()), 0);
}
