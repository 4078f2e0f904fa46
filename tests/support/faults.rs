//! The workload the fault tests sync (200 objects: ConfigMaps, DaemonSets, one Job), running
//! the `ferry` binary against a chosen kubeconfig (direct or through toxiproxy) with a bound
//! on how long it may take, and the checks every faulted run must pass afterwards.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};

use super::toxi::{random_toxic, Proxy, Rng};
use super::{daemonset_yaml, kubeconfig, GitRepo};

/// ConfigMaps in the bundle.
pub const CONFIG_MAPS: usize = 194;
/// DaemonSets in the bundle.
pub const DAEMON_SETS: usize = 5;
/// Objects in the bundle (the ConfigMaps, the DaemonSets and one Job).
pub const OBJECTS: usize = CONFIG_MAPS + DAEMON_SETS + 1;

/// Writes the 200-object bundle: every ConfigMap carries `generation`, the DaemonSets run
/// image tag `ds_tag`; the Job never changes (so it must run exactly once).
pub fn write_bundle(repo: &GitRepo, generation: u64, ds_tag: u64) {
    let mut cms = String::new();
    for i in 0..CONFIG_MAPS {
        cms.push_str(&format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i:03}\ndata:\n  generation: \"{generation}\"\n  payload: \"{}\"\n---\n",
            "x".repeat(64 + i % 7 * 100)
        ));
    }
    repo.write("apps/config/cms.yaml", &cms);
    for i in 0..DAEMON_SETS {
        repo.write(
            &format!("apps/agents/ds-{i}.yaml"),
            &daemonset_yaml(&format!("agent-{i}"), &format!("nginx:1.{ds_tag}.0")),
        );
    }
    repo.write(
        "apps/jobs/migrate.yaml",
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\nspec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: m, image: busybox, command: [sh, -c, \"echo once\"]}]\n",
    );
}

/// A finished `ferry` process.
#[derive(Debug)]
pub struct Finished {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Wall time.
    pub elapsed: Duration,
}

/// `ferry <args>` with `kubeconfig` and a private cache dir, output captured to files.
pub fn ferry_command(kubeconfig: &Path, cache: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferry"));
    cmd.args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("FERRY_CACHE_DIR", cache)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    cmd
}

/// A running `ferry` whose output goes to temp files (so a killed process loses nothing).
pub struct Running {
    /// The process.
    pub child: Child,
    started: Instant,
    out: PathBuf,
    err: PathBuf,
    _dir: tempfile::TempDir,
}

impl Running {
    /// Spawns the command.
    pub fn spawn(mut cmd: Command) -> Running {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("stdout");
        let err = dir.path().join("stderr");
        let child = cmd
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .expect("spawning ferry");
        Running {
            child,
            started: Instant::now(),
            out,
            err,
            _dir: dir,
        }
    }

    /// True once the process exited.
    pub fn done(&mut self) -> bool {
        self.child.try_wait().unwrap().is_some()
    }

    /// Waits for the exit; a process still running after `limit` is a hang: killed, and the
    /// test fails showing its output.
    pub fn finish(mut self, limit: Duration) -> Finished {
        while !self.done() {
            if self.started.elapsed() > limit {
                let _ = self.child.kill();
                let f = self.collect();
                panic!(
                    "ferry did not finish within {limit:?} (hang):\n{}\n{}",
                    f.stdout, f.stderr
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.collect()
    }

    /// SIGKILL now; returns what it had printed.
    pub fn kill(mut self) -> Finished {
        let _ = self.child.kill();
        self.collect()
    }

    fn collect(&mut self) -> Finished {
        let status = self.child.wait().unwrap();
        Finished {
            code: status.code().unwrap_or(-1),
            stdout: std::fs::read_to_string(&self.out).unwrap_or_default(),
            stderr: std::fs::read_to_string(&self.err).unwrap_or_default(),
            elapsed: self.started.elapsed(),
        }
    }
}

/// `ferry <verb> --repo … --namespace ns --app ns` (gates with a short grace for syncs).
pub fn app_args<'a>(verb: &'a str, repo: &'a str, ns: &'a str) -> Vec<&'a str> {
    let mut args = vec![verb, "--repo", repo, "--namespace", ns, "--app", ns];
    if verb == "sync" {
        args.extend(["--grace", "2s"]);
    }
    args
}

/// Runs `ferry` directly against the test cluster (no proxy) and waits (up to 5 minutes).
pub fn ferry_direct(cache: &Path, args: &[&str]) -> Finished {
    Running::spawn(ferry_command(&kubeconfig(), cache, args)).finish(Duration::from_secs(300))
}

/// After the faults: a sync without toxics succeeds and `ferry plan` is then empty.
pub fn assert_converges(cache: &Path, repo: &str, ns: &str, context: &str) -> Finished {
    let sync = ferry_direct(cache, &app_args("sync", repo, ns));
    assert_eq!(
        sync.code, 0,
        "{context}: the sync after the faults failed:\n{}\n{}",
        sync.stdout, sync.stderr
    );
    let plan = ferry_direct(cache, &app_args("plan", repo, ns));
    assert_eq!(
        plan.code, 0,
        "{context}: plan not empty after converging:\n{}\n{}",
        plan.stdout, plan.stderr
    );
    sync
}

/// The app's history records (newest first) as JSON.
pub fn history(cache: &Path, app: &str) -> Vec<serde_json::Value> {
    let out = ferry_direct(cache, &["history", "--app", app, "-o", "json"]);
    assert_eq!(out.code, 0, "ferry history: {}", out.stderr);
    serde_json::from_str::<serde_json::Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// Records still `inProgress`, as "#seq".
pub fn unfinished(records: &[serde_json::Value]) -> Vec<String> {
    records
        .iter()
        .filter(|r| r["outcome"]["status"] == "inProgress")
        .map(|r| format!("#{}", r["seq"]))
        .collect()
}

/// Asserts seqs are unique and every record names a commit and an outcome.
pub fn assert_history_well_formed(records: &[serde_json::Value], context: &str) {
    let mut seqs: Vec<u64> = records.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    let n = seqs.len();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), n, "{context}: duplicate seqs in {records:?}");
    for r in records {
        assert!(
            r["commit"]["sha"].as_str().is_some_and(|s| s.len() == 40),
            "{context}: {r}"
        );
        assert!(r["outcome"]["status"].is_string(), "{context}: {r}");
    }
}

/// The Job `migrate`: its uid and how many pods it ever ran (pods of a Job are kept).
pub async fn job_runs(client: &kube::Client, ns: &str) -> Option<(String, usize)> {
    let job = Api::<Job>::namespaced(client.clone(), ns)
        .get_opt("migrate")
        .await
        .unwrap()?;
    let uid = job.metadata.uid.clone().unwrap_or_default();
    let pods = Api::<Pod>::namespaced(client.clone(), ns)
        .list(&ListParams::default().labels("job-name=migrate"))
        .await
        .unwrap();
    Some((uid, pods.items.len()))
}

/// A background thread switching random toxics on and off on `proxy` until stopped.
pub struct Chaos {
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<String>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Chaos {
    /// Starts switching after `first_within` at the latest (so faults land anywhere in a
    /// sync: planning, applying, gates, recording): one random toxic on for 100–1500 ms, off
    /// for 0–700 ms, repeat.
    pub fn start(proxy: Proxy, seed: u64, first_within: Duration) -> Chaos {
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Vec::new()));
        let (stop2, log2) = (stop.clone(), log.clone());
        let thread = std::thread::spawn(move || {
            let mut rng = Rng::new(seed);
            let nap = |ms: u64, stop: &AtomicBool| {
                let until = Instant::now() + Duration::from_millis(ms);
                while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(10));
                }
            };
            nap(rng.range(0, first_within.as_millis() as u64), &stop2);
            while !stop2.load(Ordering::Relaxed) {
                let toxic = random_toxic(&mut rng);
                proxy.add("chaos", &toxic);
                log2.lock().unwrap().push(format!(
                    "{}/{}@{} {}",
                    toxic.kind, toxic.stream, toxic.toxicity, toxic.attributes
                ));
                nap(rng.range(100, 1500), &stop2);
                proxy.remove("chaos");
                nap(rng.range(0, 700), &stop2);
            }
        });
        Chaos {
            stop,
            log,
            thread: Some(thread),
        }
    }

    /// Stops switching (every toxic removed); returns the toxics injected.
    pub fn stop(mut self) -> Vec<String> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().expect("chaos thread");
        }
        self.log.lock().unwrap().clone()
    }
}
