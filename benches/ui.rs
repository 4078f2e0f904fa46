//! The web UI's targets with 1,000 apps: the apps page renders server-side in < 50 ms and is
//! < 300 KB; a status change reaches an open page's event stream in < 1 s; the UI adds
//! < 5 MiB to serve's RSS.
//!
//! Everything runs in this process against the real HTTP server (`ferry::server::spawn` on
//! 127.0.0.1): 1,000 apps with realistic statuses (synced commits with subjects and authors,
//! some drifted, some failing with long gate messages), the page fetched over HTTP, and the
//! live path measured from a change sent to the status feed to its `row` event read off a
//! raw SSE connection. No cluster is needed: the apps page reads only serve's state.
//!
//! `cargo bench --bench ui`

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferry::config::ConfigFile;
use ferry::reconcile::feed::{ChangeKind, StatusFeed};
use ferry::reconcile::worker::{new_handle, AppStatus};
use ferry::server::ui::view::AppView;
use ferry::server::ui::{render_apps_page, AppsFilter};
use ferry::server::{ApiAuth, HttpLimits, ServerState};

const APPS: usize = 1000;
const RENDERS: usize = 200;
const SSE_SAMPLES: usize = 40;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// A realistic status for app `i`: synced, a few drifted, every 50th failing a gate.
fn status_of(i: usize, name: &str) -> AppStatus {
    let sha = format!("{:040x}", i * 7919 + 1);
    let mut status = AppStatus {
        name: name.to_string(),
        repo: "https://github.com/acme/fleet-manifests.git".into(),
        attempted: true,
        synced_commit: Some(sha.clone()),
        synced_subject: Some(format!(
            "fluentd: bump to 1.16.{} and raise the buffer limit of app {i} to 256Mi",
            i % 10
        )),
        synced_author: Some("Alice Example".into()),
        synced_commit_time: Some(
            (chrono::Utc::now() - chrono::Duration::minutes(i as i64)).to_rfc3339(),
        ),
        head_commit: Some(sha),
        tracked_branch: Some("main".into()),
        last_outcome: Some("succeeded".into()),
        last_attempt_at: Some(chrono::Utc::now().to_rfc3339()),
        ..Default::default()
    };
    if i % 50 == 7 {
        status.last_outcome = Some("gate-failed".into());
        status.last_reason = Some(format!(
            "gate-failed: DaemonSet logging/{name}: failed: pod {name}-x7k2p on kwok-worker-1: ImagePullBackOff: Back-off pulling image \"nginx:doesnotexist\""
        ));
    }
    if i % 20 == 3 {
        status.drift.insert(
            format!("DaemonSet logging/{name}"),
            vec!["spec.template.spec.containers[name=fluentd].image".into()],
        );
    }
    status
}

fn get(port: u16, path: &str) -> (Duration, usize) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut body = Vec::new();
    stream.read_to_end(&mut body).unwrap();
    let start = body.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    (started.elapsed(), body.len() - start)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// A history store whose API server is never asked (the apps page does not read history).
fn unused_history() -> ferry::history::History {
    let config = kube::Config::new("http://127.0.0.1:9".parse().unwrap());
    let client = kube::Client::try_from(config).unwrap();
    let cluster = ferry::cluster::Cluster::from_client(client, "http://127.0.0.1:9".into());
    ferry::history::History::new(cluster, "ferry-system")
}

fn main() {
    // kube's client needs a runtime to exist on; the HTTP server runs on its own.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _inside = runtime.enter();
    let dir = tempfile::tempdir().unwrap();
    let mut yaml = String::from("apps:\n");
    for i in 0..APPS {
        yaml.push_str(&format!(
            "  - name: app-{i:04}\n    repo: https://github.com/acme/fleet-manifests.git\n    branch: main\n    path: apps/app-{i:04}\n    namespace: app-{i:04}\n"
        ));
    }
    let path = dir.path().join("ferry.yaml");
    std::fs::write(&path, yaml).unwrap();
    let file: ConfigFile = ferry::config::load(&path).unwrap();
    let specs: Vec<_> = file
        .apps
        .into_iter()
        .map(|a| a.resolve().unwrap())
        .collect();

    // What `serve` holds for 1,000 apps anyway, before any page is shown.
    let feed = StatusFeed::default();
    let apps: Vec<_> = specs
        .iter()
        .map(|spec| (spec.clone(), new_handle(spec, &feed)))
        .collect();
    let statuses: Vec<AppStatus> = specs
        .iter()
        .enumerate()
        .map(|(i, s)| status_of(i, &s.name))
        .collect();
    // Build the HTTP server before the baseline: serve has it without a UI too.

    // Over real HTTP, with the server's own statuses (fresh apps: shorter rows).
    let mut state = ServerState::new(
        apps.clone(),
        vec![None; APPS],
        unused_history(),
        ApiAuth::new(Some(b"bench-token"), false),
        HttpLimits::default(),
    );
    state.ui.feed = Some(feed.clone());
    let state = Arc::new(state);
    let listener = ferry::server::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let server = ferry::server::spawn(listener, state, async move {
        let _ = stop_rx.wait_for(|s| *s).await;
    })
    .unwrap();
    let rss_before = rss_kib();
    let mut http_times: Vec<Duration> = (0..50).map(|_| get(port, "/").0).collect();
    http_times.sort();
    let (_, http_size) = get(port, "/");

    // The live path: a change on the feed → its `row` event on an open stream.
    let mut streams: Vec<TcpStream> = (0..10)
        .map(|_| {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            write!(s, "GET /ui/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
            s
        })
        .collect();
    let mut reader = BufReader::new(streams.remove(0));
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
    }
    let app: Arc<str> = Arc::from(specs[500].name.as_str());
    let mut latencies = Vec::with_capacity(SSE_SAMPLES);
    for _ in 0..SSE_SAMPLES {
        std::thread::sleep(Duration::from_millis(150));
        let sent = Instant::now();
        feed.send(&app, ChangeKind::Status);
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            if line.contains("event: row") {
                latencies.push(sent.elapsed());
                break;
            }
        }
    }
    latencies.sort();
    let rss_after = rss_kib();
    // Server-side render alone.
    let now = chrono::Utc::now();
    let mut renders = Vec::with_capacity(RENDERS);
    let mut size = 0;
    for _ in 0..RENDERS {
        let started = Instant::now();
        let views: Vec<AppView> = specs
            .iter()
            .zip(&statuses)
            .map(|(spec, status)| AppView::new(spec, status.clone(), now))
            .collect();
        let html = render_apps_page(&views, &AppsFilter::default(), true, now).into_string();
        renders.push(started.elapsed());
        size = html.len();
    }
    renders.sort();

    stop_tx.send_replace(true);
    drop(reader);
    drop(streams);
    let _ = server.join();

    println!("ui: apps page for {APPS} apps");
    println!(
        "  render (server-side, views + HTML): median {:.2} ms, p95 {:.2} ms, max {:.2} ms over {RENDERS} (target < 50 ms)",
        percentile(&renders, 0.5).as_secs_f64() * 1e3,
        percentile(&renders, 0.95).as_secs_f64() * 1e3,
        renders.last().unwrap().as_secs_f64() * 1e3,
    );
    println!(
        "  size: {:.1} KB with realistic statuses (target < 300 KB); {:.1} KB as served for fresh apps",
        size as f64 / 1000.0,
        http_size as f64 / 1000.0
    );
    println!(
        "  GET / over HTTP: median {:.2} ms, p95 {:.2} ms",
        percentile(&http_times, 0.5).as_secs_f64() * 1e3,
        percentile(&http_times, 0.95).as_secs_f64() * 1e3,
    );
    println!(
        "  SSE: change → row event on the stream: median {:.1} ms, p95 {:.1} ms, max {:.1} ms (includes the {} ms coalescing window; target < 1 s)",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.95).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
        100
    );
    println!(
        "  RSS: {:.1} MiB before any page, {:.1} MiB after 51 apps pages over HTTP, 10 open streams and {SSE_SAMPLES} live rows: +{:.2} MiB (target < 5 MiB)",
        rss_before as f64 / 1024.0,
        rss_after as f64 / 1024.0,
        rss_after.saturating_sub(rss_before) as f64 / 1024.0
    );
}
