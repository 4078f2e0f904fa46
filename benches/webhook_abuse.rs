//! `ferry serve` under webhook abuse, a bounded load tool talking only to 127.0.0.1:
//! - 500 concurrent 2 MiB uploads to `/hooks/github` (half with Content-Length, half chunked);
//! - 500 slow connections (half trickling headers, half trickling a body, one byte a second)
//!   held for 15 s, while a signed push is sent and must be applied.
//!
//! Prints ferry's RSS before, at its peak during and after each phase, the status codes the
//! clients got, and how long the signed push took to apply. Numbers are printed, never
//! asserted. Run: `cargo bench --bench webhook_abuse` (`FERRY_BIN=target/debug/ferry` skips
//! the release build).

mod common;

use common::{commit, git, kubectl};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SECRET: &str = "bench-secret";
const UPLOADS: usize = 500;
const UPLOAD_BYTES: usize = 2 << 20;
const SLOW: usize = 500;
const SLOW_HOLD: Duration = Duration::from_secs(15);

fn main() {
    let kubeconfig = common::kubeconfig();
    let ferry = match std::env::var_os("FERRY_BIN") {
        Some(bin) => PathBuf::from(bin),
        None => common::release_ferry(),
    };
    let tmp = tempfile::tempdir().unwrap();
    let name = format!("bench-abuse-{}", std::process::id());
    let bare = tmp.path().join("remote.git");
    let work = tmp.path().join("work");
    git(
        tmp.path(),
        &["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()],
    );
    std::fs::create_dir_all(work.join("apps")).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    write_cm(&work, "v0");
    commit_push(&work, &bare, "initial");
    kubectl(&kubeconfig, &["create", "namespace", &name]);
    let config = tmp.path().join("ferry.yaml");
    std::fs::write(
        &config,
        format!(
            "apps:\n  - name: {name}\n    repo: file://{}\n    branch: main\n    path: apps\n    namespace: {name}\n    interval: 1h\n",
            bare.display()
        ),
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(&ferry)
        .args(["serve", "--config", config.to_str().unwrap()])
        .args(["--listen", &format!("127.0.0.1:{port}"), "--no-wait"])
        .env("KUBECONFIG", &kubeconfig)
        .env("FERRY_CACHE_DIR", tmp.path().join("cache"))
        .env("FERRY_WEBHOOK_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let started = Instant::now();
        while request(port, "GET", "/readyz", "", b"").await.0 != 200 {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "serve not ready"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let idle = rss_kib(pid);
        println!("ferry serve ready; RSS idle {}", mib(idle));

        // Phase 1: 500 concurrent 2 MiB uploads.
        let sampler = Sampler::start(pid);
        let t0 = Instant::now();
        let tasks: Vec<_> = (0..UPLOADS)
            .map(|i| tokio::spawn(upload(port, i % 2 == 0)))
            .collect();
        let mut statuses = BTreeMap::new();
        for t in tasks {
            *statuses.entry(t.await.unwrap()).or_insert(0u32) += 1;
        }
        let peak = sampler.stop();
        tokio::time::sleep(Duration::from_secs(2)).await;
        println!(
            "{UPLOADS} concurrent 2 MiB uploads in {:.1}s: statuses {statuses:?} (0 = closed); \
             RSS peak {}, after {}",
            t0.elapsed().as_secs_f64(),
            mib(peak),
            mib(rss_kib(pid))
        );

        // Phase 2: 500 slow connections, and a signed push meanwhile.
        let sampler = Sampler::start(pid);
        let closed = Arc::new(AtomicU64::new(0));
        let slow: Vec<_> = (0..SLOW)
            .map(|i| tokio::spawn(slow_client(port, i % 2 == 0, closed.clone())))
            .collect();
        tokio::time::sleep(Duration::from_secs(1)).await;
        write_cm(&work, "v1");
        let sha = commit_push(&work, &bare, "push under load");
        let body = serde_json::json!({
            "ref": "refs/heads/main", "after": sha,
            "repository": {"clone_url": format!("file://{}", bare.display())},
            "commits": [{"added": [], "removed": [], "modified": ["apps/cm.yaml"]}]
        })
        .to_string();
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(body.as_bytes());
        let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        let headers = format!("X-GitHub-Event: push\r\nX-Hub-Signature-256: {signature}\r\n");
        let sent = Instant::now();
        let mut tries = 0;
        loop {
            tries += 1;
            let (status, _) =
                request(port, "POST", "/hooks/github", &headers, body.as_bytes()).await;
            if status == 202 {
                break;
            }
            assert!(
                tries < 100,
                "the signed push was never accepted (last {status})"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let accepted = sent.elapsed();
        loop {
            let (_, status) = request(port, "GET", &format!("/api/apps/{name}"), "", b"").await;
            if status.contains(&format!("\"syncedCommit\":\"{sha}\"")) {
                break;
            }
            assert!(sent.elapsed() < Duration::from_secs(60), "push not applied");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let applied = sent.elapsed();
        for t in slow {
            let _ = t.await;
        }
        let peak = sampler.stop();
        tokio::time::sleep(Duration::from_secs(2)).await;
        println!(
            "{SLOW} slow connections held {}s: {} closed by ferry; signed push accepted after \
             {:.0} ms ({tries} tries), applied after {:.0} ms; RSS peak {}, after {}",
            SLOW_HOLD.as_secs(),
            closed.load(Ordering::Relaxed),
            accepted.as_secs_f64() * 1000.0,
            applied.as_secs_f64() * 1000.0,
            mib(peak),
            mib(rss_kib(pid))
        );
    });
    let _ = child.kill();
    let _ = child.wait();
    kubectl(&kubeconfig, &["delete", "namespace", &name, "--wait=false"]);
}

/// One 2 MiB upload; returns the status (0: closed without an answer).
async fn upload(port: u16, chunked: bool) -> u16 {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)).await else {
        return 0;
    };
    let framing = if chunked {
        "Transfer-Encoding: chunked".to_string()
    } else {
        format!("Content-Length: {UPLOAD_BYTES}")
    };
    let head = format!(
        "POST /hooks/github HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\n\
         X-Hub-Signature-256: sha256=00\r\n{framing}\r\n\r\n"
    );
    if s.write_all(head.as_bytes()).await.is_err() {
        return read_status(&mut s).await;
    }
    let block = vec![b'x'; 64 * 1024];
    for _ in 0..UPLOAD_BYTES / block.len() {
        let sent = if chunked {
            let mut frame = format!("{:x}\r\n", block.len()).into_bytes();
            frame.extend_from_slice(&block);
            frame.extend_from_slice(b"\r\n");
            s.write_all(&frame).await
        } else {
            s.write_all(&block).await
        };
        if sent.is_err() {
            break;
        }
    }
    read_status(&mut s).await
}

/// A client sending one byte a second: of its headers (`headers`) or, after complete
/// headers, of its body. Counts connections the server closed.
async fn slow_client(port: u16, headers: bool, closed: Arc<AtomicU64>) {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)).await else {
        return;
    };
    let start = if headers {
        "POST /hooks/github HTTP/1.1\r\nHost: x\r\n".to_string()
    } else {
        "POST /hooks/github HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n".to_string()
    };
    if s.write_all(start.as_bytes()).await.is_err() {
        closed.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let until = Instant::now() + SLOW_HOLD;
    let mut buf = [0u8; 512];
    while Instant::now() < until {
        let byte: &[u8] = if headers { b"X" } else { b"{" };
        if s.write_all(byte).await.is_err() {
            closed.fetch_add(1, Ordering::Relaxed);
            return;
        }
        // Anything the server sends (a 408) or EOF means it gave up on us.
        if tokio::time::timeout(Duration::from_secs(1), s.read(&mut buf))
            .await
            .is_ok()
        {
            closed.fetch_add(1, Ordering::Relaxed);
            return;
        }
    }
}

async fn read_status(s: &mut TcpStream) -> u16 {
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut buf)).await;
    String::from_utf8_lossy(&buf)
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

async fn request(port: u16, method: &str, path: &str, headers: &str, body: &[u8]) -> (u16, String) {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)).await else {
        return (0, String::new());
    };
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    );
    if s.write_all(head.as_bytes()).await.is_err() || s.write_all(body).await.is_err() {
        return (0, String::new());
    }
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// Samples ferry's RSS every 20 ms on a thread; `stop` returns the peak.
struct Sampler {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<u64>,
}

impl Sampler {
    fn start(pid: u32) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut peak = 0;
            while !flag.load(Ordering::Relaxed) {
                peak = peak.max(rss_kib(pid));
                std::thread::sleep(Duration::from_millis(20));
            }
            peak
        });
        Sampler { stop, handle }
    }

    fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap_or(0)
    }
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn write_cm(work: &Path, value: &str) {
    std::fs::write(
        work.join("apps/cm.yaml"),
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  value: \"{value}\"\n"),
    )
    .unwrap();
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
