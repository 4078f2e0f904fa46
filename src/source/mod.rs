//! Stage 1 of the pipeline: the git source.
//!
//! Clones a repository into a cache directory and fetches it incrementally (or opens a local
//! repository in place), resolves the tracked ref (branch, tag, pinned commit or the remote's
//! default branch) to a commit, reads the files of a directory at that commit straight from the
//! object database (no work-tree checkout), and describes commits (sha, author, time, subject,
//! body, the commit a revert undoes). It never parses YAML.

mod auth;
mod commit;
pub mod known_hosts;
mod lineage;
mod peek;
mod repo;
mod revert;
mod shared;
#[cfg(test)]
mod test_git;
mod tree;
mod url;

pub use auth::GitAuth;
pub use commit::{same_commit, short_sha, CommitInfo};
pub use lineage::LaterCommit;
pub use peek::{peek_head, peek_shared};
pub use repo::{strip_userinfo, GitSource, RepoLocation};
pub use revert::{revert_message, RevertCommit};
pub use shared::{fetch_shared, FetchRequest};
pub use tree::{CommitTree, TreeEntry};
pub use url::check_url;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Default time a fetch (or a ref listing) may take before it fails.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(120);

static NETWORK_TIMEOUT_MS: AtomicU64 = AtomicU64::new(120_000);

/// Sets how long git network operations may take (`--fetch-timeout`); the first call before
/// any git work also becomes libgit2's connect and per-read timeout.
pub fn set_network_timeout(timeout: Duration) {
    let ms = u64::try_from(timeout.as_millis())
        .unwrap_or(u64::MAX)
        .max(1);
    NETWORK_TIMEOUT_MS.store(ms, Ordering::Relaxed);
}

/// The current network timeout.
pub fn network_timeout() -> Duration {
    Duration::from_millis(NETWORK_TIMEOUT_MS.load(Ordering::Relaxed))
}

/// Gives libgit2 connect and read timeouts, once per process, so a remote that accepts a
/// connection and never answers makes the blocked read fail instead of hanging its thread.
pub(crate) fn init_network_timeouts() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let ms = i32::try_from(network_timeout().as_millis()).unwrap_or(i32::MAX);
        // SAFETY: libgit2 global options are plain integers read when a stream is created;
        // `Once` makes this the only write, before any stream of ours exists.
        let set = unsafe {
            git2::opts::set_server_connect_timeout_in_milliseconds(ms)
                .and_then(|()| git2::opts::set_server_timeout_in_milliseconds(ms))
        };
        if let Err(e) = set {
            tracing::warn!(error = %e, "libgit2 has no network timeouts; relying on ferry's own deadline");
        }
    });
}

/// How close to its deadline a failed network operation counts as timed out.
const TIMEOUT_SLACK: Duration = Duration::from_millis(500);

/// The error for a failed network operation: a timeout when the deadline has passed.
pub(crate) fn fetch_error(url: &str, deadline: Option<Instant>, e: git2::Error) -> SourceError {
    if let Some(reason) = auth::take_hostkey_refusal() {
        return SourceError::HostKey {
            url: url.to_string(),
            reason,
        };
    }
    // A credential was offered and the server answered "authentication failed" (HTTP: libgit2
    // says "…authentication that we do not support"; SSH: the callback is asked again).
    let offered = auth::take_offered();
    if let Some(what) = offered.filter(|_| {
        e.code() == git2::ErrorCode::Auth || e.message().starts_with("the server refused ")
    }) {
        return SourceError::CredentialsRefused {
            url: url.to_string(),
            what,
        };
    }
    // libgit2's own socket timeout equals the deadline's length and starts a little later,
    // but the kernel may end a blocked read a few milliseconds early: an error that close to
    // the deadline is that timeout ("could not read refs…"), not a refusal.
    let near_deadline = |d: Instant| Instant::now() + TIMEOUT_SLACK >= d;
    if deadline.is_some_and(near_deadline) || e.code() == git2::ErrorCode::Timeout {
        return SourceError::FetchTimeout {
            url: url.to_string(),
            after: network_timeout(),
        };
    }
    SourceError::Fetch {
        url: url.to_string(),
        source: e,
    }
}

/// What the app tracks in the repository.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GitRef {
    /// The remote's default branch (what `HEAD` points at).
    Head,
    /// The tip of a branch.
    Branch(String),
    /// A tag (annotated or lightweight), peeled to its commit.
    Tag(String),
    /// A pinned commit, full or abbreviated sha.
    Commit(String),
}

impl std::fmt::Display for GitRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GitRef::Head => write!(f, "HEAD"),
            GitRef::Branch(b) => write!(f, "branch {b}"),
            GitRef::Tag(t) => write!(f, "tag {t}"),
            GitRef::Commit(c) => write!(f, "commit {c}"),
        }
    }
}

/// A file read from a commit's tree: its repo-relative path and its bytes.
#[derive(Debug, Clone)]
pub struct TreeFile {
    /// Path relative to the repository root, with `/` separators.
    pub path: String,
    /// The blob's content.
    pub contents: Vec<u8>,
}

/// Everything that can go wrong in the source stage.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The remote could not be reached or refused us; the message is git's own.
    #[error("cannot fetch {url}: {}", .source.message())]
    Fetch {
        /// The remote's URL.
        url: String,
        /// The underlying error.
        #[source]
        source: git2::Error,
    },
    /// The blocking task running a fetch panicked or was cancelled.
    #[error("cannot fetch {url}: git task failed: {source}")]
    FetchTask {
        /// The remote's URL.
        url: String,
        /// The underlying error.
        #[source]
        source: tokio::task::JoinError,
    },
    /// The remote did not answer in time (it hangs, or the network drops packets).
    #[error(
        "fetching {url} timed out after {}s: the remote did not answer (raise --fetch-timeout \
         for a very slow remote)",
        after.as_secs()
    )]
    FetchTimeout {
        /// The remote's URL.
        url: String,
        /// How long ferry waited.
        after: Duration,
    },
    /// An earlier fetch of the same repository (another app, or a hung one) still holds its
    /// cache clone.
    #[error("fetching {url}: an earlier fetch of this repository is still running after {}s", after.as_secs())]
    FetchBusy {
        /// The remote's URL.
        url: String,
        /// How long ferry waited.
        after: Duration,
    },
    /// The SSH server's host key is not in the known_hosts file, or differs from it.
    #[error("cannot fetch {url}: {reason}")]
    HostKey {
        /// The remote's URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The remote refused the configured credential (a wrong or expired token, an
    /// unregistered key); `what` names it by where it comes from, never by value.
    #[error("cannot fetch {url}: the server refused {what}")]
    CredentialsRefused {
        /// The remote's URL.
        url: String,
        /// The credential, in words.
        what: String,
    },
    /// The repository URL carries a user name/token/password.
    #[error(
        "{url}: credentials inside a repository URL are refused (they would be logged and \
         stored); put the token in auth.tokenFile or auth.tokenEnv, and the user in auth.username"
    )]
    CredentialsInUrl {
        /// The remote's URL.
        url: String,
    },
    /// A local repository path that does not exist or is not a git repository.
    #[error("{path} is not a git repository: {}", .source.message())]
    NotARepository {
        /// The path concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: git2::Error,
    },
    /// The tracked ref does not exist in the repository.
    #[error("{reference} not found in {url}")]
    RefNotFound {
        /// The remote's URL.
        url: String,
        /// The ref looked for.
        reference: String,
    },
    /// The configured directory does not exist at that commit.
    #[error("path {path:?} does not exist at commit {sha}")]
    PathNotFound {
        /// The path concerned.
        path: String,
        /// The commit.
        sha: String,
    },
    /// A file is over the size limit; it is not read into memory.
    #[error("{path} is {size} bytes, over the limit of {limit} bytes")]
    FileTooLarge {
        /// The path concerned.
        path: String,
        /// Its size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// A manifest path is a symbolic link: refused rather than skipped, since skipping it
    /// would apply the rest of the commit without the objects the author meant it to hold.
    #[error(
        "{path} is a symbolic link (to {target:?}); ferry reads manifests as committed and \
         does not follow links: commit the file itself, or add it to `ignore`"
    )]
    Symlink {
        /// The path concerned.
        path: String,
        /// Where the link points.
        target: String,
    },
    /// Credentials were configured but could not be read.
    #[error("git credentials: {0}")]
    Credentials(String),
    /// The remote refused the push (protected branch, no permission, moved meanwhile).
    #[error("push to {url} refused: {cause}")]
    PushRejected {
        /// The remote's URL.
        url: String,
        /// What the remote said.
        cause: String,
    },
    /// A commit to revert that the tracked branch does not contain.
    #[error(
        "commit {commit} is not on {branch} (tip {tip}): ferry reverts only commits of the \
         branch it tracks"
    )]
    NotOnBranch {
        /// The commit asked for.
        commit: String,
        /// The tracked branch.
        branch: String,
        /// The branch's tip.
        tip: String,
    },
    /// A revert needs a branch to commit on.
    #[error("cannot write a revert: {0}")]
    NotABranch(String),
    /// Creating the revert commit failed because the revert does not apply cleanly.
    #[error("reverting {sha} conflicts in: {}", files.join(", "))]
    RevertConflict {
        /// The commit.
        sha: String,
        /// The files in conflict.
        files: Vec<String>,
    },
    /// Any other libgit2 failure, with what we were doing.
    #[error("git: {context}: {source}")]
    Git {
        /// What ferry was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: git2::Error,
    },
    /// Filesystem failure around the clone cache.
    #[error("{context}: {source}")]
    Io {
        /// What ferry was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl SourceError {
    pub(crate) fn git(context: impl Into<String>) -> impl FnOnce(git2::Error) -> SourceError {
        let context = context.into();
        move |source| SourceError::Git { context, source }
    }
}
