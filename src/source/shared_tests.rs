use super::super::test_git::git;
use super::*;
use std::path::PathBuf;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn apps_sharing_a_url_share_fetches_and_never_fetch_at_once() {
    let work = tempfile::tempdir().unwrap();
    let bare = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    git(work.path(), &["init", "-q", "-b", "main"]);
    git(work.path(), &["commit", "-q", "--allow-empty", "-m", "one"]);
    git(bare.path(), &["init", "-q", "--bare", "-b", "main"]);
    git(
        work.path(),
        &["push", "-q", bare.path().to_str().unwrap(), "main"],
    );
    let url = format!("file://{}", bare.path().display());
    let request = FetchRequest {
        location: RepoLocation::Remote(url.clone()),
        reference: GitRef::Branch("main".into()),
        auth: GitAuth::default(),
        cache_dir: cache.path().to_path_buf(),
        timeout: Duration::from_secs(60),
        max_age: Duration::ZERO,
    };
    let start = Arc::new(tokio::sync::Barrier::new(12));
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let (request, start) = (request.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                fetch_shared(request).await
            })
        })
        .collect();
    let mut shas = Vec::new();
    for task in tasks {
        let (_, commit) = task.await.unwrap().unwrap();
        shas.push(commit.sha);
    }
    shas.dedup();
    assert_eq!(shas.len(), 1, "every app sees the same commit");
    let fetches = fetch_count(cache.path(), &url).await;
    assert!(
        (1..=2).contains(&fetches),
        "12 apps asking at once cost {fetches} fetches"
    );
    // A later request fetches again (it must see commits pushed since).
    git(work.path(), &["commit", "-q", "--allow-empty", "-m", "two"]);
    git(
        work.path(),
        &["push", "-q", bare.path().to_str().unwrap(), "main"],
    );
    let (_, commit) = fetch_shared(request).await.unwrap();
    assert_eq!(commit.subject, "two");
}

/// A bare repository with one commit on `main`, the work tree that pushes to it, its URL.
struct Remote {
    work: tempfile::TempDir,
    bare: tempfile::TempDir,
    url: String,
}

impl Remote {
    fn new() -> Remote {
        let work = tempfile::tempdir().unwrap();
        let bare = tempfile::tempdir().unwrap();
        git(work.path(), &["init", "-q", "-b", "main"]);
        git(bare.path(), &["init", "-q", "--bare", "-b", "main"]);
        let url = format!("file://{}", bare.path().display());
        let remote = Remote { work, bare, url };
        remote.push("one");
        remote
    }

    fn push(&self, subject: &str) {
        git(
            self.work.path(),
            &["commit", "-q", "--allow-empty", "-m", subject],
        );
        git(
            self.work.path(),
            &["push", "-q", self.bare.path().to_str().unwrap(), "main"],
        );
    }

    fn request(
        &self,
        cache: &std::path::Path,
        reference: GitRef,
        max_age: Duration,
    ) -> FetchRequest {
        FetchRequest {
            location: RepoLocation::Remote(self.url.clone()),
            reference,
            auth: GitAuth::default(),
            cache_dir: cache.to_path_buf(),
            timeout: Duration::from_secs(120),
            max_age,
        }
    }
}

const POLL: Duration = Duration::from_secs(3600);

fn main_branch() -> GitRef {
    GitRef::Branch("main".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn polls_within_the_window_share_one_fetch() {
    let remote = Remote::new();
    let cache = tempfile::tempdir().unwrap();
    let request = remote.request(cache.path(), main_branch(), POLL);
    let start = Arc::new(tokio::sync::Barrier::new(200));
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let (request, start) = (request.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                fetch_shared(request).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    for _ in 0..200 {
        fetch_shared(request.clone()).await.unwrap();
    }
    let fetches = fetch_count(cache.path(), &remote.url).await;
    assert_eq!(
        fetches, 1,
        "400 polls of one repository within its interval"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_request_sees_a_commit_pushed_just_before_it() {
    let remote = Remote::new();
    let cache = tempfile::tempdir().unwrap();
    let poll = remote.request(cache.path(), main_branch(), POLL);
    let (_, first) = fetch_shared(poll.clone()).await.unwrap();
    assert_eq!(first.subject, "one");
    remote.push("two");
    // A poll inside the window reuses the fetch (it sees "two" at a later interval)...
    let (_, polled) = fetch_shared(poll.clone()).await.unwrap();
    assert_eq!(polled.subject, "one");
    assert_eq!(fetch_count(cache.path(), &remote.url).await, 1);
    // ...a webhook or a manual sync asks for a fresh one and sees the push.
    let (_, fresh) = fetch_shared(poll.clone().reusing(Duration::ZERO))
        .await
        .unwrap();
    assert_eq!(fresh.subject, "two");
    // A caller tracking HEAD needs the default branch, which a branch fetch did not learn.
    let (_, head) = fetch_shared(remote.request(cache.path(), GitRef::Head, POLL))
        .await
        .unwrap();
    assert_eq!(head.subject, "two");
    assert_eq!(fetch_count(cache.path(), &remote.url).await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_callers_of_one_url_never_fail() {
    let remote = Remote::new();
    let cache = tempfile::tempdir().unwrap();
    let start = Arc::new(tokio::sync::Barrier::new(1000));
    let began = Instant::now();
    let tasks: Vec<_> = (0..1000)
        .map(|i| {
            // Half track HEAD (their fetch records the remote's HEAD), a third ask fresh.
            let reference = if i % 2 == 0 {
                GitRef::Head
            } else {
                main_branch()
            };
            let max_age = if i % 3 == 0 { Duration::ZERO } else { POLL };
            let request = remote.request(cache.path(), reference, max_age);
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                fetch_shared(request).await
            })
        })
        .collect();
    let mut failures = Vec::new();
    for task in tasks {
        if let Err(e) = task.await.unwrap() {
            failures.push(e.to_string());
        }
    }
    let fetches = fetch_count(cache.path(), &remote.url).await;
    eprintln!(
        "1000 concurrent callers: {:?}, {fetches} fetches",
        began.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} of 1000 failed, first: {:?}",
        failures.len(),
        failures.first()
    );
}

/// Every file of a directory tree with its inode, size and modification time; but
/// `FETCH_HEAD`, which libgit2 truncates on every fetch even when told not to update it
/// (ferry never reads it; it stays empty).
fn snapshot(dir: &std::path::Path) -> Vec<(PathBuf, u64, u64, std::time::SystemTime)> {
    use std::os::unix::fs::MetadataExt;
    let mut found = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                dirs.push(entry.path());
            } else if entry.file_name() != "FETCH_HEAD" {
                found.push((
                    entry.path(),
                    meta.ino(),
                    meta.len(),
                    meta.modified().unwrap(),
                ));
            }
        }
    }
    found.sort();
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_that_finds_nothing_new_writes_nothing() {
    let remote = Remote::new();
    let cache = tempfile::tempdir().unwrap();
    for reference in [GitRef::Head, main_branch()] {
        fetch_shared(remote.request(cache.path(), reference, Duration::ZERO))
            .await
            .unwrap();
    }
    let before = snapshot(cache.path());
    std::thread::sleep(Duration::from_millis(20));
    for reference in [GitRef::Head, main_branch()] {
        fetch_shared(remote.request(cache.path(), reference, Duration::ZERO))
            .await
            .unwrap();
    }
    assert_eq!(fetch_count(cache.path(), &remote.url).await, 4);
    assert_eq!(
        snapshot(cache.path()),
        before,
        "the cache clone was written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_file_left_by_a_killed_process_is_removed() {
    let remote = Remote::new();
    let cache = tempfile::tempdir().unwrap();
    // An earlier process fetched, and was killed while updating the branch's ref.
    let request = remote.request(cache.path(), main_branch(), Duration::ZERO);
    let mut earlier = open(&request).unwrap();
    earlier.fetch().unwrap();
    let clone = super::super::repo::cache_path(&remote.url, cache.path());
    let lock = clone.join("refs/remotes/origin/main.lock");
    let file = std::fs::File::create(&lock).unwrap();
    file.set_modified(std::time::SystemTime::now() - 2 * STALE_LOCK)
        .unwrap();
    drop(file);
    remote.push("two");
    let (_, commit) = fetch_shared(request).await.unwrap();
    assert_eq!(commit.subject, "two");
    assert!(!lock.exists());
}
