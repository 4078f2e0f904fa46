//! Forge webhooks: signature verification and push-payload parsing, one function per request.
//!
//! The signature (or GitLab's token) is checked in constant time over the raw body before any
//! JSON is parsed, so an unauthenticated sender never reaches the parser.

use std::collections::HashMap;
use std::fmt;

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::payload::{bitbucket, generic, github_like, gitlab, json};
use super::repo_url::same_repo;
use super::touches_path;

/// Which forge sent a webhook; picks the signature scheme, the event header and payload shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Forge {
    /// GitHub (`X-Hub-Signature-256`, `X-GitHub-Event`).
    GitHub,
    /// GitLab (`X-Gitlab-Token`, `X-Gitlab-Event`).
    GitLab,
    /// Gitea (`X-Gitea-Signature`, `X-Gitea-Event`).
    Gitea,
    /// Forgejo (`X-Forgejo-Signature`, `X-Forgejo-Event`; Gitea's headers also accepted).
    Forgejo,
    /// Bitbucket Cloud (`X-Hub-Signature: sha256=…`, `X-Event-Key`).
    Bitbucket,
    /// ferry's own format (`X-Ferry-Signature: sha256=…`, optional `X-Ferry-Event`).
    Generic,
}

impl Forge {
    /// Every forge, in a stable order.
    pub const ALL: [Forge; 6] = [
        Forge::GitHub,
        Forge::GitLab,
        Forge::Gitea,
        Forge::Forgejo,
        Forge::Bitbucket,
        Forge::Generic,
    ];

    /// Lowercase name, as in `/hooks/<name>` and metric labels: `github`, `gitlab`, `gitea`,
    /// `forgejo`, `bitbucket`, `generic`.
    pub fn as_str(self) -> &'static str {
        match self {
            Forge::GitHub => "github",
            Forge::GitLab => "gitlab",
            Forge::Gitea => "gitea",
            Forge::Forgejo => "forgejo",
            Forge::Bitbucket => "bitbucket",
            Forge::Generic => "generic",
        }
    }

    /// The forge named by `name` (an [`as_str`](Forge::as_str) value, any case; `ferry` is an
    /// alias of `generic`), or `None`.
    pub fn parse(name: &str) -> Option<Forge> {
        let name = name.trim();
        if name.eq_ignore_ascii_case("ferry") {
            return Some(Forge::Generic);
        }
        Forge::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(name))
    }

    /// Guesses the forge from a request's (lowercase) header names, for a single catch-all
    /// endpoint. Forgejo and Gitea are checked first because they also send GitHub's event
    /// header.
    pub fn detect(headers: &HashMap<String, String>) -> Option<Forge> {
        let has = |name: &str| header(headers, name).is_some();
        if has("x-forgejo-event") || has("x-forgejo-signature") {
            Some(Forge::Forgejo)
        } else if has("x-gitea-event") || has("x-gitea-signature") {
            Some(Forge::Gitea)
        } else if has("x-gitlab-event") || has("x-gitlab-token") {
            Some(Forge::GitLab)
        } else if has("x-github-event") || has("x-hub-signature-256") {
            Some(Forge::GitHub)
        } else if has("x-event-key") {
            Some(Forge::Bitbucket)
        } else if has("x-ferry-signature") {
            Some(Forge::Generic)
        } else {
            None
        }
    }
}

impl fmt::Display for Forge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A verified, parsed webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookEvent {
    /// A push (branch or tag, including a deletion): match it against the apps.
    Push(PushEvent),
    /// The forge testing the hook (GitHub `ping`, Bitbucket `diagnostics:ping`, …): answer OK.
    Ping,
    /// A verified event ferry does not act on (answer 202, trigger nothing).
    Ignored {
        /// The forge's event name, e.g. `pull_request` or `Merge Request Hook`.
        event: String,
    },
}

/// One push, as far as ferry needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushEvent {
    /// The forge that sent it.
    pub forge: Forge,
    /// Every URL the payload gives for the repository (clone, ssh, web…), deduplicated; match
    /// with [`PushEvent::matches_repo`].
    pub repo_urls: Vec<String>,
    /// The full ref pushed: `refs/heads/main`, `refs/tags/v1`.
    pub git_ref: String,
    /// The ref's new commit; `None` when the ref was deleted or the payload does not say.
    pub after: Option<String>,
    /// True when the push deleted the ref (all-zero `after`, `deleted: true`, Bitbucket
    /// `closed`); the caller decides what that means for an app.
    pub deleted: bool,
    /// Sorted union of the files added, modified and removed by the pushed commits, when the
    /// payload lists them completely. `None` means "unknown: trigger every app of this repo and
    /// ref" — for Bitbucket, new refs, deletions, tags, force pushes, empty or possibly
    /// truncated commit lists.
    pub changed_files: Option<Vec<String>>,
}

impl PushEvent {
    /// The branch name when the ref is `refs/heads/<branch>`.
    pub fn branch(&self) -> Option<&str> {
        self.git_ref.strip_prefix("refs/heads/")
    }

    /// The tag name when the ref is `refs/tags/<tag>`.
    pub fn tag(&self) -> Option<&str> {
        self.git_ref.strip_prefix("refs/tags/")
    }

    /// True when any of the payload's URLs names the same repository as `url`
    /// (see [`normalize_repo_url`](super::normalize_repo_url)).
    pub fn matches_repo(&self, url: &str) -> bool {
        self.repo_urls.iter().any(|u| same_repo(u, url))
    }

    /// True when the push may concern an app whose manifests are under `app_path`: always when
    /// the changed files are unknown, else [`touches_path`](super::touches_path).
    pub fn touches(&self, app_path: &str) -> bool {
        self.changed_files
            .as_deref()
            .is_none_or(|files| touches_path(files, app_path))
    }
}

/// Why a delivery was refused. The message never contains the secret, the signature or the
/// token sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// No secret is configured: an empty HMAC key or token would authenticate anyone.
    #[error("no webhook secret configured; refusing the delivery")]
    NoSecret,
    /// The signature (or GitLab token) header is absent.
    #[error("missing webhook signature")]
    MissingSignature,
    /// The signature or token does not match the secret, or is malformed.
    #[error("webhook signature does not match")]
    BadSignature,
    /// The event header the forge always sends is absent.
    #[error("missing webhook event header")]
    MissingEvent,
    /// The body is not the JSON this forge sends for this event.
    #[error("bad webhook payload: {0}")]
    BadPayload(String),
}

impl WebhookError {
    /// The HTTP status to answer with: 401 for authentication failures (including a missing
    /// secret: nothing is revealed), 400 for a missing event or a bad payload.
    pub fn http_status(&self) -> u16 {
        match self {
            WebhookError::NoSecret
            | WebhookError::MissingSignature
            | WebhookError::BadSignature => 401,
            WebhookError::MissingEvent | WebhookError::BadPayload(_) => 400,
        }
    }
}

/// Verifies one delivery from `forge` and parses it. `headers` maps lowercase header names to
/// values; `body` is the raw request body; `secret` is the hook's shared secret (must not be
/// empty). The signature is checked before the body is parsed.
///
/// Payload notes: GitHub, Gitea and Forgejo read `repository.{clone_url,ssh_url,html_url,
/// git_url}`, `ref`, `after`, `commits[].{added,modified,removed}`. GitLab reads
/// `project.{git_http_url,git_ssh_url,web_url,…}` and accepts `Push Hook`, `Tag Push Hook` and
/// push-kind `System Hook`s. Bitbucket derives the https and ssh clone URLs from
/// `repository.full_name`; of several `push.changes` it reports the first branch change (else the
/// first change), and never lists files. The generic body is
/// `{"repository": url, "ref": "refs/heads/main" or "main", "after"?: sha, "changedFiles"?: [..]}`.
pub fn verify_and_parse(
    forge: Forge,
    headers: &HashMap<String, String>,
    body: &[u8],
    secret: &[u8],
) -> Result<WebhookEvent, WebhookError> {
    if secret.is_empty() {
        return Err(WebhookError::NoSecret);
    }
    verify(forge, headers, body, secret)?;
    match forge {
        Forge::GitHub => {
            let event = header(headers, "x-github-event").ok_or(WebhookError::MissingEvent)?;
            match event {
                "push" => Ok(WebhookEvent::Push(github_like(forge, &json(body)?)?)),
                "ping" => Ok(WebhookEvent::Ping),
                other => Ok(ignored(other)),
            }
        }
        Forge::Gitea | Forge::Forgejo => {
            let event = if forge == Forge::Forgejo {
                header(headers, "x-forgejo-event").or_else(|| header(headers, "x-gitea-event"))
            } else {
                header(headers, "x-gitea-event")
            };
            match event.ok_or(WebhookError::MissingEvent)? {
                "push" => Ok(WebhookEvent::Push(github_like(forge, &json(body)?)?)),
                "ping" => Ok(WebhookEvent::Ping),
                other => Ok(ignored(other)),
            }
        }
        Forge::GitLab => {
            let event = header(headers, "x-gitlab-event").ok_or(WebhookError::MissingEvent)?;
            let is_push = event.eq_ignore_ascii_case("Push Hook")
                || event.eq_ignore_ascii_case("Tag Push Hook");
            if is_push {
                return Ok(WebhookEvent::Push(gitlab(&json(body)?)?));
            }
            if event.eq_ignore_ascii_case("System Hook") {
                let v = json(body)?;
                let kind = v
                    .get("object_kind")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if matches!(kind, "push" | "tag_push") {
                    return Ok(WebhookEvent::Push(gitlab(&v)?));
                }
            }
            Ok(ignored(event))
        }
        Forge::Bitbucket => {
            let event = header(headers, "x-event-key").ok_or(WebhookError::MissingEvent)?;
            match event {
                "repo:push" => Ok(WebhookEvent::Push(bitbucket(&json(body)?)?)),
                "diagnostics:ping" => Ok(WebhookEvent::Ping),
                other => Ok(ignored(other)),
            }
        }
        Forge::Generic => match header(headers, "x-ferry-event").unwrap_or("push") {
            "push" => Ok(WebhookEvent::Push(generic(body)?)),
            "ping" => Ok(WebhookEvent::Ping),
            other => Ok(ignored(other)),
        },
    }
}

/// A header's trimmed, non-empty value; keys are expected lowercase but any case is found.
fn header<'a>(headers: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .or_else(|| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
}

fn ignored(event: &str) -> WebhookEvent {
    WebhookEvent::Ignored {
        event: event.to_string(),
    }
}

/// Checks the forge's signature or token against `secret`, in constant time.
fn verify(
    forge: Forge,
    headers: &HashMap<String, String>,
    body: &[u8],
    secret: &[u8],
) -> Result<(), WebhookError> {
    let get = |name| header(headers, name);
    // (header value, whether it carries a `sha256=` prefix)
    let signature = match forge {
        Forge::GitLab => {
            let token = get("x-gitlab-token").ok_or(WebhookError::MissingSignature)?;
            // Hash both sides so the comparison is constant-time in the length too.
            let ok: bool = Sha256::digest(token.as_bytes())
                .ct_eq(&Sha256::digest(secret))
                .into();
            return if ok {
                Ok(())
            } else {
                Err(WebhookError::BadSignature)
            };
        }
        Forge::GitHub => get("x-hub-signature-256").map(|s| (s, true)),
        Forge::Gitea => get("x-gitea-signature")
            .map(|s| (s, false))
            .or_else(|| get("x-hub-signature-256").map(|s| (s, true))),
        Forge::Forgejo => get("x-forgejo-signature")
            .or_else(|| get("x-gitea-signature"))
            .map(|s| (s, false))
            .or_else(|| get("x-hub-signature-256").map(|s| (s, true))),
        Forge::Bitbucket => get("x-hub-signature").map(|s| (s, true)),
        Forge::Generic => get("x-ferry-signature").map(|s| (s, true)),
    };
    let (value, prefixed) = signature.ok_or(WebhookError::MissingSignature)?;
    let hex_digest = if prefixed {
        strip_prefix_ci(value, "sha256=").ok_or(WebhookError::BadSignature)?
    } else {
        value
    };
    let given = hex::decode(hex_digest).map_err(|_| WebhookError::BadSignature)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| WebhookError::BadSignature)?;
    mac.update(body);
    let expected = mac.finalize().into_bytes();
    let ok: bool = expected.as_slice().ct_eq(&given).into();
    if ok {
        Ok(())
    } else {
        Err(WebhookError::BadSignature)
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

#[cfg(test)]
#[path = "webhook_forge_tests.rs"]
mod forge_tests;
#[cfg(test)]
#[path = "webhook_generic_tests.rs"]
mod generic_tests;
#[cfg(test)]
#[path = "webhook_tests.rs"]
mod tests;
