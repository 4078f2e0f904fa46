//! SSH host key verification against an OpenSSH `known_hosts` file (`auth.knownHostsFile`,
//! default `~/.ssh/known_hosts`), the way `ssh` with `StrictHostKeyChecking yes` decides:
//! the server's key must be listed for the host (`host`, or `[host]:port` off port 22; `*`/`?`
//! patterns and `!` negations as in OpenSSH); a listed host with a different key, a
//! `@revoked` key, or a host not listed at all is refused with an error naming host and file.
//! Hashed entries (`|1|…`, `ssh-keyscan -H`) are not read: list hosts by name.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// Why a host key was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HostKeyError {
    /// The file could not be read.
    #[error("cannot read known hosts file {path}: {cause} (set auth.knownHostsFile)")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        cause: String,
    },
    /// No entry for the host (or for its key type).
    #[error(
        "unknown SSH host key for {host}: {file} has no {key_type} key for it; after checking \
         that the fingerprint {fingerprint} is the server's, add it with \
         `{keyscan} >> {file}`"
    )]
    Unknown {
        /// The host as matched (`host` or `[host]:port`).
        host: String,
        /// The known_hosts file.
        file: String,
        /// The key type offered.
        key_type: String,
        /// SHA256 fingerprint of the offered key, as `ssh-keygen -l` prints it.
        fingerprint: String,
        /// The `ssh-keyscan` command that prints the server's keys.
        keyscan: String,
    },
    /// The host is listed with another key of this type: changed key or impostor.
    #[error(
        "SSH host key for {host} does NOT match {file}: the server offered {key_type} \
         {fingerprint}; if the server's key really changed, replace its line in {file}"
    )]
    Changed {
        /// The host as matched.
        host: String,
        /// The known_hosts file.
        file: String,
        /// The key type offered.
        key_type: String,
        /// SHA256 fingerprint of the offered key.
        fingerprint: String,
    },
    /// The key is marked `@revoked`.
    #[error("SSH host key {fingerprint} of {host} is marked @revoked in {file}")]
    Revoked {
        /// The host as matched.
        host: String,
        /// The known_hosts file.
        file: String,
        /// SHA256 fingerprint of the offered key.
        fingerprint: String,
    },
}

/// The offered key: its type name (`ssh-ed25519`, …) and its wire-format blob (what
/// known_hosts stores base64-encoded).
#[derive(Debug, Clone)]
pub struct OfferedKey<'a> {
    /// Key type as OpenSSH names it.
    pub key_type: &'a str,
    /// The raw key blob, when libgit2 provides it.
    pub blob: Option<&'a [u8]>,
    /// SHA-256 of the blob.
    pub sha256: [u8; 32],
}

/// `SHA256:<base64 without padding>`, as `ssh-keygen -l` prints fingerprints.
pub fn fingerprint(sha256: &[u8; 32]) -> String {
    format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(sha256)
    )
}

/// The default file: `$HOME/.ssh/known_hosts`.
pub fn default_file() -> PathBuf {
    std::env::var_os("HOME")
        .map_or_else(|| PathBuf::from("/"), PathBuf::from)
        .join(".ssh")
        .join("known_hosts")
}

/// Checks `key` offered by `host` on `port` against the known_hosts `file`.
pub fn verify_file(
    file: &Path,
    host: &str,
    port: u16,
    key: &OfferedKey<'_>,
) -> Result<(), HostKeyError> {
    let text = std::fs::read_to_string(file).map_err(|e| HostKeyError::Unreadable {
        path: file.to_path_buf(),
        cause: e.to_string(),
    })?;
    verify(&text, &file.display().to_string(), host, port, key)
}

/// Checks `key` against known_hosts `text` (named `file` in errors).
pub fn verify(
    text: &str,
    file: &str,
    host: &str,
    port: u16,
    key: &OfferedKey<'_>,
) -> Result<(), HostKeyError> {
    let name = if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    };
    let print = fingerprint(&key.sha256);
    let mut same_type_listed = false;
    let mut accepted = false;
    for line in text.lines() {
        let Some(entry) = Entry::parse(line) else {
            continue;
        };
        if !entry.matches(&name) {
            continue;
        }
        let same_key = entry.key_type == key.key_type && entry.same_key(key);
        if entry.revoked {
            if same_key {
                return Err(HostKeyError::Revoked {
                    host: name,
                    file: file.to_string(),
                    fingerprint: print,
                });
            }
            continue;
        }
        if entry.key_type == key.key_type {
            same_type_listed = true;
            accepted |= same_key;
        }
    }
    if accepted {
        Ok(())
    } else if same_type_listed {
        Err(HostKeyError::Changed {
            host: name,
            file: file.to_string(),
            key_type: key.key_type.to_string(),
            fingerprint: print,
        })
    } else {
        Err(HostKeyError::Unknown {
            host: name,
            file: file.to_string(),
            key_type: key.key_type.to_string(),
            fingerprint: print,
            keyscan: if port == 22 {
                format!("ssh-keyscan {host}")
            } else {
                format!("ssh-keyscan -p {port} {host}")
            },
        })
    }
}

/// One usable known_hosts line.
struct Entry<'a> {
    revoked: bool,
    patterns: &'a str,
    key_type: &'a str,
    blob: Vec<u8>,
}

impl<'a> Entry<'a> {
    /// Parses a line; comments, blank lines, `@cert-authority` lines, hashed hosts and
    /// malformed lines yield `None` (OpenSSH skips what it cannot use, too).
    fn parse(line: &'a str) -> Option<Entry<'a>> {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return None;
        }
        let mut fields = line.split_ascii_whitespace();
        let mut first = fields.next()?;
        let mut revoked = false;
        if let Some(marker) = first.strip_prefix('@') {
            match marker {
                "revoked" => revoked = true,
                _ => return None,
            }
            first = fields.next()?;
        }
        if first.starts_with('|') {
            return None;
        }
        let key_type = fields.next()?;
        let blob = base64::engine::general_purpose::STANDARD
            .decode(fields.next()?)
            .ok()?;
        Some(Entry {
            revoked,
            patterns: first,
            key_type,
            blob,
        })
    }

    /// OpenSSH pattern-list semantics: some positive pattern matches and no negated one does.
    fn matches(&self, name: &str) -> bool {
        let mut positive = false;
        for pattern in self.patterns.split(',') {
            match pattern.strip_prefix('!') {
                Some(negated) if glob(negated, name) => return false,
                Some(_) => {}
                None => positive |= glob(pattern, name),
            }
        }
        positive
    }

    fn same_key(&self, key: &OfferedKey<'_>) -> bool {
        match key.blob {
            Some(blob) => self.blob == blob,
            None => <[u8; 32]>::from(Sha256::digest(&self.blob)) == key.sha256,
        }
    }
}

/// `*` and `?` wildcards, ASCII case-insensitive (host names are).
fn glob(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

#[cfg(test)]
#[path = "known_hosts_tests.rs"]
mod tests;
