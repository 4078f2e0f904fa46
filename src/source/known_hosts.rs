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
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"))
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
mod tests {
    use super::*;

    const ED: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIGXrQhgedYmS957sIh9YKYY5plj7ZZsVc8Zm8IaEOeSI";
    const OTHER: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIPnjDIvbO62ra7wAsltd7iQxc9RavzgAcgNqyxNxzyAI";

    fn offered(b64: &str) -> (Vec<u8>, [u8; 32]) {
        let blob = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let sha = Sha256::digest(&blob).into();
        (blob, sha)
    }

    fn check(
        text: &str,
        host: &str,
        port: u16,
        b64: &str,
        with_blob: bool,
    ) -> Result<(), HostKeyError> {
        let (blob, sha256) = offered(b64);
        let key = OfferedKey {
            key_type: "ssh-ed25519",
            blob: with_blob.then_some(blob.as_slice()),
            sha256,
        };
        verify(text, "kh", host, port, &key)
    }

    #[test]
    fn a_listed_key_is_accepted_by_blob_or_by_hash() {
        let text = format!("# comment\n\ngit.example.com,10.0.0.1 ssh-ed25519 {ED} me@host\n");
        assert_eq!(check(&text, "git.example.com", 22, ED, true), Ok(()));
        assert_eq!(check(&text, "GIT.example.com", 22, ED, false), Ok(()));
        assert_eq!(check(&text, "10.0.0.1", 22, ED, true), Ok(()));
    }

    #[test]
    fn ports_other_than_22_use_brackets() {
        let text = format!("[127.0.0.1]:2222 ssh-ed25519 {ED}\n");
        assert_eq!(check(&text, "127.0.0.1", 2222, ED, true), Ok(()));
        let err = check(&text, "127.0.0.1", 22, ED, true).unwrap_err();
        assert!(matches!(err, HostKeyError::Unknown { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("unknown SSH host key for 127.0.0.1"),
            "{err}"
        );
    }

    #[test]
    fn a_different_key_is_a_changed_key_naming_host_and_file() {
        let text = format!("git.example.com ssh-ed25519 {ED}\n");
        let err = check(&text, "git.example.com", 22, OTHER, true).unwrap_err();
        let (_, sha) = offered(OTHER);
        assert_eq!(
            err,
            HostKeyError::Changed {
                host: "git.example.com".into(),
                file: "kh".into(),
                key_type: "ssh-ed25519".into(),
                fingerprint: fingerprint(&sha),
            }
        );
        assert!(err.to_string().contains("does NOT match kh"), "{err}");
    }

    #[test]
    fn unknown_hosts_say_how_to_add_them() {
        let text = format!("other.example.com ssh-ed25519 {ED}\n");
        let err = check(&text, "git.example.com", 2222, ED, true).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("[git.example.com]:2222"), "{msg}");
        assert!(
            msg.contains("ssh-keyscan -p 2222 git.example.com >> kh"),
            "{msg}"
        );
        // Only another key type listed: still unknown for this type.
        let text = "git.example.com ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ==\n";
        let err = check(text, "git.example.com", 22, ED, true).unwrap_err();
        assert!(matches!(err, HostKeyError::Unknown { .. }), "{err}");
    }

    #[test]
    fn patterns_negations_revocations_and_hashed_lines() {
        let text = format!("*.example.com,!evil.example.com ssh-ed25519 {ED}\n");
        assert_eq!(check(&text, "git.example.com", 22, ED, true), Ok(()));
        assert!(check(&text, "evil.example.com", 22, ED, true).is_err());
        let text = format!("@revoked * ssh-ed25519 {ED}\ngit.example.com ssh-ed25519 {ED}\n");
        let err = check(&text, "git.example.com", 22, ED, true).unwrap_err();
        assert!(matches!(err, HostKeyError::Revoked { .. }), "{err}");
        let text = format!("|1|c2FsdA==|aGFzaA== ssh-ed25519 {ED}\n");
        assert!(check(&text, "git.example.com", 22, ED, true).is_err());
        assert!(glob("g?t.*", "git.example.com"));
        assert!(!glob("g?t", "gt"));
    }
}
