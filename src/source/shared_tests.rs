use super::*;
use std::process::Command;

fn git(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {out:?}");
}

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
