//! Fault injection with Toxiproxy (built by `dev/cluster/install.sh`): a `toxiproxy-server`
//! on a free 127.0.0.1 port per test, proxies in front of kube-apiserver (TLS passes through:
//! toxiproxy works on TCP) and a `git daemon`, toxics switched through its HTTP API with a
//! small std-only HTTP client. Also a seeded random source for randomized runs.
#![allow(dead_code)]

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::serve::{free_port, http};
use super::{kubeconfig, repo_root};

/// Where install.sh puts a binary: `${FERRY_K8S_CACHE:-~/.cache/ferry/k8s}/<KUBE_VERSION>/bin`.
pub fn installed_bin(name: &str) -> PathBuf {
    let versions = std::fs::read_to_string(repo_root().join("dev/cluster/versions.env"))
        .expect("reading dev/cluster/versions.env");
    let kube = versions
        .lines()
        .find_map(|l| l.strip_prefix("KUBE_VERSION="))
        .expect("KUBE_VERSION in versions.env")
        .trim()
        .to_string();
    let cache = std::env::var_os("FERRY_K8S_CACHE").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/ferry/k8s"),
        PathBuf::from,
    );
    let path = cache.join(kube).join("bin").join(name);
    assert!(
        path.is_file(),
        "{} is not built; run:\n    bash dev/cluster/install.sh",
        path.display()
    );
    path
}

/// One JSON request to the toxiproxy API; returns (status, body).
fn api(port: u16, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    let headers = [("Content-Type", "application/json".to_string())];
    http(port, method, path, &headers, body.as_bytes())
}

/// A running `toxiproxy-server`; killed when dropped.
pub struct Toxiproxy {
    child: Child,
    /// Its API port on 127.0.0.1.
    pub port: u16,
}

impl Drop for Toxiproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Toxiproxy {
    /// Starts the server (toxicity decisions seeded with `seed`) and waits for its API.
    pub fn start(seed: u64) -> Toxiproxy {
        // A free port can be taken again before our server binds it (tests run in parallel):
        // then our server exits and another test's would answer. Retry until ours is the one
        // listening: it answers and is still running once its bind had time to fail.
        for _ in 0..10 {
            let port = free_port();
            let mut child = Command::new(installed_bin("toxiproxy-server"))
                .args(["-host", "127.0.0.1", "-port", &port.to_string()])
                .args(["-seed", &seed.to_string()])
                .env("LOG_LEVEL", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("starting toxiproxy-server");
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut exited = false;
            while !matches!(api(port, "GET", "/version", ""), Ok((200, _))) {
                assert!(Instant::now() < deadline, "toxiproxy-server did not start");
                if child.try_wait().ok().flatten().is_some() {
                    exited = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            std::thread::sleep(Duration::from_millis(300));
            if !exited && child.try_wait().ok().flatten().is_none() {
                return Toxiproxy { child, port };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("toxiproxy-server could not get a port of its own in 10 tries");
    }

    fn call(&self, method: &str, path: &str, body: &str) -> String {
        let (status, text) = api(self.port, method, path, body)
            .unwrap_or_else(|e| panic!("toxiproxy {method} {path}: {e}"));
        assert!(
            (200..300).contains(&status),
            "toxiproxy {method} {path} {body}: {status} {text}"
        );
        text
    }

    /// A proxy named `name` on a free 127.0.0.1 port forwarding to `upstream` (host:port).
    pub fn proxy(&self, name: &str, upstream: &str) -> Proxy {
        let listen_port = free_port();
        let listen = format!("127.0.0.1:{listen_port}");
        let body = serde_json::json!({"name": name, "listen": listen, "upstream": upstream, "enabled": true});
        self.call("POST", "/proxies", &body.to_string());
        Proxy {
            api: self.port,
            name: name.to_string(),
            port: listen_port,
        }
    }
}

/// One proxy of a [`Toxiproxy`].
#[derive(Clone)]
pub struct Proxy {
    api: u16,
    /// The proxy's name.
    pub name: String,
    /// Where clients connect (127.0.0.1).
    pub port: u16,
}

/// A fault toxiproxy can inject.
#[derive(Debug, Clone)]
pub struct Toxic {
    /// latency, timeout, reset_peer, slow_close, bandwidth, …
    pub kind: &'static str,
    /// upstream (client → server) or downstream (server → client).
    pub stream: &'static str,
    /// Share of connections affected (0.0–1.0).
    pub toxicity: f64,
    /// The toxic's attributes, e.g. `{"latency": 300, "jitter": 100}`.
    pub attributes: serde_json::Value,
}

impl Proxy {
    fn call(&self, method: &str, path: &str, body: &str) {
        let (status, text) = api(self.api, method, path, body)
            .unwrap_or_else(|e| panic!("toxiproxy {method} {path}: {e}"));
        assert!(
            (200..300).contains(&status),
            "toxiproxy {method} {path} {body}: {status} {text}"
        );
    }

    /// Adds a toxic under `name`.
    pub fn add(&self, name: &str, toxic: &Toxic) {
        let body = serde_json::json!({
            "name": name, "type": toxic.kind, "stream": toxic.stream,
            "toxicity": toxic.toxicity, "attributes": toxic.attributes,
        });
        self.call(
            "POST",
            &format!("/proxies/{}/toxics", self.name),
            &body.to_string(),
        );
    }

    /// Removes the toxic `name`.
    pub fn remove(&self, name: &str) {
        self.call(
            "DELETE",
            &format!("/proxies/{}/toxics/{name}", self.name),
            "",
        );
    }

    /// Enables (listening, forwarding) or disables (closes the listener and every
    /// connection: the upstream is unreachable) the proxy.
    pub fn set_enabled(&self, enabled: bool) {
        let body = serde_json::json!({ "enabled": enabled });
        self.call(
            "POST",
            &format!("/proxies/{}", self.name),
            &body.to_string(),
        );
    }

    /// A copy of the test kubeconfig whose server is this proxy, in `dir`.
    pub fn kubeconfig_in(&self, dir: &Path) -> PathBuf {
        let text = std::fs::read_to_string(kubeconfig()).expect("reading the test kubeconfig");
        let mut config: serde_yaml::Value = serde_yaml::from_str(&text).expect("kubeconfig YAML");
        for cluster in config["clusters"].as_sequence_mut().expect("clusters") {
            cluster["cluster"]["server"] = format!("https://127.0.0.1:{}", self.port).into();
        }
        let path = dir.join("kubeconfig-via-toxiproxy");
        std::fs::write(&path, serde_yaml::to_string(&config).unwrap()).unwrap();
        path
    }
}

/// The API server's host:port from the test kubeconfig (what a proxy forwards to).
pub fn apiserver_address() -> String {
    let text = std::fs::read_to_string(kubeconfig()).expect("reading the test kubeconfig");
    let config: serde_yaml::Value = serde_yaml::from_str(&text).expect("kubeconfig YAML");
    let server = config["clusters"][0]["cluster"]["server"]
        .as_str()
        .expect("a server URL in the kubeconfig");
    server
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .to_string()
}

/// `git daemon` serving the bare repositories under a directory on 127.0.0.1; killed when
/// dropped.
pub struct GitDaemon {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl GitDaemon {
    /// Serves every repository under `base` as `git://127.0.0.1:<port>/<name>`.
    pub fn start(base: &Path) -> GitDaemon {
        let port = free_port();
        // git-daemon itself (not the `git daemon` wrapper, whose child would outlive a kill).
        let exec_path = Command::new("git")
            .arg("--exec-path")
            .output()
            .expect("git --exec-path");
        let exec_path = String::from_utf8_lossy(&exec_path.stdout)
            .trim()
            .to_string();
        let child = Command::new(Path::new(&exec_path).join("git-daemon"))
            .arg("--reuseaddr")
            .arg("--listen=127.0.0.1")
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", base.display()))
            .arg("--export-all")
            .arg("--informative-errors")
            .arg(base)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting git daemon");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "git daemon did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        GitDaemon { child, port }
    }
}

/// A small seeded random source (splitmix64): the same seed gives the same run.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as u64 - 1) as usize]
    }
}

/// The seed for randomized runs: `FERRY_FAULT_SEED`, else the clock; one per test process
/// (printed by the caller so a failure can be replayed).
pub fn fault_seed() -> u64 {
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *SEED.get_or_init(|| match std::env::var("FERRY_FAULT_SEED") {
        Ok(s) => s.trim().parse().expect("FERRY_FAULT_SEED must be a number"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    })
}

/// `FERRY_FAULT_RUNS` or `default`.
pub fn fault_runs(default: usize) -> usize {
    std::env::var("FERRY_FAULT_RUNS")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(default)
}

/// A random toxic of the five kinds the faults tests switch: latency, timeout, reset_peer,
/// slow_close, bandwidth.
pub fn random_toxic(rng: &mut Rng) -> Toxic {
    let stream = if rng.chance(0.5) {
        "downstream"
    } else {
        "upstream"
    };
    let toxicity = *rng.pick(&[1.0, 0.7, 0.4]);
    let (kind, attributes) = match rng.range(0, 4) {
        0 => (
            "latency",
            serde_json::json!({"latency": rng.range(20, 400), "jitter": rng.range(0, 100)}),
        ),
        1 => (
            "timeout",
            serde_json::json!({"timeout": rng.range(200, 3000)}),
        ),
        2 => (
            "reset_peer",
            serde_json::json!({"timeout": rng.range(0, 500)}),
        ),
        3 => (
            "slow_close",
            serde_json::json!({"delay": rng.range(100, 2000)}),
        ),
        _ => ("bandwidth", serde_json::json!({"rate": rng.range(16, 256)})),
    };
    Toxic {
        kind,
        stream,
        toxicity,
        attributes,
    }
}
