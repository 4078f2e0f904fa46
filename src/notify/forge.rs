//! Each forge's commit status request, built from an event: pure, so a unit test (and the
//! receivers of `tests/notify_forges.rs`) can hold it against the forge's documented API.
//!
//! - Gitea/Forgejo: `POST {api}/api/v1/repos/{owner}/{repo}/statuses/{sha}`,
//!   `Authorization: token …`, body `state` (pending, success, error, failure, warning),
//!   `target_url`, `description`, `context` (Gitea's swagger, `CreateStatusOption`).
//! - GitHub: `POST {api}/repos/{owner}/{repo}/statuses/{sha}`, `Authorization: Bearer …`,
//!   `Accept: application/vnd.github+json`, `X-GitHub-Api-Version: 2022-11-28`, a
//!   `User-Agent`; body `state` (error, failure, pending, success), `target_url`,
//!   `description` (≤ 140 characters), `context`.
//! - GitLab: `POST {api}/api/v4/projects/{url-encoded path}/statuses/{sha}`, `PRIVATE-TOKEN`,
//!   body `state` (pending, running, success, failed, canceled), `name`, `target_url`,
//!   `description` (≤ 255).
//! - Bitbucket Cloud: `POST {api}/2.0/repositories/{workspace}/{repo}/commit/{sha}/statuses/build`,
//!   `Authorization: Bearer …`, body `key` (≤ 40), `state` (INPROGRESS, SUCCESSFUL, FAILED,
//!   STOPPED), `name`, `url` (required), `description`.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::config::{CommitStatusTarget, ForgeKind};
use super::event::{StatusState, SyncEvent};
use super::send::OutgoingRequest;
use super::NotifyError;

/// The repository of a forge URL (`https://host/owner/name.git`, `ssh://git@host:22/owner/name`,
/// `git@host:owner/name.git`): `owner/name`, or for GitLab the whole project path.
pub fn repository_from_url(url: &str, forge: ForgeKind) -> Option<String> {
    let path = if let Some((_, rest)) = url.split_once("://") {
        rest.split_once('/')?.1
    } else {
        // scp-like `user@host:owner/name.git`; a local path has no `:` before its first `/`.
        let (host, path) = url.split_once(':')?;
        if host.contains('/') || host.is_empty() {
            return None;
        }
        path
    };
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.len() < 2 {
        return None;
    }
    Some(match forge {
        ForgeKind::Gitlab => segments.join("/"),
        // A forge under a sub-path (`https://host/git/owner/name`): the last two.
        _ => segments[segments.len() - 2..].join("/"),
    })
}

/// The commit status request for `event` at `target` with `token`, or `None` when the event
/// sets no status. `details_url` is where the status links to.
pub fn status_request(
    target: &CommitStatusTarget,
    token: &str,
    event: &SyncEvent,
    details_url: Option<&str>,
) -> Result<Option<OutgoingRequest>, NotifyError> {
    let Some((state, description)) = event.kind.status() else {
        return Ok(None);
    };
    let sha = &event.commit;
    let api = &target.api;
    let (url, auth, body) = match target.forge {
        ForgeKind::Gitea | ForgeKind::Forgejo => {
            let base = api.strip_suffix("/api/v1").unwrap_or(api);
            let state = match state {
                StatusState::Pending => "pending",
                StatusState::Success => "success",
                StatusState::Failure => "failure",
                StatusState::Error => "error",
                StatusState::Cancelled => "warning",
            };
            let mut body = json!({
                "state": state,
                "description": truncate(&description, 255),
                "context": target.context,
            });
            if let Some(u) = details_url {
                body["target_url"] = Value::from(u);
            }
            (
                format!("{base}/api/v1/repos/{}/statuses/{sha}", target.repository),
                ("Authorization", format!("token {token}")),
                body,
            )
        }
        ForgeKind::Github => {
            let state = match state {
                StatusState::Pending => "pending",
                StatusState::Success => "success",
                StatusState::Failure => "failure",
                StatusState::Error | StatusState::Cancelled => "error",
            };
            let mut body = json!({
                "state": state,
                "description": truncate(&description, 140),
                "context": target.context,
            });
            if let Some(u) = details_url {
                body["target_url"] = Value::from(u);
            }
            (
                format!("{api}/repos/{}/statuses/{sha}", target.repository),
                ("Authorization", format!("Bearer {token}")),
                body,
            )
        }
        ForgeKind::Gitlab => {
            let state = match state {
                StatusState::Pending => "running",
                StatusState::Success => "success",
                StatusState::Failure | StatusState::Error => "failed",
                StatusState::Cancelled => "canceled",
            };
            let mut body = json!({
                "state": state,
                "name": target.context,
                "description": truncate(&description, 255),
            });
            if let Some(u) = details_url {
                body["target_url"] = Value::from(u);
            }
            (
                format!(
                    "{api}/api/v4/projects/{}/statuses/{sha}",
                    encode_path_segment(&target.repository)
                ),
                ("PRIVATE-TOKEN", token.to_string()),
                body,
            )
        }
        ForgeKind::Bitbucket => {
            let state = match state {
                StatusState::Pending => "INPROGRESS",
                StatusState::Success => "SUCCESSFUL",
                StatusState::Failure | StatusState::Error => "FAILED",
                StatusState::Cancelled => "STOPPED",
            };
            // `url` is required: without ferry's own page, the commit's page on Bitbucket.
            let link = details_url.map_or_else(
                || format!("https://bitbucket.org/{}/commits/{sha}", target.repository),
                str::to_string,
            );
            let body = json!({
                "key": bitbucket_key(&target.context),
                "state": state,
                "name": target.context,
                "url": link,
                "description": truncate(&description, 255),
            });
            (
                format!(
                    "{api}/2.0/repositories/{}/commit/{sha}/statuses/build",
                    target.repository
                ),
                ("Authorization", format!("Bearer {token}")),
                body,
            )
        }
    };
    let mut headers = vec![
        ("Content-Type", "application/json".to_string()),
        auth,
        ("User-Agent", super::send::user_agent()),
    ];
    match target.forge {
        ForgeKind::Github => {
            headers.push(("Accept", "application/vnd.github+json".into()));
            headers.push(("X-GitHub-Api-Version", "2022-11-28".into()));
        }
        _ => headers.push(("Accept", "application/json".into())),
    }
    Ok(Some(OutgoingRequest {
        url,
        headers,
        body: serde_json::to_vec(&body).unwrap_or_default(),
        secret: Some(token.to_string()),
    }))
}

/// At most `max` characters, ending in `…` when cut.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Percent-encodes everything but unreserved characters (GitLab's `:id` as a path: `a%2Fb`).
fn encode_path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Bitbucket's `key` is at most 40 characters: the context when it fits, else its start and a
/// hash of the whole, so two long app names never share a key.
fn bitbucket_key(context: &str) -> String {
    if context.len() <= 40 {
        return context.to_string();
    }
    let digest = hex::encode(Sha256::digest(context.as_bytes()));
    format!("{}-{}", &context[..31], &digest[..8])
}

#[cfg(test)]
#[path = "forge_tests.rs"]
mod tests;
