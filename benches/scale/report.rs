//! The scale bench's figures and the table that puts them next to issue 10's targets.

use std::path::Path;
use std::time::Duration;

use crate::http_client::http;
use crate::probe::ApiMetrics;

/// Everything the bench measured; `None` = not measured (an earlier phase did not finish).
#[derive(Debug, Default)]
pub struct Figures {
    /// Apps in `ferry.yaml`.
    pub apps: usize,
    /// Namespaces they share.
    pub namespaces: usize,
    /// ferry serve's pid.
    pub pid: u32,
    /// ferry serve exited before the end (crashed or was killed).
    pub exited: bool,
    /// Cap on every wait.
    pub cap: Duration,
    /// Length of the idle window.
    pub idle: Duration,
    /// Start → `/healthz` answers 200.
    pub listener: Option<Duration>,
    /// Start → `/readyz` answers 200.
    pub ready: Option<Duration>,
    /// Apps (synced, failing) per `/api/apps` when ready (or at the cap).
    pub outcomes: Option<(usize, usize)>,
    /// ferry's VmHWM (KiB) when ready, and at the end.
    pub peak_rss_ready: Option<u64>,
    /// ferry's VmHWM (KiB) at the end.
    pub peak_rss_end: Option<u64>,
    /// API server counters before start, when ready, at the end.
    pub api_before: Option<ApiMetrics>,
    /// When ready.
    pub api_ready: Option<ApiMetrics>,
    /// At the end.
    pub api_end: Option<ApiMetrics>,
    /// Most watches the API server served while ferry started.
    pub watches_peak: u64,
    /// ferry's open sockets: most while starting, when ready, at the end.
    pub sockets: (usize, usize, usize),
    /// kube-apiserver's largest RSS (KiB) seen while ferry started.
    pub apiserver_rss_peak: Option<u64>,
    /// kube-apiserver's CPU (% of one core) from start to ready.
    pub apiserver_cpu_start: Option<f64>,
    /// ferry's CPU (% of one core) over the idle window's first minute (first drift checks).
    pub idle_cpu_first: Option<f64>,
    /// ferry's CPU (% of one core) over the rest of the idle window (steady state).
    pub idle_cpu: Option<f64>,
    /// ferry's RSS (KiB) at the idle window's start and end.
    pub idle_rss: Option<(u64, u64)>,
    /// Objects written during the idle window.
    pub idle_rewrites: Option<usize>,
    /// Webhook sent → reply read.
    pub webhook_answer: Option<Duration>,
    /// The reply's status and how many apps it triggered.
    pub webhook_triggered: Option<(u16, usize)>,
    /// Webhook sent → the API server has the new value.
    pub webhook_applied: Option<Duration>,
    /// Other objects written meanwhile.
    pub webhook_rewrites: Option<usize>,
    /// All-apps commit's webhook sent → all N ConfigMaps have the new value.
    pub all_applied: Option<Duration>,
    /// How many had it when the wait ended.
    pub all_done: usize,
    /// ferry's log: (warning lines, error lines, first error line).
    pub log: (usize, usize, Option<String>),
    /// The web UI's page time, size and RSS cost (issue 12).
    pub ui: Option<super::ui::UiFigures>,
}

impl Figures {
    /// Prints the table; false when a wait hit its cap (the bench then exits 1).
    pub fn print(&self) -> bool {
        let n = self.apps;
        let capped = format!("not ready after {}", secs(self.cap));
        let mut rows: Vec<(String, String, String)> = Vec::new();
        let mut row = |what: &str, got: String, target: &str| {
            rows.push((what.to_string(), got, target.to_string()));
        };
        row(
            "HTTP listener up (/healthz 200)",
            self.listener.map_or(capped.clone(), secs),
            "< 1 s",
        );
        row(
            "every app reconciled (/readyz 200)",
            self.ready.map_or(capped.clone(), secs),
            "< 30 s",
        );
        row(
            "apps synced / failing at that point",
            self.outcomes
                .map_or("-".into(), |(ok, bad)| format!("{ok} / {bad} of {n}")),
            "all / 0",
        );
        row(
            "ferry peak RSS (VmHWM) at ready / end",
            format!(
                "{} / {}",
                opt_mib(self.peak_rss_ready),
                opt_mib(self.peak_rss_end)
            ),
            "< 100 MiB",
        );
        let w = |m: Option<ApiMetrics>| m.map_or("-".into(), |m| m.watches.to_string());
        row(
            "API server watches before / peak / ready / end",
            format!(
                "{} / {} / {} / {}",
                w(self.api_before),
                self.watches_peak,
                w(self.api_ready),
                w(self.api_end)
            ),
            "few (shared per kind)",
        );
        row(
            "ferry's open sockets peak / ready / end",
            format!(
                "{} / {} / {}",
                self.sockets.0, self.sockets.1, self.sockets.2
            ),
            "",
        );
        let t = |m: Option<ApiMetrics>| m.map_or("-".into(), |m| m.throttled.to_string());
        row(
            "API server 429s (total) before / ready / end",
            format!(
                "{} / {} / {}",
                t(self.api_before),
                t(self.api_ready),
                t(self.api_end)
            ),
            "no increase",
        );
        row(
            "kube-apiserver peak RSS / CPU until ready",
            format!(
                "{} / {}",
                opt_mib(self.apiserver_rss_peak),
                self.apiserver_cpu_start
                    .map_or("-".into(), |c| format!("{c:.0} %"))
            ),
            "",
        );
        row(
            "idle CPU, first minute (first drift checks)",
            self.idle_cpu_first
                .map_or("-".into(), |c| format!("{c:.2} % of a core")),
            "",
        );
        row(
            &format!("idle CPU, rest of {} (polls)", secs(self.idle)),
            self.idle_cpu
                .map_or("-".into(), |c| format!("{c:.2} % of a core")),
            "< 3 %",
        );
        row(
            "idle RSS start -> end",
            self.idle_rss.map_or("-".into(), |(a, b)| {
                format!("{} -> {}", opt_mib(Some(a)), opt_mib(Some(b)))
            }),
            "flat",
        );
        row("objects written while idle", opt(self.idle_rewrites), "0");
        row(
            "webhook (1 app) answered",
            self.webhook_answer.map_or("-".into(), ms),
            "< 50 ms",
        );
        row(
            "  reply status / apps triggered",
            self.webhook_triggered
                .map_or("no answer".into(), |(s, k)| format!("{s} / {k}")),
            "202 / 1",
        );
        row(
            "  applied (after sending / after the answer)",
            self.webhook_applied.map_or("not within 30 s".into(), |a| {
                let answer = self.webhook_answer.unwrap_or_default();
                format!("{} / {}", ms(a), ms(a.saturating_sub(answer)))
            }),
            "< 500 ms after the answer",
        );
        row(
            "  other apps' objects rewritten",
            opt(self.webhook_rewrites),
            "0",
        );
        row(
            &format!("commit touching all {n} apps applied"),
            self.all_applied.map_or(
                format!("{} of {n} after {}", self.all_done, secs(self.cap)),
                secs,
            ),
            "< 60 s",
        );
        if let Some(ui) = &self.ui {
            row(
                &format!("UI: apps page ({n} rows) over HTTP, median / p95"),
                format!(
                    "{:.1} / {:.1} ms",
                    ui.page.0.as_secs_f64() * 1e3,
                    ui.page.1.as_secs_f64() * 1e3
                ),
                "< 50 ms (issue 12)",
            );
            row(
                "UI: apps page size",
                format!("{:.0} KB", ui.page_bytes as f64 / 1000.0),
                "< 300 KB (issue 12)",
            );
            row(
                "UI: RSS added by 60 pages and 10 open live streams",
                format!(
                    "+{:.1} MiB ({:.0} → {:.0} MiB)",
                    ui.rss.1.saturating_sub(ui.rss.0) as f64 / 1024.0,
                    ui.rss.0 as f64 / 1024.0,
                    ui.rss.1 as f64 / 1024.0
                ),
                "< 5 MiB (issue 12)",
            );
        }
        row(
            "ferry log warnings / errors",
            format!("{} / {}", self.log.0, self.log.1),
            "",
        );
        println!(
            "\nferry serve at scale: {n} apps x 4 objects, {} namespace(s), 1 file:// repository, interval 1m",
            self.namespaces
        );
        let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
        let width_got = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
        println!(
            "{:width$}  {:width_got$}  target (issue 10)",
            "figure", "measured"
        );
        for (what, got, target) in &rows {
            println!("{what:width$}  {got:width_got$}  {target}");
        }
        if let Some(first) = &self.log.2 {
            println!("first error in ferry's log: {first}");
        }
        if self.exited {
            println!(
                "ferry serve exited before the end of the bench: figures after that are missing"
            );
        }
        let ok = !self.exited
            && self.listener.is_some()
            && self.ready.is_some()
            && self.webhook_applied.is_some()
            && self.all_applied.is_some();
        if self.ready.is_none() {
            println!("not ready after {}", secs(self.cap));
        }
        ok
    }
}

/// (apps with a synced commit, apps whose last attempt failed) from `/api/apps`.
pub fn app_outcomes(port: u16) -> Option<(usize, usize)> {
    let (_, body) = http(port, "GET", "/api/apps", &[], b"")?;
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    let apps = v.get("apps")?.as_array()?;
    let synced = apps
        .iter()
        .filter(|a| a.get("syncedCommit").is_some_and(|c| !c.is_null()))
        .count();
    let failing = apps
        .iter()
        .filter(|a| a.get("lastError").is_some_and(|e| !e.is_null()))
        .count();
    Some((synced, failing))
}

/// Warning and error lines in ferry's log, and the first error.
pub fn log_summary(path: &Path) -> (usize, usize, Option<String>) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let warns = text.lines().filter(|l| l.contains("WARN")).count();
    let errors: Vec<&str> = text.lines().filter(|l| l.contains("ERROR")).collect();
    let first = errors.first().map(|l| l.chars().take(300).collect());
    (warns, errors.len(), first)
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn opt_mib(kib: Option<u64>) -> String {
    kib.map_or("-".into(), |k| format!("{:.0} MiB", k as f64 / 1024.0))
}

fn opt(n: Option<usize>) -> String {
    n.map_or("-".into(), |n| n.to_string())
}
