//! Every sync that changes something is recorded in the cluster against its commit, with the
//! ControllerRevision it produced; completed Jobs are remembered by spec hash.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use kube::api::Api;
use support::{
    client, daemonset_yaml, ferry, ferry_app, wait_until, FerryRun, GitRepo, TestNamespace,
};

fn run(verb: &str, repo: &GitRepo, ns: &str, extra: &[&str]) -> FerryRun {
    let grace: &[&str] = if verb == "plan" {
        &[]
    } else {
        &["--grace", "2s"]
    };
    ferry_app(verb, &repo.path_str(), ns, &[grace, extra].concat())
}

fn history_json(app: &str) -> serde_json::Value {
    let out = ferry(&["history", "--app", app, "-o", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

#[tokio::test]
async fn syncs_are_recorded_with_commit_trigger_outcome_and_revision() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "h-rev").await;
    let repo = GitRepo::new();
    repo.write("ds.yaml", &daemonset_yaml("agent", "nginx:1.18.0"));
    let first = repo.commit("agent 1.18");
    assert_eq!(run("sync", &repo, &ns.name, &[]).code, 0);
    repo.write("ds.yaml", &daemonset_yaml("agent", "nginx:latest"));
    let second = repo.commit("agent latest");
    assert_eq!(run("sync", &repo, &ns.name, &[]).code, 0);
    // A no-change sync records nothing.
    assert_eq!(run("sync", &repo, &ns.name, &[]).code, 0);

    // Each `ferry history` is a new process: the records live in the cluster.
    let records = history_json(&ns.name);
    let records = records.as_array().unwrap();
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(records[0]["seq"], 2);
    assert_eq!(records[0]["commit"]["sha"], second.as_str());
    assert_eq!(records[1]["commit"]["sha"], first.as_str());
    assert_eq!(records[0]["trigger"], "manual");
    assert_eq!(records[0]["outcome"]["status"], "succeeded");
    let ds = records[0]["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "DaemonSet")
        .unwrap();
    assert_eq!(ds["revision"], 2, "{ds}");
    assert_eq!(records[1]["objects"][0]["revision"], 1);

    let table = ferry(&["history", "--app", &ns.name]);
    assert!(table.stdout.contains("ds/agent=2"), "{}", table.stdout);
    assert!(table.stdout.contains(&second[..7]), "{}", table.stdout);
    let detail = ferry(&["history", "--app", &ns.name, &second[..8]]);
    assert_eq!(detail.code, 0, "{}", detail.stderr);
    assert!(detail.stdout.contains("agent latest"), "{}", detail.stdout);
}

#[tokio::test]
async fn a_failed_gate_and_its_rollback_are_recorded_and_linked() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "h-link").await;
    let repo = GitRepo::new();
    repo.write("ds.yaml", &daemonset_yaml("agent", "nginx:1.18.0"));
    repo.commit("good");
    assert_eq!(run("sync", &repo, &ns.name, &[]).code, 0);
    repo.write("ds.yaml", &daemonset_yaml("agent", "nginx:doesnotexist"));
    let bad = repo.commit("bad");
    assert_eq!(run("sync", &repo, &ns.name, &[]).code, 3);
    let out = run("rollback", &repo, &ns.name, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);

    let records = history_json(&ns.name);
    let records = records.as_array().unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(records[1]["commit"]["sha"], bad.as_str());
    assert_eq!(
        records[1]["outcome"]["status"], "gateFailed",
        "{}",
        records[1]
    );
    assert!(records[1]["outcome"]["reason"]
        .as_str()
        .unwrap()
        .contains("ImagePullBackOff"));
    assert_eq!(records[0]["trigger"], "rollback");
    assert_eq!(records[0]["commit"]["reverts"], bad.as_str());
    assert_eq!(records[0]["revertsSeq"], 2, "{}", records[0]);
}

#[tokio::test]
async fn a_completed_job_removed_by_its_ttl_is_not_rerun_or_drift() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "h-ttl").await;
    let repo = GitRepo::new();
    repo.write(
        "job.yaml",
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\nspec:\n  ttlSecondsAfterFinished: 1\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: m, image: busybox, command: [sh, -c, \"echo done\"]}]\n",
    )
    .write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata: {k: \"1\"}\n");
    repo.commit("migrate once");
    let out = run("sync", &repo, &ns.name, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let jobs = Api::<Job>::namespaced(client.clone(), &ns.name);
    wait_until(
        Duration::from_secs(60),
        "the TTL controller to delete the Job",
        || async {
            jobs.get_opt("migrate")
                .await
                .unwrap()
                .is_none()
                .then_some(())
        },
    )
    .await;

    let plan = run("plan", &repo, &ns.name, &[]);
    assert_eq!(plan.code, 0, "not drift: {}{}", plan.stdout, plan.stderr);
    repo.write(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata: {k: \"2\"}\n",
    );
    repo.commit("config change");
    let out = run("sync", &repo, &ns.name, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("1 updated"), "{}", out.stdout);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        jobs.get_opt("migrate").await.unwrap().is_none(),
        "the completed Job was not re-run"
    );

    // Changing the Job's spec does run it again.
    repo.write(
        "job.yaml",
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\nspec:\n  ttlSecondsAfterFinished: 30\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: m, image: busybox, command: [sh, -c, \"echo v2\"]}]\n",
    );
    repo.commit("migrate v2");
    let out = run("sync", &repo, &ns.name, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(jobs.get_opt("migrate").await.unwrap().is_some());
}

/// Starts `ferry sync` in the background with stdout and stderr both going to `log` (in the
/// order they are written), as a terminal shows them.
fn spawn_sync(repo: &GitRepo, ns: &str, extra: &[&str], log: &std::path::Path) -> Child {
    let out = std::fs::File::create(log).unwrap();
    let err = out.try_clone().unwrap();
    let repo = repo.path_str();
    Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(["sync", "--repo", &repo, "--namespace", ns, "--app", ns])
        .args(extra)
        .env("KUBECONFIG", support::kubeconfig())
        .env(
            "FERRY_CACHE_DIR",
            std::env::temp_dir().join("ferry-test-cache"),
        )
        .env("NO_COLOR", "1")
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .unwrap()
}

#[tokio::test]
async fn a_killed_cli_sync_is_marked_interrupted_by_a_later_sync() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "h-kill").await;
    let repo = GitRepo::new();
    repo.write("ds.yaml", &daemonset_yaml("stuck", "nginx:doesnotexist"));
    let sha = repo.commit("an image that never pulls");
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut child = spawn_sync(
        &repo,
        &ns.name,
        &["--grace", "10m", "--timeout", "10m"],
        log.path(),
    );
    // The sync waits on its gate and renews its record's heartbeat meanwhile.
    let beating = wait_until(
        Duration::from_secs(60),
        "the running sync's heartbeat",
        || async {
            let records = history_json(&ns.name);
            let newest = &records[0];
            (newest["outcome"]["status"] == "inProgress" && newest["heartbeatAt"].is_string())
                .then(|| newest.clone())
        },
    )
    .await;
    assert_eq!(beating["commit"]["sha"], sha.as_str());
    child.kill().unwrap();
    child.wait().unwrap();
    let killed = std::time::Instant::now();

    // Right after the kill the heartbeat is fresh: a later sync cannot tell a dead ferry from
    // a live one yet and leaves the record alone.
    let out = run("sync", &repo, &ns.name, &["--no-wait"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(history_json(&ns.name)[0]["outcome"]["status"], "inProgress");

    // Once the heartbeat is stale, the next sync (nothing to apply) closes it.
    let closed = wait_until(
        Duration::from_secs(120),
        "a later sync to mark the killed sync interrupted",
        || async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            let out = run("sync", &repo, &ns.name, &["--no-wait"]);
            assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
            let records = history_json(&ns.name);
            (records[0]["outcome"]["status"] == "interrupted").then(|| records[0].clone())
        },
    )
    .await;
    eprintln!("marked interrupted {:?} after the kill", killed.elapsed());
    assert_eq!(closed["seq"], beating["seq"]);
    let reason = closed["outcome"]["reason"].as_str().unwrap();
    assert!(reason.contains("no heartbeat since"), "{reason}");
    assert!(closed["finishedAt"].is_string(), "{closed}");
    let table = ferry(&["history", "--app", &ns.name]);
    assert!(table.stdout.contains("interrupted"), "{}", table.stdout);
    assert!(!table.stdout.contains("in-progress"), "{}", table.stdout);
}

#[tokio::test]
async fn sync_shows_the_plan_before_progress_and_says_when_there_is_nothing_to_do() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "h-order").await;
    let repo = GitRepo::new();
    repo.write("ds.yaml", &daemonset_yaml("agent", "nginx:1.18.0"));
    let sha = repo.commit("agent");
    let log = tempfile::NamedTempFile::new().unwrap();
    let status = spawn_sync(&repo, &ns.name, &["--grace", "2s"], log.path())
        .wait()
        .unwrap();
    let text = std::fs::read_to_string(log.path()).unwrap();
    assert!(status.success(), "{text}");
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle:?} missing from:\n{text}"))
    };
    let plan = at("Plan for app");
    let planned = at("+ create   DaemonSet");
    let progress = at("] DaemonSet ");
    let created = at("created   DaemonSet");
    let summary = at("Sync complete:");
    assert!(plan < planned && planned < progress, "{text}");
    assert!(progress < created && created < summary, "{text}");
    assert_eq!(text.matches("Plan for app").count(), 1, "{text}");

    let again = run("sync", &repo, &ns.name, &[]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    let expected = format!("Nothing to do: the cluster already matches {}.", &sha[..7]);
    assert!(again.stdout.contains(&expected), "{}", again.stdout);
    assert!(!again.stdout.contains("Dry run"), "{}", again.stdout);
    let dry = run("sync", &repo, &ns.name, &["--dry-run"]);
    assert!(
        dry.stdout.contains("Dry run: nothing was written."),
        "{}",
        dry.stdout
    );
}

#[tokio::test]
async fn sigterm_stops_a_cli_sync_before_its_next_wave_and_records_it_interrupted() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "h-term").await;
    let repo = GitRepo::new();
    repo.write("ds.yaml", &daemonset_yaml("stuck", "nginx:doesnotexist"));
    repo.write(
        "after.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after\n  annotations: {ferry.dev/wave: \"4\"}\ndata: {k: v}\n",
    );
    repo.commit("a rollout that hangs, then more");
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut child = spawn_sync(
        &repo,
        &ns.name,
        &["--grace", "10m", "--timeout", "10m"],
        log.path(),
    );
    wait_until(
        Duration::from_secs(60),
        "the sync to wait on its gate",
        || async {
            let records = history_json(&ns.name);
            (records[0]["outcome"]["status"] == "inProgress").then_some(())
        },
    )
    .await;
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let exit = child.wait().unwrap();
    let text = std::fs::read_to_string(log.path()).unwrap();
    assert_eq!(exit.code(), Some(2), "{text}");
    assert!(
        text.contains("Sync interrupted (ferry was stopped)"),
        "{text}"
    );
    let record = &history_json(&ns.name)[0];
    assert_eq!(record["outcome"]["status"], "interrupted", "{record}");
    let cms = Api::<k8s_openapi::api::core::v1::ConfigMap>::namespaced(client.clone(), &ns.name);
    assert!(cms.get_opt("after").await.unwrap().is_none(), "wave 4 ran");
}
