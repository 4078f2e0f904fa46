//! Asking where the tracked ref points now, without fetching (like `git ls-remote`).
//!
//! Used while a sync is busy: it writes nothing to the cache clone the sync reads from, so it
//! can run at any time.

use git2::{Direction, Remote};

use super::{GitAuth, GitRef, GitSource, RepoLocation, SourceError};

/// The sha the tracked ref points at now. Remotes are asked over the wire (one ref listing, no
/// objects transferred); local repositories have their ref read in place. `None` for a pinned
/// commit, which cannot move.
pub fn peek_head(
    location: &RepoLocation,
    reference: &GitRef,
    auth: &GitAuth,
) -> Result<Option<String>, SourceError> {
    if let GitRef::Commit(_) = reference {
        return Ok(None);
    }
    let url = match location {
        RepoLocation::Local(path) => {
            let source = GitSource::open(
                location.clone(),
                reference.clone(),
                auth.clone(),
                path.as_path(),
            )?;
            return Ok(Some(source.resolve()?.to_string()));
        }
        RepoLocation::Remote(url) => url,
    };
    let shown = location.display();
    super::check_url(url)?;
    super::init_network_timeouts();
    let deadline = Some(std::time::Instant::now() + super::network_timeout());
    let fetch_err = |e: git2::Error| super::fetch_error(&shown, deadline, e);
    let mut remote = Remote::create_detached(url.as_str()).map_err(fetch_err)?;
    let conn = remote
        .connect_auth(Direction::Fetch, Some(auth.callbacks(url, deadline)?), None)
        .map_err(fetch_err)?;
    let heads = conn.list().map_err(fetch_err)?;
    let find = |name: &str| {
        heads
            .iter()
            .find(|h| h.name() == name)
            .map(|h| h.oid().to_string())
    };
    let found = match reference {
        GitRef::Head => find("HEAD"),
        GitRef::Branch(branch) => find(&format!("refs/heads/{branch}")),
        // An annotated tag is listed twice; the `^{}` entry is the commit it points at.
        GitRef::Tag(tag) => {
            find(&format!("refs/tags/{tag}^{{}}")).or_else(|| find(&format!("refs/tags/{tag}")))
        }
        GitRef::Commit(_) => None,
    };
    found.map(Some).ok_or_else(|| SourceError::RefNotFound {
        url: shown.clone(),
        reference: reference.to_string(),
    })
}

#[cfg(test)]
#[path = "peek_tests.rs"]
mod tests;
