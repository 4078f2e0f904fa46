//! An app's `gates:` and `pruneGuard:` sections, as written and resolved.

use serde::Deserialize;

use super::ConfigError;
use crate::plan::guard::PruneGuard;

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
    pub(super) fn resolve(self) -> Result<PruneGuard, ConfigError> {
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
    pub(super) fn resolve(self) -> Result<AppGates, ConfigError> {
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
