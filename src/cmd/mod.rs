//! One module per command; `main.rs` only parses and dispatches. Shared here: how a command
//! resolves its app and engine, exit codes, and waiting for a stop signal.

pub mod history;
pub mod plan;
pub mod rollback;
pub mod serve;
mod server_client;
pub mod sync;

use std::path::PathBuf;

use anyhow::Context;
use ferry::cli::{AppArgs, ClusterArgs};
use ferry::cluster::{Cluster, ClusterTarget, DEFAULT_FERRY_NAMESPACE};
use ferry::config::{self, AppSpec, ConfigFile};
use ferry::manifest::Limits;
use ferry::reconcile::{self, Engine};

/// Exit code for errors (plan uses 0/1 for no-changes/changes, like `kubectl diff`).
pub const EXIT_ERROR: u8 = 2;
/// Exit code of `ferry sync` when a rollout gate failed (applied, but not healthy).
pub const EXIT_GATE_FAILED: u8 = 3;

/// Reads `ferry.yaml` (if given), picks and resolves the app with the flags laid over it,
/// and connects the engine.
pub async fn setup(
    app_args: &AppArgs,
    cluster_args: &ClusterArgs,
    prune: Option<bool>,
    safety: &ferry::cli::SafetyArgs,
) -> anyhow::Result<(Engine, AppSpec)> {
    let file = match &app_args.config {
        Some(path) => config::load(path)?,
        None => ConfigFile::default(),
    };
    let mut app = file
        .app(app_args.app.as_deref())?
        .overridden_by(app_args.as_overrides(prune))
        .resolve()?;
    safety.apply_to(&mut app);
    Ok((engine(cluster_args, &file).await?, app))
}

/// The pipeline's shared settings: the cluster connection, caches and limits.
pub async fn engine(cluster_args: &ClusterArgs, file: &ConfigFile) -> anyhow::Result<Engine> {
    let cluster = Cluster::connect(&ClusterTarget {
        kubeconfig: cluster_args.kubeconfig.clone(),
        context: cluster_args.context.clone(),
    })
    .await?;
    let cache_dir = match &cluster_args.cache_dir {
        Some(dir) => dir.clone(),
        None => default_cache_dir().context("cannot find a cache directory; pass --cache-dir")?,
    };
    let ferry_namespace = cluster_args
        .ferry_namespace
        .clone()
        .or(file.ferry_namespace.clone())
        .unwrap_or_else(|| DEFAULT_FERRY_NAMESPACE.to_string());
    Ok(Engine {
        cluster,
        cache_dir,
        ferry_namespace,
        limits: Limits::default(),
        concurrency: cluster_args.concurrency.max(1),
        fetch_timeout: cluster_args.fetch_timeout,
        identity: ferry::cluster::leader::default_identity(),
        render: cluster_args.render.tools(),
        notifier: ferry::notify::Notifier::new(),
    })
}

/// How long a command that ran one sync waits for its notifications before it exits.
const NOTIFY_FLUSH: std::time::Duration = std::time::Duration::from_secs(15);

/// Waits (at most [`NOTIFY_FLUSH`]) for the sync's commit statuses and webhooks to be sent;
/// says so when some were still waiting. A notification never changes the exit code.
pub async fn flush_notifications(engine: &Engine) {
    if !engine.notifier.flush(NOTIFY_FLUSH).await {
        eprintln!(
            "ferry: some notifications were not delivered within {}s; see the warnings above",
            NOTIFY_FLUSH.as_secs()
        );
    }
}

fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("ferry"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("ferry"))
}

/// The exit code of a sync: 0 succeeded, 3 a gate failed, 2 anything else.
pub fn sync_exit_code(report: &reconcile::SyncReport) -> u8 {
    if report.failed_gate().is_some() {
        EXIT_GATE_FAILED
    } else if report.succeeded() {
        0
    } else {
        EXIT_ERROR
    }
}

/// An error and its causes on one line, each cause once. ferry's errors spell their cause out
/// in their own message (so a log line or a history record says why) and keep it as their
/// `source` too; anyhow's `{:#}` would print such a cause twice.
pub fn describe(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM; stopping on Ctrl-C only");
            if let Err(e) = tokio::signal::ctrl_c().await {
                tracing::warn!(error = %e, "cannot listen for Ctrl-C either");
            }
        }
    }
}

#[cfg(test)]
mod tests;
