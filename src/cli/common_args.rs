//! Argument groups shared by several commands: which app, which cluster, gates, safety
//! overrides, output format.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::config::AppConfig;

/// How rollouts are gated.
#[derive(Debug, Clone, Args)]
pub struct GateArgs {
    /// Do not wait for rollouts: apply every wave without health gates.
    #[arg(long)]
    pub no_wait: bool,
    /// Per-object rollout timeout (e.g. 90s, 5m; default 5m, or the app's gates.timeout); the
    /// annotation ferry.dev/timeout overrides it.
    #[arg(long, value_parser = parse_duration_arg)]
    pub timeout: Option<std::time::Duration>,
    /// How long a pod must keep failing (ImagePullBackOff, CrashLoopBackOff…) before the gate
    /// fails (default 20s, or the app's gates.grace); shorter fails faster, longer rides out a
    /// registry hiccup.
    #[arg(long, value_parser = parse_duration_arg)]
    pub grace: Option<std::time::Duration>,
    /// Before gating a StatefulSet, delete its pods stuck not-Ready on an old revision, one at a
    /// time, so the controller recreates them (always on for rollbacks; opt-in otherwise).
    #[arg(long)]
    pub unstick_statefulsets: bool,
}

impl GateArgs {
    /// The flags as the top layer of gate settings (unset flags fall through to the app's
    /// `gates:`, then to ferry's defaults: [`crate::rollout::gate_config`]).
    pub fn settings(&self) -> crate::rollout::GateSettings {
        let mut flags = crate::rollout::GateSettings::default();
        flags.wait = self.no_wait.then_some(false);
        flags.timeout = self.timeout;
        flags.grace = self.grace;
        flags.unstick_statefulsets = self.unstick_statefulsets.then_some(true);
        flags
    }
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text.
    Text,
    /// One JSON document on stdout.
    Json,
}

/// Which repository, ref and directory; all override `ferry.yaml`.
#[derive(Debug, Clone, Args)]
pub struct AppArgs {
    /// App config file (`ferry.yaml`); flags override its values.
    #[arg(long, short = 'f', env = "FERRY_CONFIG")]
    pub config: Option<PathBuf>,
    /// App name (selects the app in the config file; labels the objects ferry manages).
    #[arg(long)]
    pub app: Option<String>,
    /// Repository: a URL (https://, ssh://, git@host:path, file://) or a local path.
    #[arg(long)]
    pub repo: Option<String>,
    /// Follow this branch (default: the remote's default branch, or HEAD of a local repo).
    #[arg(long, conflicts_with_all = ["tag", "rev"])]
    pub branch: Option<String>,
    /// Follow this tag.
    #[arg(long, conflicts_with_all = ["branch", "rev"])]
    pub tag: Option<String>,
    /// Use exactly this commit.
    #[arg(long, conflicts_with_all = ["branch", "tag"])]
    pub rev: Option<String>,
    /// Directory of manifests inside the repository (default: the root).
    #[arg(long)]
    pub path: Option<String>,
    /// Only read the directory itself, not its subdirectories.
    #[arg(long)]
    pub no_recursive: bool,
    /// Ignore files matching this gitignore-style glob (relative to --path); repeatable.
    #[arg(long = "ignore", value_name = "GLOB")]
    pub ignore: Vec<String>,
    /// Namespace for namespaced objects that do not name one (default: `default`).
    #[arg(long, short = 'n')]
    pub namespace: Option<String>,
    /// Leave fields owned by this field manager alone (repeatable).
    #[arg(long = "yield-to", value_name = "MANAGER")]
    pub yield_to: Vec<String>,
}

impl AppArgs {
    /// The flags as a partial app config, to lay over the file's.
    pub fn as_overrides(&self, prune: Option<bool>) -> AppConfig {
        AppConfig {
            name: self.app.clone(),
            repo: self.repo.clone(),
            branch: self.branch.clone(),
            tag: self.tag.clone(),
            rev: self.rev.clone(),
            path: self.path.clone(),
            recursive: self.no_recursive.then_some(false),
            ignore: self.ignore.clone(),
            namespace: self.namespace.clone(),
            prune,
            prune_guard: None,
            yield_to_managers: self.yield_to.clone(),
            failure_policy: None,
            interval: None,
            self_heal: None,
            supersede_gates: None,
            gates: Default::default(),
            webhook_secret: None,
            windows: Vec::new(),
            render: None,
            helm: None,
            auth: Default::default(),
            notify: None,
            external_url: None,
        }
    }
}

/// One-run overrides of ferry's refusals (`plan`, `sync`, `rollback`).
#[derive(Debug, Clone, Args)]
pub struct SafetyArgs {
    /// Allow this run to prune more of the app than its pruneGuard allows (all of it
    /// included): for a commit that removes most of an app on purpose.
    #[arg(long)]
    pub allow_mass_prune: bool,
    /// Move objects git wants that another ferry app manages into this app (instead of
    /// refusing the plan), and accept this app's source when its derived name is already
    /// recorded for another repository or path.
    #[arg(long)]
    pub take_over: bool,
}

impl SafetyArgs {
    /// Applies the flags to a resolved app.
    pub fn apply_to(&self, app: &mut crate::config::AppSpec) {
        app.prune_guard.allow_mass_prune = self.allow_mass_prune;
        app.take_over = self.take_over;
    }
}

/// Which cluster.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then in-cluster config).
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the current context).
    #[arg(long)]
    pub context: Option<String>,
    /// Namespace where ferry keeps its inventory and history.
    #[arg(long, env = "FERRY_NAMESPACE")]
    pub ferry_namespace: Option<String>,
    /// Objects read, dry-run or applied at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Where remote repositories are cloned (default: $XDG_CACHE_HOME/ferry or ~/.cache/ferry).
    #[arg(long, env = "FERRY_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// How long a git fetch may take before the app's sync fails (a remote that hangs).
    #[arg(long, env = "FERRY_FETCH_TIMEOUT", default_value = "2m", value_parser = parse_duration_arg)]
    pub fetch_timeout: std::time::Duration,
    /// Where the renderers are.
    #[command(flatten)]
    pub render: RenderArgs,
}

/// Where the renderers for Kustomize overlays and Helm charts are.
#[derive(Debug, Clone, Args)]
pub struct RenderArgs {
    /// The `kustomize` executable for apps whose path holds a kustomization.yaml (default:
    /// `kustomize` on PATH).
    #[arg(long, env = "FERRY_KUSTOMIZE_BIN", value_name = "PATH")]
    pub kustomize_bin: Option<PathBuf>,
    /// The `helm` executable for apps with `helm:` (default: `helm` on PATH).
    #[arg(long, env = "FERRY_HELM_BIN", value_name = "PATH")]
    pub helm_bin: Option<PathBuf>,
}

impl RenderArgs {
    /// The renderers these flags name.
    pub fn tools(&self) -> crate::render::RenderTools {
        crate::render::RenderTools::new(crate::render::ToolPaths {
            kustomize: self.kustomize_bin.clone(),
            helm: self.helm_bin.clone(),
        })
    }
}

/// Reads a duration flag with ferry's one duration grammar (`90s`, `5m`, `1h30m`).
pub(super) fn parse_duration_arg(value: &str) -> Result<std::time::Duration, String> {
    crate::duration::parse_duration(value).map_err(|e| format!("{value:?}: {e}"))
}
