//! Repository URL matching: the ssh, https and scp-like spellings of one repository compare
//! equal, so a push announced as `git@github.com:org/repo.git` reaches an app configured with
//! `https://github.com/org/repo`.

/// Normalizes a repository URL or local path to a key that is equal for every spelling of the
/// same repository.
///
/// Remote URLs (`https://`, `http://`, `ssh://`, `git://`, `git+ssh://`, … and scp-like
/// `user@host:path`) become `host/path`: user info (`git@`, `user:token@`) and port are dropped,
/// the host and path are lowercased (GitHub and GitLab paths are case-insensitive), empty and
/// `.` segments, a query or fragment, a trailing `/` and a trailing `.git` are removed. So
/// `https://github.com/Org/Repo.git`, `git@github.com:org/repo.git`,
/// `ssh://git@github.com:22/org/repo.git` and `https://user:token@github.com/org/repo/` all give
/// `github.com/org/repo`.
///
/// `file://` URLs and plain local paths become the lexically normalized path (`.` and `..`
/// segments resolved without touching the file system, case kept, a trailing `/` or `/.git`
/// removed): `file:///srv/repo/` and `/srv/./repo/.git` both give `/srv/repo`.
///
/// Returns `None` for an empty string, or a remote URL with no host or no path.
pub fn normalize_repo_url(url: &str) -> Option<String> {
    let s = url.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(scheme_end) = s.find("://") {
        let scheme = &s[..scheme_end];
        let rest = &s[scheme_end + 3..];
        if scheme.eq_ignore_ascii_case("file") {
            // file:///srv/repo (empty host) or file://localhost/srv/repo.
            let path = rest.strip_prefix("localhost").unwrap_or(rest);
            return local_path(path);
        }
        if is_scheme(scheme) {
            let rest = rest.split(['?', '#']).next().unwrap_or_default();
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            return host_and_path(authority, path);
        }
    }
    // scp-like syntax, by git's own rule: a ':' before the first '/'. A single letter before
    // the ':' is a Windows drive (`C:\repo`), not a host.
    if let Some(colon) = s.find(':') {
        let first_slash = s.find('/').unwrap_or(s.len());
        if colon < first_slash && colon > 1 {
            return host_and_path(&s[..colon], &s[colon + 1..]);
        }
    }
    local_path(s)
}

/// True when both URLs name the same repository after [`normalize_repo_url`]; false when either
/// cannot be normalized.
pub fn same_repo(a: &str, b: &str) -> bool {
    match (normalize_repo_url(a), normalize_repo_url(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// A URL scheme as RFC 3986 spells it: a letter, then letters, digits, `+`, `-` or `.`.
fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// `authority` is `[user[:password]@]host[:port]`; the port may instead be the first path
/// segment written scp-style (`ssh://git@host:org/repo`), which is folded back into the path.
fn host_and_path(authority: &str, path: &str) -> Option<String> {
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, after_host) = if let Some(bracketed) = host_port.strip_prefix('[') {
        // IPv6 literal: [::1]:2222
        let (inside, rest) = bracketed.split_once(']')?;
        (&host_port[..inside.len() + 2], rest)
    } else {
        match host_port.split_once(':') {
            Some((h, rest)) => (h, rest),
            None => (host_port, ""),
        }
    };
    let after_host = after_host.strip_prefix(':').unwrap_or(after_host);
    if host.is_empty() {
        return None;
    }
    let mut segments: Vec<String> = Vec::new();
    let is_port = after_host.chars().all(|c| c.is_ascii_digit());
    if !is_port {
        segments.push(after_host.to_ascii_lowercase());
    }
    segments.extend(
        path.split('/')
            .filter(|seg| !seg.is_empty() && *seg != ".")
            .map(str::to_lowercase),
    );
    if let Some(last) = segments.last_mut() {
        if let Some(stem) = last.strip_suffix(".git") {
            *last = stem.to_string();
        }
    }
    segments.retain(|seg| !seg.is_empty());
    if segments.is_empty() {
        return None;
    }
    Some(format!(
        "{}/{}",
        host.to_ascii_lowercase(),
        segments.join("/")
    ))
}

/// Lexical normalization of a local path: no `.`/empty segments, `..` resolved where it can be,
/// no trailing `/` or `/.git`.
fn local_path(p: &str) -> Option<String> {
    let absolute = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                // `/..` is `/`; a relative path keeps its leading `..`.
                _ if absolute => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    if parts.len() > 1 && parts.last() == Some(&".git") {
        parts.pop();
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => Some(format!("/{joined}")),
        (false, true) => Some(".".to_string()),
        (false, false) => Some(joined),
    }
}

#[cfg(test)]
#[path = "repo_url_tests.rs"]
mod tests;
