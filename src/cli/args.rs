//! Command-line arguments (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::AppConfig;

use super::common_args::{
    parse_duration_arg, AppArgs, ClusterArgs, GateArgs, OutputFormat, SafetyArgs,
};

/// ferry: GitOps for DaemonSets, StatefulSets and Jobs.
///
/// ferry turns a commit in a git repository of Kubernetes manifests into the cluster state it
/// describes: it shows exactly what will change (a structured diff against the live cluster,
/// computed with a server-side-apply dry-run), then applies it with server-side apply, wave by
/// wave, and prunes what was removed from git.
#[derive(Debug, Parser)]
#[command(
    name = "ferry",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Log level filter (e.g. `info`, `ferry=debug`); logs go to stderr. Also `FERRY_LOG`.
    #[arg(long, global = true, env = "FERRY_LOG", default_value = "warn")]
    pub log: String,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// ferry's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what syncing the repository would change in the cluster.
    ///
    /// Exit code: 0 = no changes, 1 = changes, 2 or more = error (like `kubectl diff`).
    Plan(PlanArgs),
    /// Apply the repository to the cluster: plan, then server-side apply wave by wave, then prune.
    ///
    /// Exit code: 0 = success, 2 = error (nothing is applied when any object is invalid).
    Sync(SyncArgs),
    /// Roll back by writing a `git revert` of a commit (default: the last synced change),
    /// show what it does to the cluster, push it, and sync it.
    ///
    /// git stays the truth: the cluster moves to the reverted state because the branch does.
    /// StatefulSet pods stuck not-Ready on the broken revision are deleted one at a time so
    /// the controller recreates them from the restored template. A revert is never the
    /// default target: when the last change is already reverted, nothing is written.
    /// Exit code: 0 = rolled back (or nothing to roll back), 2 = error (e.g. the revert
    /// conflicts, or the commit is not on the tracked branch), 3 = a gate failed.
    Rollback(RollbackArgs),
    /// Show the sync history: a table of syncs newest first, or one sync in detail.
    ///
    /// Each sync that changed something is recorded in the cluster (ConfigMaps in ferry's
    /// namespace, the last 50 per app) with its commit, trigger, outcome, per-object results,
    /// gate results and the ControllerRevision each DaemonSet/StatefulSet got.
    History(HistoryArgs),
    /// Reconcile continuously: poll every app, accept forge webhooks, serve status and metrics.
    ///
    /// Each app syncs in its own loop, one sync at a time; triggers that arrive during a sync
    /// coalesce into one follow-up sync of the newest commit. Endpoints: POST /hooks/FORGE
    /// (github, gitlab, gitea, forgejo, bitbucket, generic), GET /healthz, /readyz, /metrics,
    /// /api/apps, /api/apps/APP, /api/apps/APP/history, POST /api/apps/APP/sync.
    /// SIGTERM/SIGINT stop accepting work and let a running sync finish and be recorded.
    Serve(ServeArgs),
}

/// `ferry serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Which repository, ref and directory.
    #[command(flatten)]
    pub app: AppArgs,
    /// Which cluster.
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// How rollouts are gated.
    #[command(flatten)]
    pub gates: GateArgs,
    /// Address for webhooks, metrics and the API.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Poll interval for apps that don't set `interval` (e.g. 30s, 5m).
    #[arg(long, value_parser = parse_duration_arg)]
    pub interval: Option<std::time::Duration>,
    /// Environment variable holding the webhook secret (HMAC key / GitLab token).
    #[arg(long, default_value = "FERRY_WEBHOOK_SECRET")]
    pub webhook_secret_env: String,
    /// File holding the webhook secret (instead of the environment variable).
    #[arg(long)]
    pub webhook_secret_file: Option<PathBuf>,
    /// Delete objects removed from git (for apps that don't set `prune`).
    #[arg(long)]
    pub prune: bool,
    /// Longest wait between retries of a failing app.
    #[arg(long, default_value = "5m", value_parser = parse_duration_arg)]
    pub max_backoff: std::time::Duration,
    /// Hold a Lease (`ferry-leader` in ferry's namespace) before syncing, so only one replica
    /// reconciles; the process exits if it loses the lease (Kubernetes restarts it).
    #[arg(long)]
    pub leader_elect: bool,
    /// Spread the apps over every replica started with the same value: `auto` (16 shards) or
    /// a number of shards (1-256, at least the number of replicas). Each shard is a Lease
    /// (`ferry-shard-<n>` in ferry's namespace); a replica syncs the apps of the shards it
    /// holds and takes a dead replica's shards once their Leases expire. Not with
    /// --leader-elect.
    #[arg(long, env = "FERRY_SHARDS", conflicts_with = "leader_elect")]
    pub shards: Option<crate::shard::ShardCount>,
    /// This replica's identity in the leases and in history records' `syncedBy` (default:
    /// $POD_NAME, else hostname-pid). Each replica needs its own.
    #[arg(long, env = "POD_NAME")]
    pub identity: Option<String>,
    /// Shortest time between two self-heal syncs of one app (apps with `selfHeal: true`).
    #[arg(long, default_value = "30s", value_parser = parse_duration_arg)]
    pub heal_interval: std::time::Duration,
    /// Longest time a poll of an already-synced commit trusts the live watch (which asks for
    /// a drift check on every outside change) instead of planning against the cluster; `0s`
    /// plans on every poll.
    #[arg(long, default_value = "10m", value_parser = parse_duration_arg)]
    pub drift_check_interval: std::time::Duration,
    /// File holding the API token that `POST /api/...` requests must send as
    /// `Authorization: Bearer <token>` (else $FERRY_API_TOKEN). Without a token the API is
    /// read-only.
    #[arg(long)]
    pub api_token_file: Option<PathBuf>,
    /// Also require the API token for `GET /api/...` (health and metrics stay open).
    #[arg(long)]
    pub api_read_auth: bool,
    /// Time a client has to send a request's headers before the connection is closed.
    #[arg(long, default_value = "10s", value_parser = parse_duration_arg)]
    pub http_header_timeout: std::time::Duration,
    /// Time a webhook sender has to send the body (at most 1 MiB).
    #[arg(long, default_value = "10s", value_parser = parse_duration_arg)]
    pub http_body_timeout: std::time::Duration,
    /// Webhook requests verified and handled at once; more are answered 503 with Retry-After.
    #[arg(long, default_value_t = 16)]
    pub max_webhook_requests: usize,
    /// KiB of webhook bodies held in memory at once, over all requests; a body that would pass
    /// it is answered 503 with Retry-After.
    #[arg(long, default_value_t = 16384)]
    pub max_webhook_buffer_kib: usize,
    /// Sync attempts (fetch, plan, apply, gates) running at once over all apps; the others
    /// wait for a slot, webhook and manual requests before polls and first syncs.
    #[arg(long, env = "FERRY_MAX_CONCURRENT_SYNCS", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrent_syncs: u32,
}

impl ServeArgs {
    /// The HTTP server's limits from the flags.
    pub fn http_limits(&self) -> crate::server::HttpLimits {
        crate::server::HttpLimits {
            header_timeout: self.http_header_timeout,
            body_timeout: self.http_body_timeout,
            max_webhook_requests: self.max_webhook_requests.max(1),
            max_buffered_bytes: self.max_webhook_buffer_kib.max(1).saturating_mul(1024),
            ..Default::default()
        }
    }

    /// Who may use `/api/*`: the token from `--api-token-file` (must be readable) or
    /// `$FERRY_API_TOKEN` (may be unset: the API is then read-only).
    pub fn api_auth(&self) -> Result<crate::server::ApiAuth, crate::config::ConfigError> {
        let token = crate::server::api_token(self.api_token_file.as_ref())?;
        if self.api_read_auth && token.is_none() {
            return Err(crate::config::ConfigError::Invalid(format!(
                "--api-read-auth needs an API token: set {} or --api-token-file",
                crate::server::API_TOKEN_ENV
            )));
        }
        Ok(crate::server::ApiAuth::new(
            token.as_deref(),
            self.api_read_auth,
        ))
    }
}

impl ServeArgs {
    /// Fills what an app leaves unset with the server-wide defaults (`--prune`); an app's own
    /// value always wins, so `prune: false` in ferry.yaml stays false under `--prune`.
    pub fn fill_unset(&self, mut app: AppConfig) -> AppConfig {
        if app.prune.is_none() && self.prune {
            app.prune = Some(true);
        }
        app
    }
}

/// `ferry history`.
#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// One sync, by sequence number (`7`) or commit sha prefix.
    pub sync: Option<String>,
    /// Only this app (default: the app of --config, or every app).
    #[arg(long)]
    pub app: Option<String>,
    /// App config file, to find the app name.
    #[arg(long, short = 'f', env = "FERRY_CONFIG")]
    pub config: Option<PathBuf>,
    /// How many syncs to list.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Which cluster.
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// `ferry rollback`.
#[derive(Debug, Clone, Args)]
pub struct RollbackArgs {
    /// The commit to revert, on the tracked branch (default: the newest change ferry synced
    /// that is not a revert, else the branch's; nothing when a later commit reverted it).
    pub commit: Option<String>,
    /// Instead, return to this commit (on the tracked branch): revert every commit after it,
    /// in one revert commit.
    #[arg(long, conflicts_with = "commit")]
    pub to: Option<String>,
    /// Do not push the revert; sync it from ferry's clone only (the cluster then runs a
    /// commit that is not on the remote branch).
    #[arg(long, conflicts_with = "push")]
    pub no_push: bool,
    /// Push the revert to the tracked branch (the default; spelled out for scripts).
    #[arg(long)]
    pub push: bool,
    /// Message of the revert commit (default: git's own revert message).
    #[arg(long, short = 'm')]
    pub message: Option<String>,
    /// Delete objects the revert removes from git (as `ferry sync --prune`).
    #[arg(long)]
    pub prune: bool,
    /// Which repository, ref and directory.
    #[command(flatten)]
    pub app: AppArgs,
    /// One-run overrides of ferry's refusals.
    #[command(flatten)]
    pub safety: SafetyArgs,
    /// Which cluster.
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// How rollouts are gated.
    #[command(flatten)]
    pub gates: GateArgs,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// `ferry plan`.
#[derive(Debug, Clone, Args)]
pub struct PlanArgs {
    /// Which repository, ref and directory.
    #[command(flatten)]
    pub app: AppArgs,
    /// One-run overrides of ferry's refusals.
    #[command(flatten)]
    pub safety: SafetyArgs,
    /// Which cluster.
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Show prunes as they would happen with pruning on.
    #[arg(long)]
    pub prune: bool,
    /// Also print a unified YAML diff per changed object.
    #[arg(long)]
    pub diff: bool,
    /// Colour: auto (when stdout is a terminal), always, never.
    #[arg(long, value_enum, default_value_t = crate::cli::ColorChoice::Auto)]
    pub color: crate::cli::ColorChoice,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// `ferry sync`.
#[derive(Debug, Clone, Args)]
pub struct SyncArgs {
    /// Which repository, ref and directory.
    #[command(flatten)]
    pub app: AppArgs,
    /// One-run overrides of ferry's refusals.
    #[command(flatten)]
    pub safety: SafetyArgs,
    /// Which cluster.
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Delete objects ferry applied before that are no longer in git.
    #[arg(long)]
    pub prune: bool,
    /// Plan and validate (server dry-run) without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// How rollouts are gated.
    #[command(flatten)]
    pub gates: GateArgs,
    /// Apply even outside the app's sync windows.
    #[arg(long)]
    pub force_window: bool,
    /// Ask a running `ferry serve` (e.g. http://127.0.0.1:8080) to sync --app now, instead of
    /// syncing from this process.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// With --server: file holding the API token to send (else $FERRY_API_TOKEN).
    #[arg(long, requires = "server")]
    pub api_token_file: Option<PathBuf>,
    /// When a rollout gate fails: `halt` (stop later waves) or `revert` (write, push and sync
    /// a git revert of the failing commit). Default: the config's failurePolicy, else halt.
    #[arg(long, value_enum)]
    pub on_failure: Option<crate::config::FailurePolicy>,
    /// Also print a unified YAML diff per changed object.
    #[arg(long)]
    pub diff: bool,
    /// Colour: auto, always, never.
    #[arg(long, value_enum, default_value_t = crate::cli::ColorChoice::Auto)]
    pub color: crate::cli::ColorChoice,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[cfg(test)]
#[path = "args_tests.rs"]
mod tests;
