//! `ferry serve` benchmark against the local control plane:
//! - webhook-to-applied latency (p50/p99 over 100 pushes, gates excluded): commit + push to a
//!   bare repo, send a signed GitHub webhook, time until the API server has the new value;
//! - idle CPU and RSS of `ferry serve` with 3 apps of 300 objects each.
//!
//! Run: `cargo bench --bench serve`. Numbers are printed, never asserted.

mod common;
#[path = "common/http.rs"]
mod http_client;

use common::{commit, git, kubectl};

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::Sha256;

const SECRET: &str = "bench-secret";
const APPS: usize = 3;
const OBJECTS: usize = 300;
const PUSHES: usize = 100;

use http_client::http;

fn main() {
    let kubeconfig = common::kubeconfig();
    let ferry = common::release_ferry();

    let tmp = tempfile::tempdir().unwrap();
    let run = std::process::id();
    let mut config = String::from("apps:\n");
    let mut works = Vec::new();
    for a in 0..APPS {
        let name = format!("bench-serve-{run}-{a}");
        let bare = tmp.path().join(format!("remote-{a}.git"));
        let work = tmp.path().join(format!("work-{a}"));
        git(
            tmp.path(),
            &["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()],
        );
        std::fs::create_dir_all(work.join("apps")).unwrap();
        git(&work, &["init", "-q", "-b", "main"]);
        write_objects(&work, 0);
        commit_push(&work, &bare, "initial");
        kubectl(&kubeconfig, &["create", "namespace", &name]);
        config.push_str(&format!(
            "  - name: {name}\n    repo: file://{}\n    branch: main\n    path: apps\n    namespace: {name}\n    interval: 1h\n",
            bare.display()
        ));
        works.push((name, work, bare));
    }
    let config_path = tmp.path().join("ferry.yaml");
    std::fs::write(&config_path, config).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(&ferry)
        .args([
            "serve",
            "--config",
            config_path.to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--no-wait",
        ])
        .env("KUBECONFIG", &kubeconfig)
        .env("FERRY_CACHE_DIR", tmp.path().join("cache"))
        .env("FERRY_WEBHOOK_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let started = Instant::now();
    while http(port, "GET", "/readyz", &[], b"").map(|r| r.0) != Some(200) {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "serve not ready"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    println!(
        "initial sync of {APPS} apps x {OBJECTS} objects: {:.2}s",
        started.elapsed().as_secs_f64()
    );

    // Idle: no pushes, polls hourly; measure 20s.
    std::thread::sleep(Duration::from_secs(3));
    let (cpu0, _) = proc_stats(pid);
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(20));
    let (cpu1, rss) = proc_stats(pid);
    let cpu_pct = (cpu1 - cpu0) / t0.elapsed().as_secs_f64() * 100.0;
    println!(
        "idle: CPU {cpu_pct:.2}% of one core, RSS {:.1} MiB",
        rss as f64 / 1024.0
    );

    // Latency: push, webhook, wait until the API server has the value.
    let (name, work, bare) = &works[0];
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = rt.block_on(async {
        let kc = kube::config::Kubeconfig::read_from(&kubeconfig).unwrap();
        let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .unwrap();
        kube::Client::try_from(config).unwrap()
    });
    let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> = kube::Api::namespaced(client, name);
    let url = format!("file://{}", bare.display());
    let mut latencies = Vec::new();
    for i in 1..=PUSHES {
        write_objects(work, i);
        let sha = commit_push(work, bare, &format!("push {i}"));
        let body = serde_json::json!({
            "ref": "refs/heads/main", "after": sha,
            "repository": {"clone_url": url},
            "commits": [{"added": [], "removed": [], "modified": ["apps/objects-0.yaml"]}]
        })
        .to_string();
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(body.as_bytes());
        let sig = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        let sent = Instant::now();
        let (status, _) = http(
            port,
            "POST",
            "/hooks/github",
            &[
                ("X-GitHub-Event", "push".into()),
                ("X-Hub-Signature-256", sig),
            ],
            body.as_bytes(),
        )
        .unwrap();
        assert_eq!(status, 202);
        let want = format!("v{i}");
        loop {
            let got = rt
                .block_on(cms.get("obj-0"))
                .ok()
                .and_then(|c| c.data)
                .and_then(|d| d.get("value").cloned());
            if got.as_deref() == Some(want.as_str()) {
                break;
            }
            assert!(
                sent.elapsed() < Duration::from_secs(30),
                "push {i} not applied"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        latencies.push(sent.elapsed());
    }
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "webhook to applied over {PUSHES} pushes: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms (polled every 5 ms through the API)",
        pct(0.5).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
        latencies.last().unwrap().as_secs_f64() * 1000.0
    );
    let _ = child.kill();
    let _ = child.wait();
    for (name, _, _) in &works {
        kubectl(&kubeconfig, &["delete", "namespace", name, "--wait=false"]);
    }
}

/// 300 ConfigMaps in 30 files; `obj-0` carries the push counter.
fn write_objects(work: &Path, version: usize) {
    for f in 0..OBJECTS / 10 {
        let mut docs = Vec::new();
        for i in f * 10..f * 10 + 10 {
            let value = if i == 0 {
                format!("v{version}")
            } else {
                "steady".into()
            };
            docs.push(format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: obj-{i}\ndata:\n  value: \"{value}\"\n"));
        }
        std::fs::write(
            work.join(format!("apps/objects-{f}.yaml")),
            docs.join("---\n"),
        )
        .unwrap();
    }
}

fn commit_push(work: &Path, bare: &Path, msg: &str) -> String {
    commit(work, msg);
    git(work, &["push", "-q", bare.to_str().unwrap(), "HEAD:main"]);
    let out = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(work)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// (CPU seconds used so far, RSS in KiB) from /proc.
fn proc_stats(pid: u32) -> (f64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = stat.rsplit_once(')').unwrap().1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    let hz = 100.0; // USER_HZ on Linux
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (ticks / hz, rss)
}
