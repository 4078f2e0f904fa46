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

use crate::reconcile::worker::{AppHandle, TriggerKind};

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
    app: AppHandle,
    repo_dir: &Path,
    debounce: Duration,
    shutdown: watch::Receiver<bool>,
) -> Result<(), WatchError> {
    spawn_watcher(
        move || app.trigger(TriggerKind::Watch),
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
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use git2::{Repository, Signature};
    use notify::event::{AccessKind, CreateKind, DataChange, ModifyKind};

    const DEBOUNCE: Duration = Duration::from_millis(200);
    /// Long enough for inotify to deliver and the quiet period to pass, even on a busy box.
    const SETTLE: Duration = Duration::from_millis(1000);

    /// A repository with one commit of `apps/web/deploy.yaml` on `main`.
    fn repo_with_commit(dir: &Path) -> Repository {
        let repo = Repository::init(dir).unwrap();
        repo.set_head("refs/heads/main").unwrap();
        std::fs::create_dir_all(dir.join("apps/web")).unwrap();
        std::fs::write(dir.join("apps/web/deploy.yaml"), "kind: Job\n").unwrap();
        commit_all(&repo, "initial");
        repo
    }

    fn commit_all(repo: &Repository, message: &str) -> git2::Oid {
        let mut index = repo.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.write().unwrap();
        let tree_id = index.write_tree().unwrap();
        commit_tree(repo, tree_id, message)
    }

    fn commit_tree(repo: &Repository, tree_id: git2::Oid, message: &str) -> git2::Oid {
        let tree = repo.find_tree(tree_id).unwrap();
        let sig = Signature::now("ferry test", "test@ferry.invalid").unwrap();
        let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .unwrap()
    }

    struct Harness {
        calls: Arc<AtomicUsize>,
        stop: watch::Sender<bool>,
    }

    impl Harness {
        fn start(dir: &Path) -> Harness {
            Harness::start_with(dir, DEBOUNCE)
        }

        fn start_with(dir: &Path, debounce: Duration) -> Harness {
            let calls = Arc::new(AtomicUsize::new(0));
            let counter = calls.clone();
            let (stop, shutdown) = watch::channel(false);
            spawn_watcher(
                move || {
                    counter.fetch_add(1, Ordering::SeqCst);
                },
                dir,
                debounce,
                shutdown,
            )
            .unwrap();
            Harness { calls, stop }
        }

        fn calls(&self) -> usize {
            self.calls.load(Ordering::SeqCst)
        }
    }

    #[tokio::test]
    async fn editing_a_file_triggers_once_per_burst() {
        let tmp = tempfile::tempdir().unwrap();
        let _repo = repo_with_commit(tmp.path());
        // A longer quiet period here, so that a stalled test thread between two writes of the
        // burst cannot split it.
        let debounce = Duration::from_millis(500);
        let h = Harness::start_with(tmp.path(), debounce);

        for i in 0..5 {
            std::fs::write(
                tmp.path().join("apps/web/deploy.yaml"),
                format!("kind: Job\n# edit {i}\n"),
            )
            .unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Still inside the quiet period: nothing yet.
        assert_eq!(h.calls(), 0, "triggered before the burst went quiet");
        tokio::time::sleep(debounce + SETTLE).await;
        assert_eq!(h.calls(), 1, "5 quick writes should trigger exactly once");

        // A later, separate edit (a new file in a new directory) triggers again.
        std::fs::create_dir_all(tmp.path().join("apps/db")).unwrap();
        std::fs::write(tmp.path().join("apps/db/sts.yaml"), "kind: StatefulSet\n").unwrap();
        tokio::time::sleep(debounce + SETTLE).await;
        assert_eq!(h.calls(), 2);
    }

    #[tokio::test]
    async fn committing_triggers() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = repo_with_commit(tmp.path());
        let h = Harness::start(tmp.path());

        // A commit that touches only the git dir (objects, refs, logs), not the work tree.
        let blob = repo.blob(b"kind: DaemonSet\n").unwrap();
        let head_tree = repo.head().unwrap().peel_to_tree().unwrap();
        let mut builder = repo.treebuilder(Some(&head_tree)).unwrap();
        builder.insert("ds.yaml", blob, 0o100644).unwrap();
        let tree_id = builder.write().unwrap();
        tokio::time::sleep(SETTLE).await;
        assert_eq!(h.calls(), 0, "writing objects alone must not trigger");

        commit_tree(&repo, tree_id, "add a daemonset");
        tokio::time::sleep(SETTLE).await;
        assert_eq!(h.calls(), 1, "moving refs/heads/main should trigger once");

        // A new branch is a new ref: also a trigger.
        let head = repo.head().unwrap().peel_to_commit().unwrap();
        repo.branch("feature", &head, false).unwrap();
        tokio::time::sleep(SETTLE).await;
        assert_eq!(h.calls(), 2);
    }

    #[tokio::test]
    async fn git_internals_lock_files_and_target_do_not_trigger() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = repo_with_commit(tmp.path());
        let h = Harness::start(tmp.path());

        let git_dir = repo.path().to_path_buf();
        std::fs::create_dir_all(git_dir.join("objects/ab")).unwrap();
        std::fs::write(git_dir.join("objects/ab/cdef"), b"not really an object").unwrap();
        std::fs::write(git_dir.join("index.lock"), b"x").unwrap();
        std::fs::write(git_dir.join("refs/heads/main.lock"), b"x").unwrap();
        std::fs::write(git_dir.join("FETCH_HEAD"), b"x").unwrap();
        std::fs::write(tmp.path().join("apps/web/deploy.yaml.lock"), b"x").unwrap();
        std::fs::create_dir_all(tmp.path().join("target/debug")).unwrap();
        std::fs::write(tmp.path().join("target/debug/out"), b"x").unwrap();
        // Reading a file is not a change.
        let _ = std::fs::read(tmp.path().join("apps/web/deploy.yaml")).unwrap();
        tokio::time::sleep(SETTLE).await;
        assert_eq!(h.calls(), 0);
    }

    #[tokio::test]
    async fn shutdown_stops_watching() {
        let tmp = tempfile::tempdir().unwrap();
        let _repo = repo_with_commit(tmp.path());
        let h = Harness::start(tmp.path());

        std::fs::write(tmp.path().join("apps/web/deploy.yaml"), "kind: Job\n# 1\n").unwrap();
        tokio::time::sleep(SETTLE).await;
        assert_eq!(h.calls(), 1);

        h.stop.send(true).unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        std::fs::write(tmp.path().join("apps/web/deploy.yaml"), "kind: Job\n# 2\n").unwrap();
        tokio::time::sleep(SETTLE).await;
        assert_eq!(h.calls(), 1, "no trigger after shutdown");
    }

    #[tokio::test]
    async fn shutdown_drops_a_pending_burst() {
        let tmp = tempfile::tempdir().unwrap();
        let _repo = repo_with_commit(tmp.path());
        let h = Harness::start(tmp.path());

        std::fs::write(tmp.path().join("apps/web/deploy.yaml"), "kind: Job\n# 1\n").unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        h.stop.send(true).unwrap();
        tokio::time::sleep(SETTLE).await;
        assert_eq!(h.calls(), 0);
    }

    #[tokio::test]
    async fn bare_repository_triggers_on_ref_updates() {
        let tmp = tempfile::tempdir().unwrap();
        let work = tmp.path().join("work");
        let repo = repo_with_commit(&work);
        let bare_dir = tmp.path().join("bare.git");
        let bare = Repository::init_bare(&bare_dir).unwrap();
        let h = Harness::start(&bare_dir);

        // Push main into the bare repository: objects, then refs/heads/main.
        let mut remote = repo.remote("origin", bare_dir.to_str().unwrap()).unwrap();
        remote
            .push(&["refs/heads/main:refs/heads/main"], None)
            .unwrap();
        tokio::time::sleep(SETTLE).await;
        assert_eq!(h.calls(), 1);

        // Moving HEAD (a symbolic ref file in the git dir) is a change too.
        bare.set_head("refs/heads/other").unwrap();
        tokio::time::sleep(SETTLE).await;
        assert_eq!(h.calls(), 2);
    }

    #[tokio::test]
    async fn a_continuous_stream_still_triggers() {
        let tmp = tempfile::tempdir().unwrap();
        let _repo = repo_with_commit(tmp.path());
        let h = Harness::start(tmp.path());

        // Writes every 50 ms never leave DEBOUNCE (200 ms) of quiet; the cap (10 × 200 ms)
        // must fire anyway.
        let started = std::time::Instant::now();
        while started.elapsed() < DEBOUNCE * MAX_DELAY_FACTOR + SETTLE {
            std::fs::write(tmp.path().join("apps/web/deploy.yaml"), "kind: Job\n").unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(h.calls() >= 1, "a never-quiet burst must still trigger");
    }

    #[tokio::test]
    async fn not_a_repository_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let (_stop, shutdown) = watch::channel(false);
        let err = spawn_watcher(|| {}, tmp.path(), DEBOUNCE, shutdown).unwrap_err();
        assert!(matches!(err, WatchError::OpenRepo { .. }), "{err:?}");
        assert!(err.to_string().contains("cannot open git repository"));
        assert!(err.to_string().contains(&tmp.path().display().to_string()));
    }

    #[test]
    fn classification() {
        let tmp = tempfile::tempdir().unwrap();
        let _repo = repo_with_commit(tmp.path());
        let layout = RepoLayout::open(tmp.path()).unwrap();
        let root = layout.workdir.clone().unwrap();
        let event = |kind: EventKind, rel: &str| Event::new(kind).add_path(root.join(rel));
        let modify = EventKind::Modify(ModifyKind::Data(DataChange::Content));
        let create = EventKind::Create(CreateKind::File);
        let open = EventKind::Access(AccessKind::Open(notify::event::AccessMode::Any));

        let cases: &[(EventKind, &str, bool)] = &[
            (modify, "apps/web/deploy.yaml", true),
            (create, "new.yaml", true),
            (open, "apps/web/deploy.yaml", false),
            (modify, "apps/web/deploy.yaml.lock", false),
            (modify, "target/x", false),
            (modify, "apps/target/x", false),
            (modify, "apps/targets/x", true),
            (create, ".git/HEAD", true),
            (create, ".git/packed-refs", true),
            (create, ".git/refs/heads/main", true),
            (create, ".git/refs/tags/v1", true),
            (create, ".git/refs/heads/main.lock", false),
            (create, ".git/objects/ab/cdef", false),
            (create, ".git/index", false),
            (create, ".git/logs/HEAD", false),
            (create, ".git/ORIG_HEAD", false),
            (create, "vendor/sub/.git/HEAD", false),
        ];
        for (kind, rel, want) in cases {
            assert_eq!(
                layout.is_relevant(&event(*kind, rel)),
                *want,
                "{kind:?} {rel}"
            );
        }
        // Outside the repository altogether.
        let outside = Event::new(modify).add_path(PathBuf::from("/elsewhere/x.yaml"));
        assert!(!layout.is_relevant(&outside));
        // A kernel queue overflow asks for a rescan: assume something changed.
        let rescan = Event::new(EventKind::Other).set_flag(notify::event::Flag::Rescan);
        assert!(layout.is_relevant(&rescan));
    }

    #[test]
    fn watch_list_covers_git_dir_once() {
        let tmp = tempfile::tempdir().unwrap();
        let _repo = repo_with_commit(tmp.path());
        let layout = RepoLayout::open(tmp.path()).unwrap();
        let list = layout.watch_list();
        assert_eq!(list.len(), 1, "{list:?}");
        assert_eq!(list[0].1, RecursiveMode::Recursive);

        let bare_dir = tmp.path().join("bare.git");
        Repository::init_bare(&bare_dir).unwrap();
        let layout = RepoLayout::open(&bare_dir).unwrap();
        let list = layout.watch_list();
        assert_eq!(list.len(), 2, "{list:?}");
        assert_eq!(list[0].1, RecursiveMode::NonRecursive);
        assert!(list[1].0.ends_with("refs"));
        assert_eq!(list[1].1, RecursiveMode::Recursive);
    }
}
