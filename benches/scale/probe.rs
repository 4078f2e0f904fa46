//! What the scale bench reads from outside ferry: its HTTP endpoints, `/proc` figures of a
//! process, and the API server's own `/metrics` (watches held, 429s answered).

use std::path::Path;
use std::process::Command;

use crate::http_client::http;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Sends a GitHub push webhook (signed with `secret`) for `after` on `clone_url`, listing
/// `modified` as the changed files; returns the status and the reply's body.
pub fn github_push(
    port: u16,
    secret: &str,
    clone_url: &str,
    after: &str,
    modified: &[String],
) -> Option<(u16, String)> {
    let body = serde_json::json!({
        "ref": "refs/heads/main", "after": after,
        "repository": {"clone_url": clone_url},
        "commits": [{"added": [], "removed": [], "modified": modified}]
    })
    .to_string();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(body.as_bytes());
    let sig = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    http(
        port,
        "POST",
        "/hooks/github",
        &[
            ("Content-Type", "application/json".into()),
            ("X-GitHub-Event", "push".into()),
            ("X-Hub-Signature-256", sig),
        ],
        body.as_bytes(),
    )
}

/// Figures of one process from `/proc/<pid>`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcStats {
    /// CPU seconds used so far (user + system).
    pub cpu_secs: f64,
    /// Resident set size now (KiB).
    pub rss_kib: u64,
    /// Peak resident set size since start (KiB).
    pub hwm_kib: u64,
}

/// Reads `/proc/<pid>/stat` and `/proc/<pid>/status`; `None` once the process is gone.
pub fn proc_stats(pid: u32) -> Option<ProcStats> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Some(ProcStats {
        cpu_secs: ticks / 100.0, // USER_HZ on Linux
        rss_kib: kib("VmRSS:"),
        hwm_kib: kib("VmHWM:"),
    })
}

/// False once `pid` has exited (gone, or a zombie not reaped yet).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        == Some(false)
}

/// Sockets `pid` holds open (its watches, one HTTP/1.1 connection each, plus other requests
/// in flight and its listener): ferry's own share of the API server's watch count.
pub fn open_sockets(pid: u32) -> Option<usize> {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
    Some(
        fds.filter_map(Result::ok)
            .filter_map(|e| std::fs::read_link(e.path()).ok())
            .filter(|l| l.to_string_lossy().starts_with("socket:"))
            .count(),
    )
}

/// The pid of the local control plane's kube-apiserver (the process whose name is
/// `kube-apiserver`), to read its CPU and RSS; `None` when it runs elsewhere.
pub fn apiserver_pid() -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "kube-apiserver")
        })
}

/// The API server's own counters that matter at scale (whole cluster: other clients count
/// too, so the bench prints them before and after).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiMetrics {
    /// Watches being served (`apiserver_longrunning_requests{verb="WATCH"}`, summed).
    pub watches: u64,
    /// Requests answered 429 Too Many Requests so far (`apiserver_request_total{code="429"}`).
    pub throttled: u64,
}

/// Requests the API server answered so far by "VERB resource" (`apiserver_request_total`,
/// every client), to see what a cold start costs.
pub fn api_requests(kubeconfig: &Path) -> std::collections::BTreeMap<String, u64> {
    let mut by_kind = std::collections::BTreeMap::new();
    let Ok(out) = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["get", "--raw", "/metrics"])
        .output()
    else {
        return by_kind;
    };
    let label = |series: &str, name: &str| {
        let start = series.find(&format!("{name}=\""))? + name.len() + 2;
        let len = series[start..].find('"')?;
        Some(series[start..start + len].to_owned())
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        if !series.starts_with("apiserver_request_total{") {
            continue;
        }
        let (Some(verb), Some(resource), Ok(value)) = (
            label(series, "verb"),
            label(series, "resource"),
            value.parse::<f64>(),
        ) else {
            continue;
        };
        *by_kind.entry(format!("{verb} {resource}")).or_default() += value as u64;
    }
    by_kind
}

/// Reads the API server's `/metrics` through `kubectl get --raw`; `None` when it fails.
pub fn api_metrics(kubeconfig: &Path) -> Option<ApiMetrics> {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["get", "--raw", "/metrics"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut m = ApiMetrics::default();
    for line in text.lines() {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        // Counters and gauges print as floats ("3", "1.2e+06").
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        if series.starts_with("apiserver_longrunning_requests{")
            && series.contains("verb=\"WATCH\"")
        {
            m.watches += value as u64;
        } else if series.starts_with("apiserver_request_total{") && series.contains("code=\"429\"")
        {
            m.throttled += value as u64;
        }
    }
    Some(m)
}
