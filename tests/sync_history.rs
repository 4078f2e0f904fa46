//! Every sync that changes something is recorded in the cluster against its commit, with the
//! ControllerRevision it produced; completed Jobs are remembered by spec hash.

mod support;

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
