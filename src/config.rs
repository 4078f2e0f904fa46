//! The app configuration (`ferry.yaml`) and how command-line flags override it.
//!
//! ```yaml
//! ferryNamespace: ferry-system     # where ferry keeps its records (optional)
//! apps:
//!   - name: logging                # inventory label value; defaults to the path's last part
//!     repo: https://git.example.com/platform/cluster.git   # URL or local path
//!     branch: main                 # or tag: v1.2.0, or rev: <sha>; default: remote HEAD
//!     path: clusters/prod          # directory inside the repo ("" = root)
//!     recursive: true              # include subdirectories (default true)
//!     ignore: ["*.draft.yaml"]     # gitignore-style globs, relative to path
//!     namespace: logging           # for namespaced objects that name none (default "default")
//!     prune: true                  # delete objects removed from git (default false)
//!     pruneGuard: { maxPercent: 50, allowEmpty: false }  # refuse syncs that prune more
//!     yieldToManagers: []          # field managers whose fields ferry leaves alone
//!     failurePolicy: halt          # or revert: git-revert a commit whose rollout fails
//!     interval: 1m                 # how often `ferry serve` polls (and checks drift)
//!     selfHeal: false              # re-apply git when live objects drift (else report only)
//!     windows:                     # plan but don't apply outside allow / inside deny windows
//!       - { kind: deny, schedule: "0 18 * * 5", duration: 63h, timeZone: Europe/Berlin }
//!     auth: { tokenEnv: GIT_TOKEN }  # or sshKeyFile / tokenFile / username
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::manifest::SelectOptions;
use crate::plan::guard::PruneGuard;
use crate::source::{GitAuth, GitRef, RepoLocation};

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigFile {
    /// Namespace for ferry's own records (inventory, history).
    #[serde(default)]
    pub ferry_namespace: Option<String>,
    /// The apps ferry reconciles.
    #[serde(default)]
    pub apps: Vec<AppConfig>,
}

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
    /// How this app's rollouts are gated (defaults: the command's flags).
    #[serde(default)]
    pub gates: GatesConfig,
    /// `ferry serve`: this app's own webhook secret (instead of the server-wide one), so
    /// repositories on different forges or teams need not share one.
    #[serde(default)]
    pub webhook_secret: Option<SecretRef>,
    /// Sync windows: outside an allow window or inside a deny window ferry plans but does
    /// not apply.
    #[serde(default)]
    pub windows: Vec<crate::trigger::window::SyncWindowConfig>,
    /// Git credentials.
    #[serde(default)]
    pub auth: GitAuth,
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
    /// The app's gate settings from `ferry.yaml`; flags given on the command line win.
    pub gates: AppGates,
    /// Where this app's own webhook secret is (read when `ferry serve` starts).
    pub webhook_secret: Option<SecretRef>,
    /// When applying is allowed.
    pub windows: crate::trigger::window::SyncWindows,
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

/// Configuration problems.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid YAML for this schema.
    #[error("{path}:{line}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// Semantically wrong settings.
    #[error("{0}")]
    Invalid(String),
}

/// Reads and parses `ferry.yaml`.
pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let file: ConfigFile = serde_yaml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        line: e.location().map(|l| l.line()).unwrap_or(0),
        message: e.to_string(),
    })?;
    file.check_unique_names()
        .map_err(|message| ConfigError::Invalid(format!("{}: {message}", path.display())))?;
    Ok(file)
}

impl ConfigFile {
    /// Refuses two apps with one name, given or derived: they would share one inventory
    /// label and prune each other's objects.
    pub fn check_unique_names(&self) -> Result<(), String> {
        let mut seen: std::collections::HashMap<String, usize> = Default::default();
        for (index, app) in self.apps.iter().enumerate() {
            let (name, how) = match &app.name {
                Some(n) => (n.clone(), "named".to_string()),
                None => (
                    default_app_name(
                        app.repo.as_deref().unwrap_or_default(),
                        app.path.as_deref().unwrap_or_default(),
                    ),
                    format!(
                        "named after its path {:?}",
                        app.path.as_deref().unwrap_or_default()
                    ),
                ),
            };
            if let Some(first) = seen.insert(name.clone(), index) {
                return Err(format!(
                    "apps {} and {} are both called {name:?} (app {} is {how}); two apps with one name \
                     share one inventory and prune each other's objects: give each a distinct `name:`",
                    first + 1,
                    index + 1,
                    index + 1
                ));
            }
        }
        Ok(())
    }

    /// Picks the app to run: by name, or the only one.
    pub fn app(&self, name: Option<&str>) -> Result<AppConfig, ConfigError> {
        match name {
            // Without a config file, --app only names the app.
            Some(_) if self.apps.is_empty() => Ok(AppConfig::default()),
            Some(n) => self
                .apps
                .iter()
                .find(|a| a.name.as_deref() == Some(n))
                .cloned()
                .ok_or_else(|| ConfigError::Invalid(format!("no app named {n:?} in the config"))),
            None if self.apps.len() == 1 => Ok(self.apps[0].clone()),
            None if self.apps.is_empty() => Ok(AppConfig::default()),
            None => Err(ConfigError::Invalid(format!(
                "the config has {} apps; choose one with --app",
                self.apps.len()
            ))),
        }
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
        // Credentials belong in auth, never in the URL (logs, history, .git/config).
        crate::source::check_url(&repo).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        self.auth
            .check_transport(&repo)
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
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
            namespace: self.namespace.unwrap_or_else(|| "default".into()),
            prune: self.prune.unwrap_or(false),
            prune_guard: self.prune_guard.unwrap_or_default().resolve()?,
            take_over: false,
            yield_to_managers: self.yield_to_managers,
            failure_policy: self.failure_policy.unwrap_or_default(),
            self_heal: self.self_heal.unwrap_or(false),
            supersede_gates: self.supersede_gates.unwrap_or(true),
            gates: self.gates.resolve()?,
            webhook_secret: match self.webhook_secret {
                Some(secret) => Some(secret.validated()?),
                None => None,
            },
            windows: crate::trigger::window::SyncWindows::compile(&self.windows)
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
            std::env::current_dir()
                .ok()
                .and_then(|d| d.file_name().map(|n| n.to_string_lossy().to_string()))
                .unwrap_or_else(|| "app".into())
        } else {
            last.to_string()
        }
    };
    let raw = from_path.map(str::to_string).unwrap_or_else(from_repo);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_come_from_path_then_repo() {
        assert_eq!(default_app_name(".", "examples-repo"), "examples-repo");
        assert_eq!(default_app_name("https://x/org/Cluster.git", ""), "cluster");
        assert_eq!(
            default_app_name("git@x:org/my_repo.git", "apps/Logging/"),
            "logging"
        );
    }

    #[test]
    fn flags_override_config_and_refs_are_exclusive() {
        let file = AppConfig {
            repo: Some("/r".into()),
            branch: Some("main".into()),
            prune: Some(true),
            ..Default::default()
        };
        let flags = AppConfig {
            tag: Some("v1".into()),
            ..Default::default()
        };
        let spec = file.overridden_by(flags).resolve().unwrap();
        assert_eq!(spec.reference, GitRef::Tag("v1".into()));
        assert!(spec.prune);
        let both = AppConfig {
            repo: Some("/r".into()),
            branch: Some("a".into()),
            tag: Some("b".into()),
            ..Default::default()
        };
        assert!(both.resolve().is_err());
    }

    #[test]
    fn app_gates_sit_between_defaults_and_flags() {
        let file: ConfigFile = serde_yaml::from_str(
            "apps:\n  - repo: /r\n    gates: {timeout: 10m, grace: 1m, failuresAllowed: 2, onDelete: restart-pods}\n  - repo: /s\n    gates: {wait: false}\n",
        )
        .unwrap();
        let gated = file.apps[0].clone().resolve().unwrap().gates;
        let flags = crate::cli::GateArgs {
            no_wait: false,
            timeout: None,
            grace: Some(std::time::Duration::from_secs(5)),
            unstick_statefulsets: false,
        };
        let config = flags.config(&gated).unwrap();
        assert_eq!(
            config.timeout,
            std::time::Duration::from_secs(600),
            "from ferry.yaml"
        );
        assert_eq!(
            config.grace,
            std::time::Duration::from_secs(5),
            "the flag wins"
        );
        assert_eq!(config.failures_allowed, 2);
        assert_eq!(
            config.on_delete,
            crate::rollout::OnDeletePolicy::RestartPods
        );
        let unset = flags.config(&AppGates::default()).unwrap();
        assert_eq!(unset.timeout, crate::rollout::GateConfig::default().timeout);
        let off = file.apps[1].clone().resolve().unwrap().gates;
        assert!(flags.config(&off).is_none(), "gates.wait: false");

        let bad = AppConfig {
            repo: Some("/r".into()),
            gates: GatesConfig {
                on_delete: Some("later".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let err = bad.resolve().unwrap_err().to_string();
        assert!(err.contains("gates.onDelete \"later\""), "{err}");
    }

    #[test]
    fn webhook_secret_references_need_one_source_and_a_value() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret");
        std::fs::write(&file, "  s3cret\n").unwrap();
        let by_file = SecretRef {
            env: None,
            file: Some(file.clone()),
        };
        assert_eq!(by_file.read().unwrap(), b"s3cret");
        std::fs::write(&file, "\n").unwrap();
        let empty = by_file.read().unwrap_err().to_string();
        assert!(
            empty.contains(&format!("file {}", file.display())),
            "{empty}"
        );
        let unset = SecretRef {
            env: Some("FERRY_TEST_SURELY_UNSET_VARIABLE".into()),
            file: None,
        };
        let err = unset.read().unwrap_err().to_string();
        assert!(err.contains("FERRY_TEST_SURELY_UNSET_VARIABLE"), "{err}");
        let both = SecretRef {
            env: Some("A".into()),
            file: Some(file),
        };
        assert!(both.validated().is_err());
    }

    #[test]
    fn two_apps_with_one_name_are_refused_given_or_derived() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ferry.yaml");
        std::fs::write(
            &path,
            "apps:\n  - repo: /r\n    path: clusters/prod\n  - repo: /r\n    path: envs/prod/\n",
        )
        .unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(
            err.contains("apps 1 and 2 are both called \"prod\""),
            "{err}"
        );
        assert!(err.contains("named after its path \"envs/prod/\""), "{err}");
        std::fs::write(
            &path,
            "apps:\n  - {name: a, repo: /r}\n  - {name: b, repo: /r}\n  - {name: a, repo: /s}\n",
        )
        .unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(err.contains("apps 1 and 3 are both called \"a\""), "{err}");
        std::fs::write(
            &path,
            "apps:\n  - {repo: /r, path: clusters/prod}\n  - {name: staging, repo: /r, path: envs/prod}\n",
        )
        .unwrap();
        assert!(load(&path).is_ok());
    }

    #[test]
    fn prune_guard_defaults_and_bounds() {
        let spec = AppConfig {
            repo: Some("/r".into()),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(spec.prune_guard, PruneGuard::default());
        assert!(spec.name_derived);
        let file: ConfigFile = serde_yaml::from_str(
            "apps:\n  - {name: a, repo: /r, pruneGuard: {maxPercent: 80, allowEmpty: true}}\n  - {name: b, repo: /r, pruneGuard: {maxPercent: 101}}\n",
        )
        .unwrap();
        let a = file.apps[0].clone().resolve().unwrap();
        assert_eq!(a.prune_guard.max_percent, 80);
        assert!(a.prune_guard.allow_empty && !a.prune_guard.allow_mass_prune);
        assert!(!a.name_derived);
        let err = file.apps[1].clone().resolve().unwrap_err().to_string();
        assert!(err.contains("pruneGuard.maxPercent 101"), "{err}");
    }

    #[test]
    fn config_errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ferry.yaml");
        std::fs::write(&path, "apps:\n  - name: a\n    repoo: x\n").unwrap();
        let err = load(&path).unwrap_err().to_string();
        assert!(err.contains(":3:"), "{err}");
        assert!(err.contains("repoo"), "{err}");
    }
}

/// Where a secret is: an environment variable (`env: NAME`) or a file (`file: /path`, e.g. a
/// mounted Secret), exactly one. Only the reference is ever printed, never the value.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretRef {
    /// Environment variable holding the secret.
    #[serde(default)]
    pub env: Option<String>,
    /// File holding the secret (surrounding whitespace ignored).
    #[serde(default)]
    pub file: Option<PathBuf>,
}

impl SecretRef {
    fn validated(self) -> Result<SecretRef, ConfigError> {
        match (&self.env, &self.file) {
            (Some(_), None) | (None, Some(_)) => Ok(self),
            _ => Err(ConfigError::Invalid(
                "webhookSecret: give exactly one of env or file".into(),
            )),
        }
    }

    /// Reads the secret. Missing, unreadable or empty is an error naming the variable or file.
    pub fn read(&self) -> Result<Vec<u8>, ConfigError> {
        let (value, source) = match (&self.env, &self.file) {
            (Some(name), _) => (
                std::env::var(name).ok(),
                format!("environment variable {name}"),
            ),
            (None, Some(path)) => (
                std::fs::read_to_string(path).ok(),
                format!("file {}", path.display()),
            ),
            (None, None) => (None, "nothing (set env or file)".to_string()),
        };
        match value.map(|v| v.trim().to_string()) {
            Some(v) if !v.is_empty() => Ok(v.into_bytes()),
            _ => Err(ConfigError::Invalid(format!(
                "{source} is missing or empty"
            ))),
        }
    }
}

/// An app's `pruneGuard:` section as written.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PruneGuardConfig {
    /// Most of the app's live objects one sync may prune, in percent (default 50).
    #[serde(default)]
    pub max_percent: Option<u8>,
    /// A commit may prune every object of the app (default false).
    #[serde(default)]
    pub allow_empty: Option<bool>,
}

impl PruneGuardConfig {
    fn resolve(self) -> Result<PruneGuard, ConfigError> {
        let defaults = PruneGuard::default();
        let max_percent = self.max_percent.unwrap_or(defaults.max_percent);
        if max_percent > 100 {
            return Err(ConfigError::Invalid(format!(
                "pruneGuard.maxPercent {max_percent}: must be between 0 and 100"
            )));
        }
        Ok(PruneGuard {
            max_percent,
            allow_empty: self.allow_empty.unwrap_or(defaults.allow_empty),
            allow_mass_prune: false,
        })
    }
}

/// An app's `gates:` section as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatesConfig {
    /// `false`: apply every wave without waiting for rollouts.
    #[serde(default)]
    pub wait: Option<bool>,
    /// Per-object rollout timeout (`5m`).
    #[serde(default)]
    pub timeout: Option<String>,
    /// How long a pod must keep failing before the gate fails (`20s`).
    #[serde(default)]
    pub grace: Option<String>,
    /// Pods that may be failing without failing the gate.
    #[serde(default)]
    pub failures_allowed: Option<u32>,
    /// `skip`, `wait` or `restart-pods` for `updateStrategy: OnDelete`.
    #[serde(default)]
    pub on_delete: Option<String>,
}

impl GatesConfig {
    fn resolve(self) -> Result<AppGates, ConfigError> {
        let duration = |field: &str, text: Option<String>| {
            text.map(|t| {
                crate::duration::parse_duration(&t)
                    .map_err(|e| ConfigError::Invalid(format!("gates.{field} {t:?}: {e}")))
            })
            .transpose()
        };
        Ok(AppGates {
            wait: self.wait,
            timeout: duration("timeout", self.timeout)?,
            grace: duration("grace", self.grace)?,
            failures_allowed: self.failures_allowed,
            on_delete: self
                .on_delete
                .map(|v| {
                    crate::rollout::OnDeletePolicy::parse(&v).ok_or_else(|| {
                        ConfigError::Invalid(format!(
                            "gates.onDelete {v:?}: expected skip, wait or restart-pods"
                        ))
                    })
                })
                .transpose()?,
        })
    }
}

/// An app's gate settings, resolved; unset fields fall back to the command's defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppGates {
    /// `Some(false)`: don't gate this app's rollouts.
    pub wait: Option<bool>,
    /// Per-object rollout timeout.
    pub timeout: Option<std::time::Duration>,
    /// Failure grace period per pod.
    pub grace: Option<std::time::Duration>,
    /// Failing pods tolerated.
    pub failures_allowed: Option<u32>,
    /// OnDelete policy.
    pub on_delete: Option<crate::rollout::OnDeletePolicy>,
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
