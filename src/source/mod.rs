//! Stage 1 of the pipeline: the git source.
//!
//! Clones a repository into a cache directory and fetches it incrementally (or opens a local
//! repository in place), resolves the tracked ref (branch, tag, pinned commit or the remote's
//! default branch) to a commit, reads the files of a directory at that commit straight from the
//! object database (no work-tree checkout), and describes commits (sha, author, time, subject,
//! body, the commit a revert undoes). It never parses YAML.

mod auth;
mod commit;
mod lineage;
mod peek;
mod repo;
mod revert;

pub use auth::GitAuth;
pub use commit::{same_commit, short_sha, CommitInfo};
pub use lineage::LaterCommit;
pub use peek::peek_head;
pub use repo::{strip_userinfo, GitSource, RepoLocation};
pub use revert::{revert_message, RevertCommit};

use std::path::PathBuf;

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
    /// The remote could not be reached or refused us; `cause` is git's own message.
    #[error("cannot fetch {url}: {cause}")]
    Fetch { url: String, cause: String },
    /// A local repository path that does not exist or is not a git repository.
    #[error("{path} is not a git repository: {cause}")]
    NotARepository { path: PathBuf, cause: String },
    /// The tracked ref does not exist in the repository.
    #[error("{reference} not found in {url}")]
    RefNotFound { url: String, reference: String },
    /// The configured directory does not exist at that commit.
    #[error("path {path:?} does not exist at commit {sha}")]
    PathNotFound { path: String, sha: String },
    /// A file is over the size limit; it is not read into memory.
    #[error("{path} is {size} bytes, over the limit of {limit} bytes")]
    FileTooLarge {
        path: String,
        size: usize,
        limit: usize,
    },
    /// A manifest path is a symbolic link: refused rather than skipped, since skipping it
    /// would apply the rest of the commit without the objects the author meant it to hold.
    #[error(
        "{path} is a symbolic link (to {target:?}); ferry reads manifests as committed and \
         does not follow links: commit the file itself, or add it to `ignore`"
    )]
    Symlink { path: String, target: String },
    /// Credentials were configured but could not be read.
    #[error("git credentials: {0}")]
    Credentials(String),
    /// The remote refused the push (protected branch, no permission, moved meanwhile).
    #[error("push to {url} refused: {cause}")]
    PushRejected { url: String, cause: String },
    /// A commit to revert that the tracked branch does not contain.
    #[error(
        "commit {commit} is not on {branch} (tip {tip}): ferry reverts only commits of the \
         branch it tracks"
    )]
    NotOnBranch {
        commit: String,
        branch: String,
        tip: String,
    },
    /// A revert needs a branch to commit on.
    #[error("cannot write a revert: {0}")]
    NotABranch(String),
    /// Creating the revert commit failed because the revert does not apply cleanly.
    #[error("reverting {sha} conflicts in: {}", files.join(", "))]
    RevertConflict { sha: String, files: Vec<String> },
    /// Any other libgit2 failure, with what we were doing.
    #[error("git: {context}: {source}")]
    Git {
        context: String,
        #[source]
        source: git2::Error,
    },
    /// Filesystem failure around the clone cache.
    #[error("{context}: {source}")]
    Io {
        context: String,
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
