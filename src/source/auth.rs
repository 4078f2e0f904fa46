//! Git credentials: SSH key (file or agent) and HTTPS token / basic auth, SSH host key
//! verification against a known_hosts file, and the deadline every network operation runs
//! under. Secrets are read lazily when git asks, are never logged, never part of `Debug`
//! output, never stored in the cache clone (only the credential callback hands them to
//! libgit2), and never offered over plain `http://` unless `allowPlainHttp` says so.

use std::path::PathBuf;
use std::time::Instant;

use git2::{CertificateCheckStatus, Cred, CredentialType, RemoteCallbacks};

use super::known_hosts::{self, OfferedKey};
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
    /// OpenSSH known_hosts file that SSH host keys are checked against (default
    /// `~/.ssh/known_hosts`); an unknown or changed key fails the fetch.
    #[serde(default)]
    pub known_hosts_file: Option<PathBuf>,
    /// Offer the token over plain `http://` too (a git server in the same pod or on
    /// loopback); without it ferry refuses, since anyone on the path could read the token.
    #[serde(default)]
    pub allow_plain_http: bool,
}

impl std::fmt::Debug for GitAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Only where secrets come from, never the secrets.
        f.debug_struct("GitAuth")
            .field("ssh_key_file", &self.ssh_key_file)
            .field("username", &self.username)
            .field("token_file", &self.token_file)
            .field("token_env", &self.token_env)
            .field("known_hosts_file", &self.known_hosts_file)
            .field("allow_plain_http", &self.allow_plain_http)
            .finish()
    }
}

impl GitAuth {
    /// True when an HTTPS secret is configured.
    pub fn has_token(&self) -> bool {
        self.token_env.is_some() || self.token_file.is_some()
    }

    /// Refuses to send the token to `url` over plain HTTP (unless `allowPlainHttp`).
    pub fn check_transport(&self, url: &str) -> Result<(), SourceError> {
        if self.has_token() && !self.allow_plain_http && is_plain_http(url) {
            return Err(SourceError::Credentials(format!(
                "refusing to send the token (auth.tokenFile/tokenEnv) over plain http to {}: \
                 use https, or set auth.allowPlainHttp: true for a server on a trusted link",
                super::strip_userinfo(url)
            )));
        }
        Ok(())
    }

    /// The known_hosts file SSH host keys are checked against.
    pub fn known_hosts(&self) -> PathBuf {
        self.known_hosts_file
            .clone()
            .unwrap_or_else(known_hosts::default_file)
    }

    /// Where the HTTPS secret comes from, in words (`auth.tokenFile /path`).
    fn token_source(&self) -> String {
        match (&self.token_env, &self.token_file) {
            (Some(var), _) => format!("auth.tokenEnv {var}"),
            (None, Some(path)) => format!("auth.tokenFile {}", path.display()),
            (None, None) => "nowhere".into(),
        }
    }

    /// Reads the HTTPS secret, if one is configured.
    fn token(&self) -> Result<Option<String>, SourceError> {
        if let Some(var) = &self.token_env {
            let value = std::env::var(var).map_err(|_| {
                SourceError::Credentials(format!("environment variable {var} is not set"))
            })?;
            return Ok(Some(value.trim().to_string()));
        }
        if let Some(path) = &self.token_file {
            let value = std::fs::read_to_string(path).map_err(|source| SourceError::Io {
                context: format!("git credentials: cannot read token file {}", path.display()),
                source,
            })?;
            return Ok(Some(value.trim().to_string()));
        }
        Ok(None)
    }

    /// Builds libgit2 callbacks answering credential requests from this configuration.
    /// libgit2 asks again after a rejected credential; we answer each kind once so a wrong
    /// secret ends in an authentication error instead of a loop.
    /// `url` is the remote (for the port of SSH host keys); once `deadline` passes, the
    /// transfer is aborted at the next progress report.
    pub(crate) fn callbacks(
        &self,
        url: &str,
        deadline: Option<Instant>,
    ) -> Result<RemoteCallbacks<'static>, SourceError> {
        self.check_transport(url)?;
        take_hostkey_refusal();
        OFFERED.with(|slot| slot.borrow_mut().take());
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
        callbacks.credentials(move |url, username_from_url, allowed| {
            if allowed.contains(CredentialType::SSH_KEY) && !tried_ssh {
                tried_ssh = true;
                let user = username_from_url.unwrap_or("git");
                if let Some(key) = &auth.ssh_key_file {
                    offered(format!(
                        "the SSH key {} (auth.sshKeyFile) for user {user}: is its public key \
                         registered with the forge, for an account that may read the repository?",
                        key.display()
                    ));
                    return Cred::ssh_key(user, None, key, passphrase.as_deref());
                }
                offered(format!(
                    "the SSH agent's keys for user {user} (set auth.sshKeyFile to use a key file)"
                ));
                return Cred::ssh_key_from_agent(user);
            }
            if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) && !tried_plain {
                tried_plain = true;
                if token.is_some() && !auth.allow_plain_http && is_plain_http(url) {
                    // A redirect from https to http lands here.
                    return Err(git2::Error::from_str(
                        "refusing to send the token over plain http (auth.allowPlainHttp)",
                    ));
                }
                if let Some(token) = &token {
                    let user = auth
                        .username
                        .as_deref()
                        .or(username_from_url)
                        .unwrap_or("git");
                    offered(format!(
                        "the token from {} for user {user}: check that it is valid, not expired, \
                         and allowed to read the repository",
                        auth.token_source()
                    ));
                    return Cred::userpass_plaintext(user, token);
                }
            }
            if allowed.contains(CredentialType::USERNAME) {
                return Cred::username(username_from_url.unwrap_or("git"));
            }
            // Asked again after the configured credential was offered: it was refused.
            if let Some(refused) = OFFERED.with(|slot| slot.borrow().clone()) {
                return Err(git2::Error::from_str(&format!(
                    "the server refused {refused}"
                )));
            }
            Err(git2::Error::from_str(
                "authentication required but no usable credentials are configured \
                 (set auth.sshKeyFile, auth.tokenFile or auth.tokenEnv)",
            ))
        });
        let known_hosts = self.known_hosts();
        let port = ssh_port(url);
        callbacks.certificate_check(move |cert, host| {
            let Some(hostkey) = cert.as_hostkey() else {
                // TLS certificates: libgit2's own verification against the system roots.
                return Ok(CertificateCheckStatus::CertificatePassthrough);
            };
            let (Some(kind), Some(sha256)) = (hostkey.hostkey_type(), hostkey.hash_sha256()) else {
                return Err(git2::Error::from_str(&format!(
                    "SSH host {host} offered a key ferry cannot check against {}",
                    known_hosts.display()
                )));
            };
            let key = OfferedKey {
                key_type: kind.name(),
                blob: hostkey.hostkey(),
                sha256: *sha256,
            };
            known_hosts::verify_file(&known_hosts, host, port, &key)
                .map(|()| CertificateCheckStatus::CertificateOk)
                .map_err(|e| {
                    // libgit2 replaces the message with "invalid or unknown remote ssh
                    // hostkey"; keep ours for the error the caller builds on this thread.
                    let message = e.to_string();
                    HOSTKEY_REFUSAL.with(|slot| *slot.borrow_mut() = Some(message.clone()));
                    git2::Error::from_str(&message)
                })
        });
        if let Some(deadline) = deadline {
            callbacks.transfer_progress(move |_| Instant::now() < deadline);
            callbacks.sideband_progress(move |_| Instant::now() < deadline);
        }
        Ok(callbacks)
    }
}

thread_local! {
    /// Why the last host key on this thread was refused (libgit2 runs callbacks on the thread
    /// that called it, and drops the callback's message).
    static HOSTKEY_REFUSAL: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

thread_local! {
    /// The credential the last fetch on this thread offered, in words (never the secret).
    static OFFERED: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

fn offered(what: String) {
    OFFERED.with(|slot| *slot.borrow_mut() = Some(what));
}

/// Takes what credential the last fetch on this thread offered, if it offered one.
pub(crate) fn take_offered() -> Option<String> {
    OFFERED.with(|slot| slot.borrow_mut().take())
}

/// Takes the reason the last SSH host key on this thread was refused, if one was.
pub(crate) fn take_hostkey_refusal() -> Option<String> {
    HOSTKEY_REFUSAL.with(|slot| slot.borrow_mut().take())
}

/// True for `http://` URLs (not https).
fn is_plain_http(url: &str) -> bool {
    url.get(..7)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"))
}

/// The SSH port of a remote URL: `ssh://host:2222/…` → 2222, else 22 (scp-like URLs have no
/// port).
fn ssh_port(url: &str) -> u16 {
    let Some(rest) = url.strip_prefix("ssh://") else {
        return 22;
    };
    let authority = rest.split('/').next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let port = match host_port.rsplit_once(']') {
        Some((_, after)) => after.strip_prefix(':'),
        None => host_port.rsplit_once(':').map(|(_, p)| p),
    };
    port.and_then(|p| p.parse().ok()).unwrap_or(22)
}

#[cfg(test)]
#[path = "auth_tests.rs"]
mod tests;
