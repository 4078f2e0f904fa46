//! One app: as written in `ferry.yaml` ([`AppConfig`]), with flags laid over it, and resolved
//! into what the pipeline runs on ([`AppSpec`]).

use serde::{Deserialize, Serialize};

use super::{ConfigError, PruneGuardConfig, SecretRef};
use crate::manifest::SelectOptions;
use crate::plan::guard::PruneGuard;
use crate::source::{GitAuth, GitRef, RepoLocation};

/// One app as written in `ferry.yaml`; every field can be overridden by a flag.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppConfig {
    /// App name.
    #[serde(default)]
    pub name: Option<String>,
    /// Repository URL or local path.
    #[serde(default)]
    pub repo: Option<String>,
    /// Branch to follow.
    #[serde(default)]
    pub branch: Option<String>,
    /// Tag to follow.
    #[serde(default)]
    pub tag: Option<String>,
    /// Commit to pin.
    #[serde(default)]
    pub rev: Option<String>,
    /// Directory of manifests inside the repository.
    #[serde(default)]
    pub path: Option<String>,
    /// Whether subdirectories are included.
    #[serde(default)]
    pub recursive: Option<bool>,
    /// Ignore patterns.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Default namespace for namespaced objects.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Delete objects that were removed from git.
    #[serde(default)]
    pub prune: Option<bool>,
    /// How much of the app one sync may prune before it is refused.
    #[serde(default)]
    pub prune_guard: Option<PruneGuardConfig>,
    /// Field managers ferry yields to.
    #[serde(default)]
    pub yield_to_managers: Vec<String>,
    /// What to do when a rollout gate fails (`halt` or `revert`).
    #[serde(default)]
    pub failure_policy: Option<FailurePolicy>,
    /// How often `ferry serve` polls the repository (e.g. `30s`, `5m`; default 1m).
    #[serde(default)]
    pub interval: Option<String>,
    /// `ferry serve` re-applies git when live objects drift from it (default false: report only).
    #[serde(default)]
    pub self_heal: Option<bool>,
    /// `ferry serve`: a newer commit arriving while a rollout gate waits cancels the wait
    /// (the sync is recorded as superseded) and syncs the newer commit (default true).
    #[serde(default)]
    pub supersede_gates: Option<bool>,
    /// How this app's rollouts are gated (flags win; see [`crate::rollout::gate_config`]).
    #[serde(default)]
    pub gates: crate::rollout::GateSettings,
    /// `ferry serve`: this app's own webhook secret (instead of the server-wide one), so
    /// repositories on different forges or teams need not share one.
    #[serde(default)]
    pub webhook_secret: Option<SecretRef>,
    /// Sync windows: outside an allow window or inside a deny window ferry plans but does
    /// not apply.
    #[serde(default)]
    pub windows: Vec<crate::window::SyncWindowConfig>,
    /// Whether a `kustomization.yaml` in `path` is rendered: `auto` (default), `plain`
    /// (never), `kustomize` (always; an error without one).
    #[serde(default)]
    pub render: Option<crate::render::RenderMode>,
    /// Render a Helm chart of the repository with `helm template` instead of reading `path`.
    #[serde(default)]
    pub helm: Option<crate::render::HelmConfig>,
    /// Git credentials.
    #[serde(default)]
    pub auth: GitAuth,
    /// Where this app's sync events go: a commit status at the forge, outgoing webhooks.
    #[serde(default)]
    pub notify: Option<crate::notify::NotifyConfig>,
    /// The file's top-level `externalUrl` (set by [`super::load`], not written per app).
    #[serde(skip)]
    pub external_url: Option<String>,
}

/// A fully resolved app: what the pipeline runs on.
#[derive(Debug, Clone)]
pub struct AppSpec {
    /// Inventory label value.
    pub name: String,
    /// True when the name was derived from the path or repository rather than given: such
    /// a name may collide with another app's, so ferry checks the app's recorded source.
    pub name_derived: bool,
    /// Where the repository is.
    pub location: RepoLocation,
    /// What to follow in it.
    pub reference: GitRef,
    /// Credentials.
    pub auth: GitAuth,
    /// Which files are manifests.
    pub select: SelectOptions,
    /// Default namespace.
    pub namespace: String,
    /// Prune objects removed from git.
    pub prune: bool,
    /// How much of the app one sync may prune.
    pub prune_guard: PruneGuard,
    /// Take over objects git wants that another ferry app manages (`--take-over`, one run).
    pub take_over: bool,
    /// Field managers ferry yields to.
    pub yield_to_managers: Vec<String>,
    /// What to do when a rollout gate fails.
    pub failure_policy: FailurePolicy,
    /// Poll interval for `ferry serve`.
    pub interval: std::time::Duration,
    /// Re-apply when live state drifts from the last synced commit.
    pub self_heal: bool,
    /// A newer commit cancels a waiting gate of the running sync (`ferry serve`).
    pub supersede_gates: bool,
    /// The app's gate settings from `ferry.yaml`; flags given on the command line win
    /// ([`crate::rollout::gate_config`]).
    pub gates: crate::rollout::GateSettings,
    /// Where this app's own webhook secret is (read when `ferry serve` starts).
    pub webhook_secret: Option<SecretRef>,
    /// When applying is allowed.
    pub windows: crate::window::SyncWindows,
    /// How the manifests are produced: the path's YAML, its Kustomization, or a Helm chart.
    pub render: crate::render::RenderSpec,
    /// Where the app's sync events are sent (empty: nowhere).
    pub notify: crate::notify::NotifySpec,
}

impl AppSpec {
    /// Where the app's manifests come from, as its inventory records it: the repository
    /// (a local one by its canonical path) and the directory inside it.
    pub fn source_identity(&self) -> String {
        let repo = match &self.location {
            RepoLocation::Local(path) => std::fs::canonicalize(path)
                .unwrap_or_else(|_| path.clone())
                .display()
                .to_string(),
            RepoLocation::Remote(_) => self.location.display(),
        };
        let path = self.select.path.trim_matches('/');
        let path = if path == "." { "" } else { path };
        format!("{repo} path={path:?}")
    }
}

impl AppConfig {
    /// Overlays `flags` (set fields win) on this config.
    pub fn overridden_by(mut self, flags: AppConfig) -> AppConfig {
        macro_rules! take {
            ($($f:ident),*) => { $( if flags.$f.is_some() { self.$f = flags.$f; } )* };
        }
        take!(
            name,
            repo,
            path,
            recursive,
            namespace,
            prune,
            prune_guard,
            failure_policy
        );
        if flags.branch.is_some() || flags.tag.is_some() || flags.rev.is_some() {
            self.branch = flags.branch;
            self.tag = flags.tag;
            self.rev = flags.rev;
        }
        if !flags.ignore.is_empty() {
            self.ignore = flags.ignore;
        }
        if !flags.yield_to_managers.is_empty() {
            self.yield_to_managers = flags.yield_to_managers;
        }
        self
    }

    /// Validates and fills defaults.
    pub fn resolve(self) -> Result<AppSpec, ConfigError> {
        let repo = self.repo.ok_or_else(|| {
            ConfigError::Invalid("no repository: pass --repo or set repo in the config".into())
        })?;
        let reference = match (self.branch, self.tag, self.rev) {
            (None, None, None) => GitRef::Head,
            (Some(b), None, None) => GitRef::Branch(b),
            (None, Some(t), None) => GitRef::Tag(t),
            (None, None, Some(r)) => GitRef::Commit(r),
            _ => {
                return Err(ConfigError::Invalid(
                    "choose one of branch, tag or rev".into(),
                ))
            }
        };
        let path = self.path.unwrap_or_default();
        let name_derived = self.name.is_none();
        let name = match self.name {
            Some(n) => n,
            None => default_app_name(&repo, &path),
        };
        validate_label_value(&name)?;
        let namespace = self.namespace.unwrap_or_else(|| "default".into());
        let render = match (self.helm, self.render) {
            (Some(_), Some(mode)) if mode != crate::render::RenderMode::Auto => {
                return Err(ConfigError::Invalid(format!(
                    "helm: and render: {} exclude each other: a Helm app is rendered by helm",
                    serde_json::to_value(mode)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_default()
                )))
            }
            (Some(helm), _) => crate::render::RenderSpec::Helm(
                helm.resolve(&name, &namespace)
                    .map_err(ConfigError::Invalid)?,
            ),
            (None, mode) => crate::render::RenderSpec::Path {
                mode: mode.unwrap_or_default(),
            },
        };
        let notify = match self.notify {
            Some(notify) => notify
                .resolve(&name, &repo, self.external_url.as_deref())
                .map_err(|e| ConfigError::Invalid(format!("app {name}: {e}")))?,
            None => crate::notify::NotifySpec::default(),
        };
        // Credentials belong in auth, never in the URL (logs, history, .git/config).
        crate::source::check_url(&repo)?;
        self.auth.check_transport(&repo)?;
        Ok(AppSpec {
            name,
            name_derived,
            location: RepoLocation::parse(&repo),
            reference,
            auth: self.auth,
            select: SelectOptions {
                path,
                recursive: self.recursive.unwrap_or(true),
                ignore: self.ignore,
            },
            namespace,
            render,
            notify,
            prune: self.prune.unwrap_or(false),
            prune_guard: self.prune_guard.unwrap_or_default().resolve()?,
            take_over: false,
            yield_to_managers: self.yield_to_managers,
            failure_policy: self.failure_policy.unwrap_or_default(),
            self_heal: self.self_heal.unwrap_or(false),
            supersede_gates: self.supersede_gates.unwrap_or(true),
            gates: self.gates.validated()?,
            webhook_secret: match self.webhook_secret {
                Some(secret) => Some(secret.validated()?),
                None => None,
            },
            windows: crate::window::SyncWindows::compile(&self.windows)
                .map_err(|e| ConfigError::Invalid(format!("windows: {e}")))?,
            interval: match &self.interval {
                None => std::time::Duration::from_secs(60),
                Some(text) => crate::duration::parse_duration(text)
                    .map_err(|e| ConfigError::Invalid(format!("interval {text:?}: {e}")))?,
            },
        })
    }
}

/// The app name when none is given: the manifest directory's last component, else the
/// repository's name, made into a valid label value.
pub fn default_app_name(repo: &str, path: &str) -> String {
    let from_path = path
        .trim_matches('/')
        .rsplit('/')
        .find(|s| !s.is_empty() && *s != ".");
    let from_repo = || {
        let trimmed = repo.trim_end_matches('/').trim_end_matches(".git");
        let last = trimmed.rsplit(['/', ':']).next().unwrap_or("app");
        if last.is_empty() || last == "." {
            // No readable working directory: the name falls back to "app".
            std::env::current_dir()
                .ok()
                .and_then(|d| d.file_name().map(|n| n.to_string_lossy().to_string()))
                .unwrap_or_else(|| "app".into())
        } else {
            last.to_string()
        }
    };
    let raw = from_path.map_or_else(from_repo, str::to_string);
    let cleaned: String = raw
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let cleaned = cleaned
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    let mut name: String = cleaned.chars().take(63).collect();
    name = name
        .trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    if name.is_empty() {
        "app".into()
    } else {
        name
    }
}

fn validate_label_value(name: &str) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(ConfigError::Invalid(format!(
            "app name {name:?} must be a valid label value (≤63 characters, alphanumerics, '-', '_', '.')"
        )))
    }
}

/// What to do when a rollout gate fails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum FailurePolicy {
    /// Stop later waves, keep what was applied, record the failure.
    #[default]
    Halt,
    /// Write a revert of the failing commit on the tracked branch, push it, and sync it.
    Revert,
}
