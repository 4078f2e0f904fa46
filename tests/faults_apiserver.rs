//! kube-apiserver stopped mid-sync and started again, on a PRIVATE control plane of this test
//! (`FERRY_CLUSTER_DIR=<tmp> dev/cluster/cluster.sh up`, then `stop-apiserver` /
//! `start-apiserver`): the real process goes away, connections are refused, etcd and the
//! controllers keep running. `ferry sync` fails with a clear error and the next run converges;
//! `ferry serve` reports the error, retries with backoff and converges once it is back.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::faults::{
    app_args, assert_history_well_formed, ferry_command, unfinished, write_bundle, Finished,
    Running,
};
use support::serve::{app_config, app_status, spawn_server, wait_ready};
use support::toxi::{fault_seed, Rng};
use support::{repo_root, wait_until, GitRepo};

/// A control plane of this test alone, torn down when dropped.
struct PrivateCluster {
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

impl PrivateCluster {
    fn cluster_sh(dir: &Path, verb: &[&str]) -> String {
        let out = Command::new("bash")
            .arg(repo_root().join("dev/cluster/cluster.sh"))
            .args(verb)
            .env("FERRY_CLUSTER_DIR", dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cluster.sh {verb:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn up() -> PrivateCluster {
        let dir = tempfile::Builder::new()
            .prefix("ferry-private-cluster")
            .tempdir()
            .unwrap();
        let out = PrivateCluster::cluster_sh(dir.path(), &["up", "--nodes", "2"]);
        let kubeconfig = PathBuf::from(out.lines().last().unwrap());
        PrivateCluster { dir, kubeconfig }
    }

    fn stop_apiserver(&self) {
        PrivateCluster::cluster_sh(self.dir.path(), &["stop-apiserver"]);
    }

    fn start_apiserver(&self) {
        PrivateCluster::cluster_sh(self.dir.path(), &["start-apiserver"]);
    }

    fn ferry(&self, cache: &Path, args: &[&str]) -> Finished {
        Running::spawn(ferry_command(&self.kubeconfig, cache, args))
            .finish(Duration::from_secs(300))
    }

    fn history(&self, cache: &Path, app: &str) -> Vec<serde_json::Value> {
        let out = self.ferry(cache, &["history", "--app", app, "-o", "json"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        serde_json::from_str::<serde_json::Value>(&out.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }

    /// Waits until ferry has written some of the ConfigMaps of `generation`: the sync is
    /// past planning, in the middle of applying.
    fn wait_for_apply(&self, ns: &str, generation: u64) {
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        let want = format!("\"generation\": \"{generation}\"");
        loop {
            let out = Command::new("kubectl")
                .arg("--kubeconfig")
                .arg(&self.kubeconfig)
                .args(["get", "configmaps", "-n", ns, "-o", "json"])
                .output()
                .unwrap();
            if String::from_utf8_lossy(&out.stdout).contains(&want) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no apply of generation {generation} seen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn assert_converges(&self, cache: &Path, repo: &str, ns: &str) {
        let sync = self.ferry(cache, &app_args("sync", repo, ns));
        assert_eq!(sync.code, 0, "{}\n{}", sync.stdout, sync.stderr);
        let plan = self.ferry(cache, &app_args("plan", repo, ns));
        assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(repo_root().join("dev/cluster/cluster.sh"))
            .arg("down")
            .env("FERRY_CLUSTER_DIR", self.dir.path())
            .output();
    }
}

#[tokio::test]
async fn apiserver_stopped_mid_sync_then_started_again() {
    let seed = fault_seed();
    let mut rng = Rng::new(seed);
    println!("FERRY_FAULT_SEED={seed}");
    let cluster = PrivateCluster::up();
    let ns = "fx-down";
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&cluster.kubeconfig)
        .args(["create", "namespace", ns])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let repo = GitRepo::new();
    let repo_path = repo.path_str();
    let cache = tempfile::tempdir().unwrap();

    // `ferry sync`: the API server goes away in the middle of applying and comes back while
    // ferry is still running; ferry reports the failed objects and records the sync.
    write_bundle(&repo, 1, 20);
    repo.commit("first");
    // Two objects at a time: applying the bundle takes long enough for the outage to land
    // in it rather than after it.
    let mut args = app_args("sync", &repo_path, ns);
    args.extend(["--concurrency", "2"]);
    let sync = Running::spawn(ferry_command(&cluster.kubeconfig, cache.path(), &args));
    cluster.wait_for_apply(ns, 1);
    cluster.stop_apiserver();
    let down = rng.range(1000, 3000);
    std::thread::sleep(Duration::from_millis(down));
    cluster.start_apiserver();
    let failed = sync.finish(Duration::from_secs(300));
    println!(
        "sync: apiserver stopped mid-apply for {down}ms (+ restart); ferry exited {} after {:.1}s",
        failed.code,
        failed.elapsed.as_secs_f64()
    );
    let said = format!("{}{}", failed.stdout, failed.stderr);
    assert_eq!(failed.code, 2, "{said}");
    assert!(
        said.contains("cannot reach the API server"),
        "a clear error: {said}"
    );
    assert!(!said.contains("panicked"), "{said}");
    let records = cluster.history(cache.path(), ns);
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0]["outcome"]["status"], "failed", "{records:#?}");
    cluster.assert_converges(cache.path(), &repo_path, ns);

    // `ferry serve`: reports, retries with backoff, converges once the server is back.
    let config = app_config(ns, &repo_path, "1s", "");
    let env = [("KUBECONFIG", cluster.kubeconfig.to_str().unwrap())];
    let server = wait_ready(spawn_server(
        &config,
        &["--max-backoff", "2s", "--concurrency", "2"],
        &env,
    ));
    write_bundle(&repo, 2, 21);
    let head = repo.commit("second");
    cluster.wait_for_apply(ns, 2);
    cluster.stop_apiserver();
    std::thread::sleep(Duration::from_millis(rng.range(1000, 3000)));
    cluster.start_apiserver();
    let status = wait_until(Duration::from_secs(120), "serve to converge", || async {
        let status = app_status(server.port, ns).await;
        (status["syncedCommit"] == head.as_str() && status["lastError"].is_null()).then_some(status)
    })
    .await;
    println!("serve after the outage: {}", status["syncsByOutcome"]);
    drop(server);
    cluster.assert_converges(cache.path(), &repo_path, ns);
    let records = cluster.history(cache.path(), ns);
    assert_history_well_formed(&records, "after the outages");
    assert!(
        unfinished(&records).is_empty(),
        "records left in progress by processes that were not killed: {records:#?}"
    );
    let statuses: Vec<&str> = records
        .iter()
        .map(|r| r["outcome"]["status"].as_str().unwrap())
        .collect();
    // Newest first. The outage usually lands in serve's apply: that sync is reported failed
    // and retried. It can also land while the gates wait, whose reads ride out a restart:
    // then serve's one sync succeeded. Either way nothing is left half-recorded.
    if status["syncsByOutcome"]["failed"].as_u64() >= Some(1) {
        assert_eq!(
            statuses,
            ["succeeded", "failed", "succeeded", "failed"],
            "{records:#?}"
        );
        let broken = &records[1]["outcome"]["reason"];
        assert!(
            broken
                .as_str()
                .unwrap()
                .contains("cannot reach the API server"),
            "{broken}"
        );
    } else {
        println!("serve: the outage landed outside apply; its sync rode it out");
        assert_eq!(
            statuses,
            ["succeeded", "succeeded", "failed"],
            "{records:#?}"
        );
    }
}
