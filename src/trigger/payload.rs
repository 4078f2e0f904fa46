//! Push payloads of each forge, read after the signature has been verified (see
//! [`verify_and_parse`](super::verify_and_parse)).

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::Value;

use super::webhook::{Forge, PushEvent, WebhookError};

/// A payload listing this many commits or more may have been cut short (GitLab keeps 20, GitHub's
/// timeline events 20, Gitea a configurable number): its file lists are not trusted.
const MAX_TRUSTED_COMMITS: usize = 20;
/// A commit listing this many paths in one of added/modified/removed may have been capped
/// (GitHub caps the lists): its file lists are not trusted.
const MAX_TRUSTED_FILES: usize = 3000;

/// The body as JSON, or `BadPayload`.
pub(super) fn json(body: &[u8]) -> Result<Value, WebhookError> {
    serde_json::from_slice(body).map_err(|e| WebhookError::BadPayload(format!("not JSON: {e}")))
}

fn bad(msg: &str) -> WebhookError {
    WebhookError::BadPayload(msg.to_string())
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(v, |v, key| v.get(key))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The non-empty string fields `keys` of `v`, without duplicates, in order.
fn urls(v: Option<&Value>, keys: &[&str], out: &mut Vec<String>) {
    for key in keys {
        if let Some(url) = v.and_then(|v| str_at(v, &[key])) {
            if !out.iter().any(|u| u == url) {
                out.push(url.to_string());
            }
        }
    }
}

/// The new sha, `None` when absent or all zeros (a deletion).
fn new_sha(s: Option<&str>) -> Option<String> {
    s.filter(|s| !is_zero_sha(s)).map(str::to_string)
}

fn is_zero_sha(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b == b'0')
}

/// Union of `commits[].added/modified/removed`, or `None` when the list may be incomplete:
/// no commits, `MAX_TRUSTED_COMMITS` or more, fewer than the payload's `total_key` count, or a
/// commit without file lists or with a possibly capped one.
fn changed_files(v: &Value, total_key: Option<&str>) -> Option<Vec<String>> {
    let commits = v.get("commits")?.as_array()?;
    if commits.is_empty() || commits.len() >= MAX_TRUSTED_COMMITS {
        return None;
    }
    if let Some(total) = total_key.and_then(|k| v.get(k)).and_then(Value::as_u64) {
        if total > commits.len() as u64 {
            return None;
        }
    }
    let mut files = BTreeSet::new();
    for commit in commits {
        let mut listed = false;
        for key in ["added", "modified", "removed"] {
            if let Some(list) = commit.get(key).and_then(Value::as_array) {
                listed = true;
                if list.len() >= MAX_TRUSTED_FILES {
                    return None;
                }
                for file in list {
                    files.insert(file.as_str()?.to_string());
                }
            }
        }
        if !listed {
            return None;
        }
    }
    Some(files.into_iter().collect())
}

fn push_event(
    forge: Forge,
    repo_urls: Vec<String>,
    git_ref: Option<&str>,
    after: Option<String>,
    deleted: bool,
    changed: Option<Vec<String>>,
) -> Result<PushEvent, WebhookError> {
    if repo_urls.is_empty() {
        return Err(bad("no repository URL in the payload"));
    }
    let git_ref = git_ref.ok_or_else(|| bad("no ref in the payload"))?;
    // A deletion, or anything but a branch, has no meaningful file list.
    let partial = deleted || !git_ref.starts_with("refs/heads/");
    Ok(PushEvent {
        forge,
        repo_urls,
        git_ref: git_ref.to_string(),
        after: if deleted { None } else { after },
        deleted,
        changed_files: if partial { None } else { changed },
    })
}

/// GitHub, Gitea and Forgejo `push` payloads.
pub(super) fn github_like(forge: Forge, v: &Value) -> Result<PushEvent, WebhookError> {
    let mut repo_urls = Vec::new();
    let keys = ["clone_url", "ssh_url", "html_url", "git_url"];
    urls(v.get("repository"), &keys, &mut repo_urls);
    let after_raw = str_at(v, &["after"]);
    let flag = |k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
    let deleted = flag("deleted") || after_raw.is_some_and(is_zero_sha);
    let rewritten =
        flag("created") || flag("forced") || str_at(v, &["before"]).is_some_and(is_zero_sha);
    let total_key = (forge != Forge::GitHub).then_some("total_commits");
    let changed = (!rewritten).then(|| changed_files(v, total_key)).flatten();
    push_event(
        forge,
        repo_urls,
        str_at(v, &["ref"]),
        new_sha(after_raw),
        deleted,
        changed,
    )
}

/// GitLab `Push Hook` / `Tag Push Hook` (and push system hooks).
pub(super) fn gitlab(v: &Value) -> Result<PushEvent, WebhookError> {
    let mut repo_urls = Vec::new();
    let project = [
        "git_http_url",
        "git_ssh_url",
        "web_url",
        "http_url",
        "ssh_url",
    ];
    urls(v.get("project"), &project, &mut repo_urls);
    let repository = ["git_http_url", "git_ssh_url", "url", "homepage"];
    urls(v.get("repository"), &repository, &mut repo_urls);
    let after_raw = str_at(v, &["after"]);
    let deleted = after_raw.is_some_and(is_zero_sha);
    let created = str_at(v, &["before"]).is_some_and(is_zero_sha);
    let changed = (!created)
        .then(|| changed_files(v, Some("total_commits_count")))
        .flatten();
    push_event(
        Forge::GitLab,
        repo_urls,
        str_at(v, &["ref"]),
        new_sha(after_raw),
        deleted,
        changed,
    )
}

/// Bitbucket Cloud `repo:push`.
pub(super) fn bitbucket(v: &Value) -> Result<PushEvent, WebhookError> {
    let mut repo_urls = Vec::new();
    if let Some(html) = str_at(v, &["repository", "links", "html", "href"]) {
        repo_urls.push(html.to_string());
    }
    if let Some(full_name) = str_at(v, &["repository", "full_name"]) {
        repo_urls.push(format!("https://bitbucket.org/{full_name}.git"));
        repo_urls.push(format!("git@bitbucket.org:{full_name}.git"));
    }
    let changes = v
        .get("push")
        .and_then(|p| p.get("changes"))
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no push.changes in the payload"))?;
    let change = changes
        .iter()
        .find(|c| named(c).and_then(|n| str_at(n, &["type"])) == Some("branch"))
        .or_else(|| changes.first())
        .ok_or_else(|| bad("push.changes is empty"))?;
    let target = named(change).ok_or_else(|| bad("push change without new or old"))?;
    let name = str_at(target, &["name"]).ok_or_else(|| bad("push change without a name"))?;
    let git_ref = match str_at(target, &["type"]) {
        Some("branch" | "named_branch") => format!("refs/heads/{name}"),
        Some("tag" | "annotated_tag") => format!("refs/tags/{name}"),
        _ => return Err(bad("push change of unknown type")),
    };
    let new_is_null = change.get("new").is_none_or(Value::is_null);
    let closed = change
        .get("closed")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let after = str_at(change, &["new", "target", "hash"]).map(str::to_string);
    push_event(
        Forge::Bitbucket,
        repo_urls,
        Some(&git_ref),
        after,
        new_is_null || closed,
        None,
    )
}

/// A Bitbucket change's ref: `new`, or `old` when the ref was deleted (`new` is null).
fn named(change: &Value) -> Option<&Value> {
    change
        .get("new")
        .filter(|n| !n.is_null())
        .or_else(|| change.get("old"))
        .filter(|n| !n.is_null())
}

/// The generic endpoint's body.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenericPush {
    repository: String,
    #[serde(rename = "ref")]
    git_ref: String,
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    changed_files: Option<Vec<String>>,
}

/// ferry's generic push: a bare branch name in `ref` means `refs/heads/<name>`; an explicit
/// `changedFiles` (even empty) is trusted as given.
pub(super) fn generic(body: &[u8]) -> Result<PushEvent, WebhookError> {
    let p: GenericPush = serde_json::from_slice(body)
        .map_err(|e| WebhookError::BadPayload(format!("generic push: {e}")))?;
    let repository = p.repository.trim();
    let git_ref = p.git_ref.trim();
    if repository.is_empty() || git_ref.is_empty() {
        return Err(bad(
            "generic push needs non-empty \"repository\" and \"ref\"",
        ));
    }
    let git_ref = if git_ref.starts_with("refs/") {
        git_ref.to_string()
    } else {
        format!("refs/heads/{git_ref}")
    };
    let deleted = p.after.as_deref().is_some_and(is_zero_sha);
    Ok(PushEvent {
        forge: Forge::Generic,
        repo_urls: vec![repository.to_string()],
        git_ref,
        after: if deleted {
            None
        } else {
            new_sha(p.after.as_deref())
        },
        deleted,
        changed_files: p.changed_files.map(|files| {
            let set: BTreeSet<String> = files.into_iter().collect();
            set.into_iter().collect()
        }),
    })
}
