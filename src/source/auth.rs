//! Git credentials: SSH key (file or agent) and HTTPS token / basic auth. Secrets are read
//! lazily when git asks, are never logged, and are never part of `Debug` output.

use std::path::PathBuf;

use git2::{Cred, CredentialType, RemoteCallbacks};

use super::SourceError;

/// How to authenticate to the remote. Empty means anonymous (or the SSH agent for ssh URLs).
#[derive(Clone, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GitAuth {
    /// Private key file for ssh URLs; without it the SSH agent is asked.
    #[serde(default)]
    pub ssh_key_file: Option<PathBuf>,
    /// Environment variable holding the SSH key's passphrase.
    #[serde(default)]
    pub ssh_passphrase_env: Option<String>,
    /// User name for HTTPS (default `git`; GitLab wants `oauth2`, any value works for GitHub tokens).
    #[serde(default)]
    pub username: Option<String>,
    /// File holding an HTTPS token or password.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// Environment variable holding an HTTPS token or password.
    #[serde(default)]
    pub token_env: Option<String>,
}

impl std::fmt::Debug for GitAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Only where secrets come from, never the secrets.
        f.debug_struct("GitAuth")
            .field("ssh_key_file", &self.ssh_key_file)
            .field("username", &self.username)
            .field("token_file", &self.token_file)
            .field("token_env", &self.token_env)
            .finish()
    }
}

impl GitAuth {
    /// Reads the HTTPS secret, if one is configured.
    fn token(&self) -> Result<Option<String>, SourceError> {
        if let Some(var) = &self.token_env {
            let value = std::env::var(var).map_err(|_| {
                SourceError::Credentials(format!("environment variable {var} is not set"))
            })?;
            return Ok(Some(value.trim().to_string()));
        }
        if let Some(path) = &self.token_file {
            let value = std::fs::read_to_string(path).map_err(|e| {
                SourceError::Credentials(format!("cannot read token file {}: {e}", path.display()))
            })?;
            return Ok(Some(value.trim().to_string()));
        }
        Ok(None)
    }

    /// Builds libgit2 callbacks answering credential requests from this configuration.
    /// libgit2 asks again after a rejected credential; we answer each kind once so a wrong
    /// secret ends in an authentication error instead of a loop.
    pub(crate) fn callbacks(&self) -> Result<RemoteCallbacks<'static>, SourceError> {
        let token = self.token()?;
        let auth = self.clone();
        let passphrase = match &self.ssh_passphrase_env {
            Some(var) => Some(std::env::var(var).map_err(|_| {
                SourceError::Credentials(format!("environment variable {var} is not set"))
            })?),
            None => None,
        };
        let mut tried_ssh = false;
        let mut tried_plain = false;
        let mut callbacks = RemoteCallbacks::new();
        callbacks.credentials(move |_url, username_from_url, allowed| {
            if allowed.contains(CredentialType::SSH_KEY) && !tried_ssh {
                tried_ssh = true;
                let user = username_from_url.unwrap_or("git");
                return match &auth.ssh_key_file {
                    Some(key) => Cred::ssh_key(user, None, key, passphrase.as_deref()),
                    None => Cred::ssh_key_from_agent(user),
                };
            }
            if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) && !tried_plain {
                tried_plain = true;
                if let Some(token) = &token {
                    let user = auth
                        .username
                        .as_deref()
                        .or(username_from_url)
                        .unwrap_or("git");
                    return Cred::userpass_plaintext(user, token);
                }
            }
            if allowed.contains(CredentialType::USERNAME) {
                return Cred::username(username_from_url.unwrap_or("git"));
            }
            Err(git2::Error::from_str(
                "authentication required but no usable credentials are configured \
                 (set auth.sshKeyFile, auth.tokenFile or auth.tokenEnv)",
            ))
        });
        Ok(callbacks)
    }
}
