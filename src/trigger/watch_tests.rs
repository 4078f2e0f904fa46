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
