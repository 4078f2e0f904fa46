//! The app configuration (`ferry.yaml`) and how command-line flags override it.
//!
//! ```yaml
//! ferryNamespace: ferry-system     # where ferry keeps its records (optional)
//! externalUrl: https://ferry.example.com  # where `ferry serve` is reachable: commit statuses link there
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
//!     render: auto                 # a kustomization.yaml in path is rendered; plain: never
//!   - name: node-agent             # a Helm chart of the repository, rendered by `helm template`
//!     repo: https://git.example.com/platform/cluster.git
//!     helm:
//!       chart: charts/node-agent   # the chart's directory (dependencies vendored in charts/)
//!       releaseName: node-agent    # default: the app name
//!       namespace: agents          # .Release.Namespace (default: the app's namespace)
//!       valuesFiles: [values/prod.yaml]
//!       values: { image: { tag: "1.4.2" } }   # inline, applied last
//!     notify:                      # sync events, sent in the background (src/notify)
//!       commitStatus: { forge: gitea, api: https://git.example.com, tokenFile: /etc/ferry/forge-token }
//!       webhooks:
//!         - { url: https://hooks.example.com/ferry, secretFile: /etc/ferry/hook-secret }
//!         - { url: https://hooks.slack.com/services/…, format: slack, events: [failed, rolledBack] }
//! ```

mod app;
mod gates;
mod secret;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use app::{default_app_name, AppConfig, AppSpec, FailurePolicy};
pub use gates::PruneGuardConfig;
pub use secret::SecretRef;

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigFile {
    /// Namespace for ferry's own records (inventory, history).
    #[serde(default)]
    pub ferry_namespace: Option<String>,
    /// Where `ferry serve` is reachable from a browser (`https://ferry.example.com`):
    /// commit statuses and webhook events link to the app's history there.
    #[serde(default)]
    pub external_url: Option<String>,
    /// The apps ferry reconciles.
    #[serde(default)]
    pub apps: Vec<AppConfig>,
}

/// Configuration problems.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid YAML for this schema.
    #[error("{path}:{line}: {source}")]
    Parse {
        /// The path concerned.
        path: PathBuf,
        /// The line (1-based).
        line: usize,
        /// The underlying error.
        #[source]
        source: serde_yaml::Error,
    },
    /// Semantically wrong settings.
    #[error("{0}")]
    Invalid(String),
    /// A value of an app's `gates:` section that cannot be used.
    #[error(transparent)]
    Gates(#[from] crate::rollout::GateSettingsError),
    /// The repository settings are refused by `source` (credentials in the URL, a token over
    /// plain http).
    #[error(transparent)]
    Source(#[from] crate::source::SourceError),
}

/// Reads and parses `ferry.yaml`.
pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut file: ConfigFile = serde_yaml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        line: e.location().map_or(0, |l| l.line()),
        source: e,
    })?;
    file.check_unique_names()
        .map_err(|message| ConfigError::Invalid(format!("{}: {message}", path.display())))?;
    for app in &mut file.apps {
        app.external_url.clone_from(&file.external_url);
    }
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
