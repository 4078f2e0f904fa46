//! Asking where the tracked ref points now, without fetching (like `git ls-remote`).
//!
//! Used while a sync is busy: it writes nothing to the cache clone the sync reads from, so it
//! can run at any time. [`peek_shared`] lets the apps of one repository share a listing: a
//! caller reuses one that started after it asked (so it still sees every push before it), and
//! waits for the running one otherwise, so N apps asking together cost at most two listings.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use git2::{Direction, Remote};

use super::{GitAuth, GitRef, GitSource, RepoLocation, SourceError};

/// A remote's refs: name and the sha it points at.
type Heads = Vec<(String, String)>;

/// The last listing of one remote (with one set of credentials).
#[derive(Default)]
struct Listing {
    /// When it started, and what it found.
    last: Option<(Instant, Arc<Heads>)>,
    /// Listings run so far (for tests).
    count: u64,
}

type Listings = Mutex<HashMap<(String, String), Arc<tokio::sync::Mutex<Listing>>>>;

fn listing_for(url: &str, auth: &GitAuth) -> Arc<tokio::sync::Mutex<Listing>> {
    static LISTINGS: OnceLock<Listings> = OnceLock::new();
    let key = (super::strip_userinfo(url), super::shared::auth_key(auth));
    match LISTINGS.get_or_init(Listings::default).lock() {
        Ok(mut map) => map.entry(key).or_default().clone(),
        Err(_) => Arc::default(),
    }
}

/// [`peek_head`] off the runtime, sharing the remote's ref listing with the other callers of
/// the same repository and credentials as described above.
pub async fn peek_shared(
    location: &RepoLocation,
    reference: &GitRef,
    auth: &GitAuth,
) -> Result<Option<String>, SourceError> {
    let url = match (location, reference) {
        (_, GitRef::Commit(_)) => return Ok(None),
        (RepoLocation::Remote(url), _) => url.clone(),
        (RepoLocation::Local(_), _) => {
            let shown = location.display();
            let (location, reference, auth) = (location.clone(), reference.clone(), auth.clone());
            return tokio::task::spawn_blocking(move || peek_head(&location, &reference, &auth))
                .await
                .map_err(|source| SourceError::FetchTask { url: shown, source })?;
        }
    };
    let shown = location.display();
    super::check_url(&url)?;
    let asked = Instant::now();
    let timeout = super::network_timeout();
    let listing = listing_for(&url, auth);
    let mut guard = tokio::time::timeout(timeout, listing.lock_owned())
        .await
        .map_err(|_| SourceError::FetchBusy {
            url: shown.clone(),
            after: timeout,
        })?;
    let heads = match &guard.last {
        Some((started, heads)) if *started >= asked => heads.clone(),
        _ => {
            let started = Instant::now();
            let (auth, url2, shown2) = (auth.clone(), url.clone(), shown.clone());
            let heads = tokio::task::spawn_blocking(move || list_heads(&url2, &shown2, &auth))
                .await
                .map_err(|source| SourceError::FetchTask {
                    url: shown.clone(),
                    source,
                })??;
            let heads = Arc::new(heads);
            guard.count += 1;
            guard.last = Some((started, heads.clone()));
            heads
        }
    };
    drop(guard);
    find_ref(&heads, reference, &shown)
}

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
    let heads = list_heads(url, &shown, auth)?;
    find_ref(&heads, reference, &shown)
}

/// Lists the remote's refs (one connection, no objects transferred).
fn list_heads(url: &str, shown: &str, auth: &GitAuth) -> Result<Heads, SourceError> {
    super::init_network_timeouts();
    let deadline = Some(std::time::Instant::now() + super::network_timeout());
    let fetch_err = |e: git2::Error| super::fetch_error(shown, deadline, e);
    let mut remote = Remote::create_detached(url).map_err(fetch_err)?;
    let conn = remote
        .connect_auth(Direction::Fetch, Some(auth.callbacks(url, deadline)?), None)
        .map_err(fetch_err)?;
    let heads = conn.list().map_err(fetch_err)?;
    Ok(heads
        .iter()
        .map(|h| (h.name().to_string(), h.oid().to_string()))
        .collect())
}

/// Where the tracked ref points in a listing (`None` for a pinned commit).
fn find_ref(heads: &Heads, reference: &GitRef, shown: &str) -> Result<Option<String>, SourceError> {
    let find = |name: &str| {
        heads
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, sha)| sha.clone())
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
        url: shown.to_string(),
        reference: reference.to_string(),
    })
}

/// Listings run for this remote so far.
#[cfg(test)]
async fn listing_count(url: &str, auth: &GitAuth) -> u64 {
    listing_for(url, auth).lock().await.count
}

#[cfg(test)]
#[path = "peek_tests.rs"]
mod tests;
