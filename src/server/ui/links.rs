//! Links from the UI to the forge: a commit's page, when the app's repository is on a forge
//! ferry knows (GitHub, GitLab, Bitbucket by host; Gitea/Forgejo when the app writes commit
//! statuses there). Never a link with credentials in it.

use crate::config::AppSpec;
use crate::notify::{ForgeKind, Target};
use crate::source::RepoLocation;

/// The forge's page of commit `sha` of `spec`'s repository, if the forge is known.
pub fn commit_url(spec: &AppSpec, sha: &str) -> Option<String> {
    let RepoLocation::Remote(url) = &spec.location else {
        return None;
    };
    let (host, path) = host_and_path(url)?;
    let status_forge = spec.notify.targets.iter().find_map(|t| match t {
        Target::CommitStatus(status) => Some(status.forge),
        Target::Webhook(_) => None,
    });
    let host_name = host.split(':').next().unwrap_or(host.as_str());
    let forge = match host_name {
        "github.com" => ForgeKind::Github,
        "gitlab.com" => ForgeKind::Gitlab,
        "bitbucket.org" => ForgeKind::Bitbucket,
        _ => status_forge?,
    };
    // Web pages are https, except for a forge the app already reaches over plain http
    // (a test forge on 127.0.0.1).
    let scheme = if url.starts_with("http://") {
        "http"
    } else {
        "https"
    };
    let base = format!("{scheme}://{host}/{path}");
    Some(match forge {
        ForgeKind::Github | ForgeKind::Gitea | ForgeKind::Forgejo => format!("{base}/commit/{sha}"),
        ForgeKind::Gitlab => format!("{base}/-/commit/{sha}"),
        ForgeKind::Bitbucket => format!("{base}/commits/{sha}"),
    })
}

/// `host[:port]` and `owner/repo` (no `.git`) of an https, ssh:// or scp-like git URL. For
/// ssh URLs the port is dropped: it is the SSH port, not the web one.
fn host_and_path(url: &str) -> Option<(String, String)> {
    let (host, path, web_port) = if let Some((scheme, rest)) = url.split_once("://") {
        let (authority, path) = rest.split_once('/')?;
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        (host.to_string(), path, scheme.starts_with("http"))
    } else {
        let (user_host, path) = url.split_once(':')?;
        let host = user_host.rsplit_once('@').map_or(user_host, |(_, h)| h);
        (host.to_string(), path, false)
    };
    let host = if web_port {
        host
    } else {
        host.split(':').next().unwrap_or_default().to_string()
    };
    let path = path.trim_end_matches('/').trim_end_matches(".git");
    (!host.is_empty() && !path.is_empty()).then(|| (host, path.to_string()))
}

#[cfg(test)]
#[path = "links_tests.rs"]
mod tests;
