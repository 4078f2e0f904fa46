//! One fetch per repository at a time, shared by the apps that track it.
//!
//! Apps with the same repository URL use the same cache clone, so their fetches must not run
//! at once. Each remote (by cache directory) has an async lock: a fetch runs while holding it,
//! on a blocking thread, under a deadline. An app that asks while a fetch runs waits for it;
//! if another app's fetch *started after* this app asked, its result is fresh enough and is
//! reused instead of fetching again (so N apps asking together cost at most two fetches).
//! A hung remote fails every waiting app at its deadline; it never blocks apps of other
//! repositories, whose fetches run on their own threads and locks.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::{CommitInfo, GitAuth, GitRef, GitSource, RepoLocation, SourceError};

/// What to fetch.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    /// The repository.
    pub location: RepoLocation,
    /// The ref to resolve after fetching.
    pub reference: GitRef,
    /// Credentials.
    pub auth: GitAuth,
    /// Where remote clones live.
    pub cache_dir: PathBuf,
    /// How long the fetch (including waiting for another one) may take.
    pub timeout: Duration,
}

/// The last completed fetch of one remote.
#[derive(Default)]
struct Flight {
    /// When it started, and whether it also learned the remote's default branch.
    last_ok: Option<(Instant, bool)>,
    /// Fetches run so far (for tests and logs).
    fetches: u64,
}

type Flights = Mutex<HashMap<(PathBuf, String), Arc<tokio::sync::Mutex<Flight>>>>;

fn flights() -> &'static Flights {
    static FLIGHTS: OnceLock<Flights> = OnceLock::new();
    FLIGHTS.get_or_init(Flights::default)
}

fn flight_for(cache_dir: &std::path::Path, url: &str) -> Arc<tokio::sync::Mutex<Flight>> {
    let key = (cache_dir.to_path_buf(), super::strip_userinfo(url));
    match flights().lock() {
        Ok(mut map) => map.entry(key).or_default().clone(),
        // A panic elsewhere poisoned the map: serialise nothing rather than fail every fetch.
        Err(_) => Arc::default(),
    }
}

/// Fetches the repository (remotes: at most one fetch of a cache clone at a time, shared
/// as described above) and resolves the ref, within `request.timeout`.
pub async fn fetch_shared(request: FetchRequest) -> Result<(GitSource, CommitInfo), SourceError> {
    super::set_network_timeout(request.timeout);
    let asked = Instant::now();
    let deadline = asked + request.timeout;
    let url = match &request.location {
        RepoLocation::Remote(url) => url.clone(),
        RepoLocation::Local(_) => {
            return blocking(deadline, request.location.display(), move || {
                let mut source = open(&request)?;
                let commit = source.fetch()?;
                Ok((source, commit))
            })
            .await;
        }
    };
    super::check_url(&url)?;
    request.auth.check_transport(&url)?;
    let shown = super::strip_userinfo(&url);
    let flight = flight_for(&request.cache_dir, &url);
    let mut guard = tokio::time::timeout_at(deadline.into(), flight.lock_owned())
        .await
        .map_err(|_| SourceError::FetchBusy {
            url: shown.clone(),
            after: request.timeout,
        })?;
    let wants_head = request.reference == GitRef::Head;
    let fresh = guard
        .last_ok
        .is_some_and(|(started, head)| started >= asked && (head || !wants_head));
    blocking(deadline, shown, move || {
        let mut source = open(&request)?;
        if fresh {
            let commit = source.current()?;
            return Ok((source, commit));
        }
        let started = Instant::now();
        guard.fetches += 1;
        tracing::debug!(url = %request.location.display(), fetches = guard.fetches, "fetching");
        let commit = source.fetch_until(Some(deadline))?;
        guard.last_ok = Some((started, wants_head));
        Ok((source, commit))
    })
    .await
}

fn open(request: &FetchRequest) -> Result<GitSource, SourceError> {
    GitSource::open(
        request.location.clone(),
        request.reference.clone(),
        request.auth.clone(),
        &request.cache_dir,
    )
}

/// Runs git work on a blocking thread; past the deadline the caller gets a timeout (the thread
/// ends on its own when libgit2's read timeout or the progress callback stops it).
async fn blocking<T: Send + 'static>(
    deadline: Instant,
    url: String,
    work: impl FnOnce() -> Result<T, SourceError> + Send + 'static,
) -> Result<T, SourceError> {
    let task = tokio::task::spawn_blocking(work);
    // A little slack so libgit2's own timeout error (with its cause) usually wins.
    let limit = deadline + Duration::from_millis(500);
    match tokio::time::timeout_at(limit.into(), task).await {
        Ok(Ok(result)) => result,
        Ok(Err(source)) => Err(SourceError::FetchTask { url, source }),
        Err(_) => Err(SourceError::FetchTimeout {
            url,
            after: super::network_timeout(),
        }),
    }
}

/// Fetches run for this remote so far.
#[cfg(test)]
async fn fetch_count(cache_dir: &std::path::Path, url: &str) -> u64 {
    flight_for(cache_dir, url).lock().await.fetches
}

#[cfg(test)]
#[path = "shared_tests.rs"]
mod tests;
