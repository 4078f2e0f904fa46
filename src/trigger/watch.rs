//! The file-watch trigger: for an app whose repository is a local path, a change to the work
//! tree or to the repository's refs requests a sync, debounced.
//!
//! This is the inner loop for someone editing manifests next to a local cluster: save a file
//! (or commit, or check out another branch) and ferry syncs a moment later.
//!
//! What is watched, with `notify`'s recommended (native) watcher:
//!
//! - the work tree, recursively (a bare repository has none);
//! - the git dir: `HEAD`, `packed-refs` and everything under `refs/`. When the git dir lies
//!   inside the work tree (the usual `.git`) the recursive work-tree watch already covers it;
//!   otherwise (bare repository, linked worktree, separate git dir) the git dir is watched
//!   non-recursively (for `HEAD` and `packed-refs`, which git replaces by renaming a lock file)
//!   and its `refs/` recursively.
//!
//! What is ignored: anything else in the git dir (`objects/`, `index`, `logs/`, `FETCH_HEAD`…),
//! lock files (`*.lock`, git writes `refs/heads/main.lock` then renames it), anything under a
//! `target/` or nested `.git` directory of the work tree, and read-only access (opening or
//! closing a file without writing it, which ferry's own reads of the repository would cause).
//!
//! notify calls back on its own thread; the callback only classifies the event and pushes a
//! token into a bounded tokio channel. A tokio task debounces: after the first relevant event
//! it waits until `debounce` has passed without another (but never longer than
//! [`MAX_DELAY_FACTOR`] × `debounce`, so a file rewritten every few milliseconds still syncs),
//! then calls back once.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use notify::event::{Event, EventKind};
use notify::{RecursiveMode, Watcher};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::SyncRequests;
use crate::trigger::TriggerKind;

/// A burst of changes that never goes quiet still triggers after this many `debounce` periods
/// from its first event.
pub const MAX_DELAY_FACTOR: u32 = 10;

/// How many change tokens may wait in the channel between notify's thread and the debounce
/// task. One pending token is enough to (re)start the quiet period, so a full channel loses
/// nothing.
const CHANNEL_CAPACITY: usize = 64;

/// Why the file watcher could not start.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// The path is not a git repository (or cannot be read).
    #[error("cannot open git repository {path}: {source}")]
    OpenRepo {
        /// The repository path given to the watcher.
        path: PathBuf,
        /// What git2 reported.
        #[source]
        source: git2::Error,
    },
    /// The operating system's file watcher could not be created (for example, the inotify
    /// instance limit is reached).
    #[error("cannot start a file watcher for {path}: {source}")]
    Start {
        /// The repository path given to the watcher.
        path: PathBuf,
        /// What notify reported.
        #[source]
        source: notify::Error,
    },
    /// One path of the repository could not be watched (for example, the inotify watch limit
    /// `fs.inotify.max_user_watches` is reached).
    #[error("cannot watch {path}: {source}")]
    Watch {
        /// The path that could not be watched (the work tree, the git dir or its `refs/`).
        path: PathBuf,
        /// What notify reported.
        #[source]
        source: notify::Error,
    },
}

/// Watches the local repository at `app`'s `repo_dir` and requests a
/// [`TriggerKind::Watch`] sync of `app` when its work tree or refs change.
///
/// A thin wrapper over [`spawn_watcher`]; see it for what is watched, the debounce and
/// shutdown. Must be called from within a tokio runtime.
pub fn watch_app(
    app: SyncRequests,
    repo_dir: &Path,
    debounce: Duration,
    shutdown: watch::Receiver<bool>,
) -> Result<(), WatchError> {
    spawn_watcher(
        move || app.request(TriggerKind::Watch),
        repo_dir,
        debounce,
        shutdown,
    )
}

/// Watches the git repository at `repo_dir` (its work tree, `HEAD`, `packed-refs` and
/// `refs/`) and calls `on_change` once per burst of relevant changes: after the first change,
/// once `debounce` has passed with no further change (at most [`MAX_DELAY_FACTOR`] ×
/// `debounce` after the first).
///
/// `repo_dir` is the repository's top directory (or its git dir, or a bare repository). The
/// watches are in place when this returns `Ok`, so any later change is seen. The watcher lives
/// in a spawned task until `shutdown` turns true (or its sender is dropped); a burst still
/// waiting for quiet at that moment is dropped. Must be called from within a tokio runtime.
pub fn spawn_watcher(
    on_change: impl Fn() + Send + Sync + 'static,
    repo_dir: &Path,
    debounce: Duration,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), WatchError> {
    let layout = RepoLayout::open(repo_dir)?;
    let (tx, mut rx) = mpsc::channel::<()>(CHANNEL_CAPACITY);

    let filter = layout.clone();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<Event>| match res {
        Ok(event) => {
            if filter.is_relevant(&event) {
                // Full: a token is already pending, which restarts the quiet period anyway.
                // Closed: the debounce task stopped; the watcher is about to be dropped.
                let _ = tx.try_send(());
            }
        }
        Err(e) => tracing::warn!(error = %e, "file watcher error"),
    })
    .map_err(|source| WatchError::Start {
        path: repo_dir.to_path_buf(),
        source,
    })?;

    for (path, mode) in layout.watch_list() {
        watcher
            .watch(&path, mode)
            .map_err(|source| WatchError::Watch { path, source })?;
    }
    tracing::debug!(repo = %repo_dir.display(), "watching local repository");

    tokio::spawn(async move {
        // Owned by the task: dropping it (on shutdown) removes the watches and ends
        // notify's thread.
        let _watcher = watcher;
        let max_delay = debounce.saturating_mul(MAX_DELAY_FACTOR);
        loop {
            // Wait for the first relevant change.
            tokio::select! {
                got = rx.recv() => if got.is_none() { return },
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
            // Wait for quiet.
            let deadline = Instant::now() + max_delay;
            loop {
                let quiet = (Instant::now() + debounce).min(deadline);
                tokio::select! {
                    got = rx.recv() => if got.is_none() { return },
                    _ = tokio::time::sleep_until(quiet) => break,
                    _ = shutdown.wait_for(|stop| *stop) => return,
                }
            }
            on_change();
        }
    });
    Ok(())
}

/// Where a repository's work tree and git dirs are, as git2 resolved them (so the paths
/// notify reports, which start with the watched path, compare equal).
#[derive(Debug, Clone)]
struct RepoLayout {
    /// The work tree; `None` for a bare repository.
    workdir: Option<PathBuf>,
    /// The git dir and, for a linked worktree, the common dir holding the shared refs.
    git_dirs: Vec<PathBuf>,
}

impl RepoLayout {
    fn open(repo_dir: &Path) -> Result<Self, WatchError> {
        let repo = git2::Repository::open(repo_dir).map_err(|source| WatchError::OpenRepo {
            path: repo_dir.to_path_buf(),
            source,
        })?;
        let workdir = repo.workdir().map(clean);
        let mut git_dirs = vec![clean(repo.path())];
        let common = clean(repo.commondir());
        if !git_dirs.contains(&common) {
            git_dirs.push(common);
        }
        Ok(RepoLayout { workdir, git_dirs })
    }

    /// What to hand to the watcher: the work tree recursively, and each git dir outside it as
    /// itself (non-recursively) plus its `refs/` (recursively).
    fn watch_list(&self) -> Vec<(PathBuf, RecursiveMode)> {
        let mut list = Vec::new();
        if let Some(workdir) = &self.workdir {
            list.push((workdir.clone(), RecursiveMode::Recursive));
        }
        for git_dir in &self.git_dirs {
            let covered = list
                .iter()
                .any(|(p, m)| *m == RecursiveMode::Recursive && git_dir.starts_with(p));
            if covered {
                continue;
            }
            list.push((git_dir.clone(), RecursiveMode::NonRecursive));
            let refs = git_dir.join("refs");
            if refs.is_dir() {
                list.push((refs, RecursiveMode::Recursive));
            }
        }
        list
    }

    /// True when `event` may change what ferry would sync.
    fn is_relevant(&self, event: &Event) -> bool {
        match event.kind {
            // Reads (open, close without write): ferry's own reads of the repository.
            EventKind::Access(_) => false,
            // The kernel's queue overflowed: something changed, we cannot tell what.
            _ if event.need_rescan() => true,
            _ => event.paths.iter().any(|p| self.is_relevant_path(p)),
        }
    }

    fn is_relevant_path(&self, path: &Path) -> bool {
        if path.extension().is_some_and(|ext| ext == "lock") {
            return false;
        }
        // The longest matching git dir decides (a linked worktree's git dir lies inside the
        // common dir).
        let in_git_dir = self
            .git_dirs
            .iter()
            .filter_map(|g| path.strip_prefix(g).ok())
            .min_by_key(|rel| rel.components().count());
        if let Some(rel) = in_git_dir {
            return rel == Path::new("HEAD")
                || rel == Path::new("packed-refs")
                || (rel.starts_with("refs") && rel != Path::new("refs"));
        }
        let Some(rel) = self
            .workdir
            .as_ref()
            .and_then(|w| path.strip_prefix(w).ok())
        else {
            return false;
        };
        !rel.components().any(|c| match c {
            Component::Normal(name) => name == "target" || name == ".git",
            _ => false,
        })
    }
}

/// The path without a trailing separator (git2 reports directories with one).
fn clean(path: &Path) -> PathBuf {
    path.components().collect()
}

#[cfg(test)]
#[path = "watch_tests.rs"]
mod tests;
