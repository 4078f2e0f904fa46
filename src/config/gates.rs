//! An app's `pruneGuard:` section, as written and resolved. (Its `gates:` section is
//! [`crate::rollout::GateSettings`]: the gate's own settings type parses it.)

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
