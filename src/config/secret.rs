//! Secrets by reference (an environment variable or a file), never by value.

use std::path::PathBuf;

use serde::Deserialize;

use super::ConfigError;

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
    pub(super) fn validated(self) -> Result<SecretRef, ConfigError> {
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
            (None, Some(path)) => match std::fs::read_to_string(path) {
                Ok(text) => (Some(text), format!("file {}", path.display())),
                Err(source) => {
                    return Err(ConfigError::Read {
                        path: path.clone(),
                        source,
                    })
                }
            },
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
