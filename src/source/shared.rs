//! One fetch per repository at a time, shared by the apps that track it.
//!
//! Apps with the same repository URL use the same cache clone, so their fetches must not run
//! at once. Each remote (by cache directory) has an async lock: every write to the clone
//! (creating it, the fetch, recording the remote's HEAD) runs while holding it, on a blocking
//! thread, under a deadline. Readers of a fetched commit (ref lookup, trees and blobs by sha)
//! need no lock: libgit2 replaces refs and packs by rename, so they see the old or the new
//! state, and objects are never removed.
//!
//! A caller says how old a fetch it accepts ([`FetchRequest::max_age`]): a completed fetch
//! with the same credentials that *started* no earlier than `max_age` before the caller asked
//! is reused instead of fetching again. Polls pass their interval, so the apps of one
//! repository cost one fetch per interval, not one per app; webhooks and manual syncs pass
//! zero: they reuse only a fetch that started after they asked (joining one that is queued),
//! else they wait for the running one and fetch once more, so they see a commit pushed just
//! before them. A hung remote fails every waiting app at its deadline; it never blocks apps of
//! other repositories, whose fetches run on their own threads and locks.

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
    /// How long before this request a reusable fetch may have started: zero for "fresh" (a
    /// webhook, a manual sync), the poll interval for a poll.
    pub max_age: Duration,
}

impl FetchRequest {
    /// A request that accepts a fetch started up to `max_age` before it (see above).
    #[must_use]
    pub fn reusing(mut self, max_age: Duration) -> FetchRequest {
        self.max_age = max_age;
        self
    }
}

/// The completed fetches of one cache clone.
#[derive(Default)]
struct Flight {
    /// Per credentials (their non-secret description): when the last successful fetch
    /// started, and whether it also learned the remote's default branch.
    last_ok: HashMap<String, (Instant, bool)>,
    /// Fetches run so far (for tests and logs).
    fetches: u64,
    /// Stale lock files of a killed process were looked for.
    swept: bool,
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
    let credentials = auth_key(&request.auth);
    // The oldest start a reusable fetch may have (none: any fetch since this process began).
    let oldest = asked.checked_sub(request.max_age);
    let fresh = guard
        .last_ok
        .get(&credentials)
        .is_some_and(|&(started, head)| {
            oldest.is_none_or(|oldest| started >= oldest) && (head || !wants_head)
        });
    if fresh {
        // Reading needs no lock: let the next caller in while this one resolves its ref.
        drop(guard);
        return blocking(deadline, shown, move || {
            let mut source = open(&request)?;
            let commit = source.current()?;
            Ok((source, commit))
        })
        .await;
    }
    blocking(deadline, shown, move || {
        if !guard.swept {
            remove_stale_locks(&super::repo::cache_path(&url, &request.cache_dir));
            guard.swept = true;
        }
        let mut source = open(&request)?;
        let started = Instant::now();
        guard.fetches += 1;
        tracing::debug!(url = %request.location.display(), fetches = guard.fetches, "fetching");
        let commit = source.fetch_until(Some(deadline))?;
        guard.last_ok.insert(credentials, (started, wants_head));
        Ok((source, commit))
    })
    .await
}

/// How old a git lock file must be to be the leftover of a killed process: libgit2 holds
/// one only while it rewrites a ref, the config or `packed-refs` (milliseconds).
const STALE_LOCK: Duration = Duration::from_secs(30);

/// Removes the `*.lock` files a killed ferry left in a cache clone (`refs/…/HEAD.lock`,
/// `packed-refs.lock`, `config.lock`), which would otherwise fail every later ref update
/// with "failed to lock file". Called once per clone and process, holding the clone's lock.
fn remove_stale_locks(clone: &std::path::Path) {
    let mut dirs = vec![clone.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                // Objects hold no lock files and may be many: only the refs are walked.
                if dir != clone || entry.file_name() == "refs" {
                    dirs.push(path);
                }
                continue;
            }
            let old = meta
                .modified()
                .ok()
                .and_then(|m| m.elapsed().ok())
                .is_some_and(|age| age >= STALE_LOCK);
            if old && path.extension().is_some_and(|e| e == "lock") {
                match std::fs::remove_file(&path) {
                    Ok(()) => {
                        tracing::warn!(path = %path.display(), "removed a stale git lock file");
                    }
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "cannot remove a stale git lock file");
                    }
                }
            }
        }
    }
}

/// The credentials as a key: which key file, user, token file or variable (never a secret).
pub(crate) fn auth_key(auth: &GitAuth) -> String {
    serde_json::to_string(auth).unwrap_or_default()
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
