//! `ferry serve` at scale (issue 10) against the local control plane: one repository of N apps
//! (default 1,000; `FERRY_SCALE_APPS`) × 4 small objects (ConfigMap, Secret, Service,
//! ServiceAccount), one `ferry.yaml` listing every app against the same `file://` URL with its
//! own path and `interval: 1m`. The apps share a few namespaces (`FERRY_SCALE_NAMESPACES`,
//! default 10; set it to N for one namespace per app). From a cold cache it measures: the
//! HTTP listener, `/readyz`, peak RSS, the API server's watches and 429s, idle CPU and RSS
//! (`FERRY_SCALE_IDLE_SECS`, default 180: the first [`FIRST_IDLE_MINUTE`] holds every app's
//! first drift check, the rest only polls that trust the live watch, and the two are printed
//! apart), one signed webhook touching 1 app, and a commit
//! touching all N. Waits are capped (`FERRY_SCALE_TIMEOUT_SECS`, default 300): a cap reached
//! prints "not ready after …" and the bench exits 1. Serve is stopped and the namespaces are
//! deleted on every exit, panics included.
//!
//! Run: `cargo bench --bench scale` (`FERRY_SCALE_APPS=100` for a quick run;
//! `FERRY_SCALE_BIN=path/to/ferry` measures that binary instead of this tree's release
//! build). Figures are printed next to the targets, never asserted.

#[path = "../common/mod.rs"]
mod common;
mod fixture;
#[path = "../common/http.rs"]
mod http_client;
mod probe;
mod report;
mod ui;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fixture::{configmap_values, resource_versions, Fixture, RUN_LABEL};
use http_client::http;
use probe::{
    alive, api_metrics, api_requests, apiserver_pid, github_push, open_sockets, proc_stats,
};
use report::Figures;

const SECRET: &str = "bench-scale-secret";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Stops serve and deletes the run's namespaces when dropped (normal end, early exit, panic).
struct Cleanup {
    kubeconfig: PathBuf,
    child: Option<Child>,
    log: PathBuf,
    run: String,
    ferry_namespace: String,
}

impl Cleanup {
    /// True (and says so with the end of ferry's log) once ferry serve has exited.
    fn exited(&mut self) -> bool {
        let Some(status) = self
            .child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
        else {
            return false;
        };
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        eprintln!("scale: ferry serve exited early ({status}); the end of its log:");
        for line in tail.iter().rev() {
            eprintln!("  {line}");
        }
        self.child = None;
        true
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let selector = format!("{RUN_LABEL}={}", self.run);
        for args in [
            vec!["delete", "namespace", "-l", &selector, "--wait=false"],
            vec![
                "delete",
                "namespace",
                &self.ferry_namespace,
                "--ignore-not-found",
                "--wait=false",
            ],
        ] {
            let _ = Command::new("kubectl")
                .arg("--kubeconfig")
                .arg(&self.kubeconfig)
                .args(args)
                .stdout(Stdio::null())
                .status();
        }
        eprintln!("scale: stopped ferry serve, deleting namespaces labelled {selector}");
    }
}

fn main() {
    let apps = env_usize("FERRY_SCALE_APPS", 1000).max(1);
    let namespaces = env_usize("FERRY_SCALE_NAMESPACES", 10);
    let idle = Duration::from_secs(env_usize("FERRY_SCALE_IDLE_SECS", 180) as u64);
    let cap = Duration::from_secs(env_usize("FERRY_SCALE_TIMEOUT_SECS", 300) as u64);
    let kubeconfig = common::kubeconfig();
    // A binary built elsewhere (e.g. main's, for before/after figures); else a release build.
    let ferry =
        std::env::var_os("FERRY_SCALE_BIN").map_or_else(common::release_ferry, PathBuf::from);
    let tmp = tempfile::tempdir().unwrap();

    let built = Instant::now();
    let fx = Fixture::create(tmp.path(), apps, namespaces);
    let mut cleanup = Cleanup {
        kubeconfig: kubeconfig.clone(),
        child: None,
        log: tmp.path().join("ferry.log"),
        run: fx.run.clone(),
        ferry_namespace: format!("bench-scale-{}-ferry", fx.run),
    };
    fx.create_namespaces(&kubeconfig, tmp.path());
    let config_path = tmp.path().join("ferry.yaml");
    std::fs::write(&config_path, fx.config()).unwrap();
    eprintln!(
        "scale: {apps} apps x 4 objects in {} namespace(s), repository built in {:.1}s",
        fx.namespaces.len(),
        built.elapsed().as_secs_f64()
    );

    let mut fig = Figures {
        apps,
        namespaces: fx.namespaces.len(),
        cap,
        idle,
        ..Figures::default()
    };
    fig.api_before = api_metrics(&kubeconfig);
    let requests_before = api_requests(&kubeconfig);
    let apiserver = apiserver_pid();
    let api_cpu0 = apiserver.and_then(proc_stats);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log_path = cleanup.log.clone();
    let child = Command::new(&ferry)
        .args(["serve", "--config"])
        .arg(&config_path)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--no-wait"])
        .env("KUBECONFIG", &kubeconfig)
        .env("FERRY_CACHE_DIR", tmp.path().join("cache"))
        .env("FERRY_NAMESPACE", &cleanup.ferry_namespace)
        .env("FERRY_WEBHOOK_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let pid = child.id();
    fig.pid = pid;
    cleanup.child = Some(child);
    let started = Instant::now();

    // Cold start: the listener, then every app's first reconcile.
    while http(port, "GET", "/healthz", &[], b"").map(|r| r.0) != Some(200) {
        if started.elapsed() > cap || cleanup.exited() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let up = started.elapsed();
    fig.listener = (up <= cap).then_some(up);
    let mut last_sample = Instant::now();
    let mut last_print = Instant::now();
    let mut api_rss_peak = 0;
    fig.ready = loop {
        let answer = http(port, "GET", "/readyz", &[], b"");
        if answer.as_ref().map(|r| r.0) == Some(200) {
            break Some(started.elapsed());
        }
        if started.elapsed() > cap || cleanup.exited() {
            break None;
        }
        if last_sample.elapsed() > Duration::from_secs(5) {
            last_sample = Instant::now();
            if let Some(m) = api_metrics(&kubeconfig) {
                fig.watches_peak = fig.watches_peak.max(m.watches);
            }
            fig.sockets.0 = fig.sockets.0.max(open_sockets(pid).unwrap_or(0));
            let rss = apiserver.and_then(proc_stats).map_or(0, |s| s.rss_kib);
            api_rss_peak = api_rss_peak.max(rss);
        }
        if last_print.elapsed() > Duration::from_secs(15) {
            last_print = Instant::now();
            let waiting = answer.map_or(apps, |(_, body)| {
                body.split_once(": ")
                    .map_or(0, |(_, l)| l.split(", ").count())
            });
            eprintln!(
                "scale: {:>4.0}s  {waiting} app(s) not reconciled yet, ferry RSS {:.0} MiB, {} watches",
                started.elapsed().as_secs_f64(),
                proc_stats(pid).map_or(0.0, |s| mib(s.rss_kib)),
                fig.watches_peak
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    fig.api_ready = api_metrics(&kubeconfig);
    print_requests(&requests_before, &api_requests(&kubeconfig), apps);
    if let Some(m) = fig.api_ready {
        fig.watches_peak = fig.watches_peak.max(m.watches);
    }
    fig.peak_rss_ready = proc_stats(pid).map(|s| s.hwm_kib);
    fig.sockets.1 = open_sockets(pid).unwrap_or(0);
    fig.apiserver_rss_peak = (api_rss_peak > 0).then_some(api_rss_peak);
    fig.apiserver_cpu_start = api_cpu0
        .zip(apiserver.and_then(proc_stats))
        .map(|(a, b)| (b.cpu_secs - a.cpu_secs) / started.elapsed().as_secs_f64() * 100.0);
    fig.outcomes = report::app_outcomes(port);

    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = rt.block_on(fixture::client(&kubeconfig));
    let selector = fx.selector();
    if fig.ready.is_some() {
        // Idle: nothing changes in git; every app polls once a minute.
        std::thread::sleep(Duration::from_secs(5));
        let rvs0 = rt.block_on(resource_versions(&client, &selector));
        let s0 = proc_stats(pid).unwrap_or_default();
        let first = idle.min(FIRST_IDLE_MINUTE);
        std::thread::sleep(first);
        let s_mid = proc_stats(pid).unwrap_or_default();
        let t_mid = Instant::now();
        fig.idle_cpu_first = Some((s_mid.cpu_secs - s0.cpu_secs) / first.as_secs_f64() * 100.0);
        std::thread::sleep(idle - first);
        let s1 = proc_stats(pid).unwrap_or_default();
        fig.idle_cpu = (idle > first)
            .then(|| (s1.cpu_secs - s_mid.cpu_secs) / t_mid.elapsed().as_secs_f64() * 100.0);
        fig.idle_rss = Some((s0.rss_kib, s1.rss_kib));
        let rvs1 = rt.block_on(resource_versions(&client, &selector));
        if !alive(pid) {
            eprintln!("scale: ferry serve exited while idle");
        }
        fig.idle_rewrites = Some(changed(&rvs0, &rvs1, None));
        fig.ui = Some(ui::probe(port, pid, &fx.app(0)));

        webhook_one(&fx, &rt, &client, port, &mut fig);
        commit_all(&fx, &rt, &client, port, &mut fig);
    }
    fig.api_end = api_metrics(&kubeconfig);
    fig.peak_rss_end = proc_stats(pid).map(|s| s.hwm_kib);
    fig.sockets.2 = open_sockets(pid).unwrap_or(0);
    fig.log = report::log_summary(&log_path);
    fig.exited = !alive(pid);
    drop(cleanup);
    let ok = fig.print();
    drop(tmp);
    if !ok {
        std::process::exit(1);
    }
}

/// The API server's requests from start to ready, most first (every client: the controllers
/// and kwok count too).
fn print_requests(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>, apps: usize) {
    let mut delta: Vec<(u64, &String)> = after
        .iter()
        .map(|(k, n)| (n - before.get(k).copied().unwrap_or(0).min(*n), k))
        .filter(|(n, _)| *n > 0)
        .collect();
    delta.sort_by(|a, b| b.cmp(a));
    let total: u64 = delta.iter().map(|(n, _)| n).sum();
    eprintln!(
        "scale: API requests start -> ready: {total} ({:.1} per app), most:",
        total as f64 / apps as f64
    );
    for (n, kind) in delta.iter().take(12) {
        eprintln!("scale:   {n:>7}  {kind}");
    }
}

/// The start of the idle window in which every app (polling each minute) runs its first drift
/// check after its first sync; later polls trust the live watch.
const FIRST_IDLE_MINUTE: Duration = Duration::from_secs(65);

/// One signed push changing app N/2's ConfigMap: the reply's time, the time until the API
/// server has the new value, and how many of the other apps' objects were written.
fn webhook_one(
    fx: &Fixture,
    rt: &tokio::runtime::Runtime,
    client: &kube::Client,
    port: u16,
    fig: &mut Figures,
) {
    let k = fx.apps / 2;
    let before = rt.block_on(resource_versions(client, &fx.selector()));
    fx.write_app(k, "v1");
    let sha = fx.commit_push("change one app");
    let sent = Instant::now();
    let reply = github_push(port, SECRET, &fx.url(), &sha, &[fx.configmap_file(k)]);
    fig.webhook_answer = Some(sent.elapsed());
    fig.webhook_triggered = reply.map(|(status, body)| (status, triggered(&body)));
    let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(client.clone(), fx.namespace(k));
    let name = fx.app(k);
    fig.webhook_applied = loop {
        let got = rt
            .block_on(cms.get(&name))
            .ok()
            .and_then(|c| c.data)
            .and_then(|d| d.get("value").cloned());
        if got.as_deref() == Some("v1") {
            break Some(sent.elapsed());
        }
        if sent.elapsed() > Duration::from_secs(30) || !alive(fig.pid) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    // Give a stray sync of another app time to show.
    std::thread::sleep(Duration::from_secs(3));
    let after = rt.block_on(resource_versions(client, &fx.selector()));
    let target = format!("ConfigMap {}/{name}", fx.namespace(k));
    fig.webhook_rewrites = Some(changed(&before, &after, Some(&target)));
}

/// One commit changing every app's ConfigMap, announced by one webhook: time until the API
/// server has the new value in all N.
fn commit_all(
    fx: &Fixture,
    rt: &tokio::runtime::Runtime,
    client: &kube::Client,
    port: u16,
    fig: &mut Figures,
) {
    for i in 0..fx.apps {
        fx.write_app(i, "v2");
    }
    let sha = fx.commit_push("change every app");
    let files: Vec<String> = (0..fx.apps).map(|i| fx.configmap_file(i)).collect();
    let sent = Instant::now();
    let _ = github_push(port, SECRET, &fx.url(), &sha, &files);
    let mut last_print = Instant::now();
    fig.all_applied = loop {
        let values = rt.block_on(configmap_values(client, &fx.selector()));
        let done = values.values().filter(|v| *v == "v2").count();
        fig.all_done = done;
        if done == fx.apps {
            break Some(sent.elapsed());
        }
        if sent.elapsed() > fig.cap || !alive(fig.pid) {
            break None;
        }
        if last_print.elapsed() > Duration::from_secs(15) {
            last_print = Instant::now();
            eprintln!(
                "scale: {:>4.0}s  {done}/{} apps applied the all-apps commit",
                sent.elapsed().as_secs_f64(),
                fx.apps
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    };
}

/// Objects whose resourceVersion moved (or that vanished), `except` one.
fn changed(
    before: &std::collections::BTreeMap<String, String>,
    after: &std::collections::BTreeMap<String, String>,
    except: Option<&str>,
) -> usize {
    before
        .iter()
        .filter(|(k, _)| Some(k.as_str()) != except)
        .filter(|(k, rv)| after.get(*k) != Some(*rv))
        .count()
}

/// How many apps a webhook reply says it triggered.
fn triggered(body: &str) -> usize {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("triggered")?.as_array().map(Vec::len))
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
