use super::super::test_git::git;
use super::*;
use std::sync::Arc;

#[test]
fn peeks_branches_tags_and_head_of_a_remote_without_fetching() {
    let work = tempfile::tempdir().unwrap();
    let bare = tempfile::tempdir().unwrap();
    git(work.path(), &["init", "-q", "-b", "main"]);
    git(work.path(), &["commit", "-q", "--allow-empty", "-m", "one"]);
    git(work.path(), &["tag", "-a", "v1", "-m", "release"]);
    git(work.path(), &["commit", "-q", "--allow-empty", "-m", "two"]);
    let head = git(work.path(), &["rev-parse", "HEAD"]);
    let tagged = git(work.path(), &["rev-parse", "v1^{commit}"]);
    git(bare.path(), &["init", "-q", "--bare", "-b", "main"]);
    git(
        work.path(),
        &["push", "-q", bare.path().to_str().unwrap(), "main", "v1"],
    );
    let url = RepoLocation::Remote(format!("file://{}", bare.path().display()));
    let auth = GitAuth::default();
    let peek = |r: GitRef| peek_head(&url, &r, &auth).unwrap();
    assert_eq!(peek(GitRef::Branch("main".into())), Some(head.clone()));
    assert_eq!(peek(GitRef::Head), Some(head.clone()));
    assert_eq!(peek(GitRef::Tag("v1".into())), Some(tagged));
    assert_eq!(peek(GitRef::Commit(head.clone())), None);
    let missing = peek_head(&url, &GitRef::Branch("nope".into()), &auth).unwrap_err();
    assert_eq!(
        missing.to_string(),
        format!("branch nope not found in {}", url.display())
    );
    let local = RepoLocation::Local(work.path().to_path_buf());
    assert_eq!(
        peek_head(&local, &GitRef::Branch("main".into()), &auth).unwrap(),
        Some(head)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn apps_of_one_repository_share_a_listing_and_still_see_a_push() {
    let work = tempfile::tempdir().unwrap();
    let bare = tempfile::tempdir().unwrap();
    git(work.path(), &["init", "-q", "-b", "main"]);
    git(work.path(), &["commit", "-q", "--allow-empty", "-m", "one"]);
    git(bare.path(), &["init", "-q", "--bare", "-b", "main"]);
    let push = || {
        git(
            work.path(),
            &["push", "-q", bare.path().to_str().unwrap(), "main"],
        )
    };
    push();
    let url = format!("file://{}", bare.path().display());
    let location = RepoLocation::Remote(url.clone());
    let auth = GitAuth::default();
    let main = GitRef::Branch("main".into());
    let start = Arc::new(tokio::sync::Barrier::new(300));
    let tasks: Vec<_> = (0..300)
        .map(|_| {
            let (location, main, auth, start) =
                (location.clone(), main.clone(), auth.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                peek_shared(&location, &main, &auth).await
            })
        })
        .collect();
    let one = git(work.path(), &["rev-parse", "HEAD"]);
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), Some(one.clone()));
    }
    // Callers share a listing that started after they asked, so how many there are depends on
    // how the 300 tasks were scheduled (one or two when they all ask at once, a few more on a
    // busy machine); without sharing it is 300.
    let listings = listing_count(&url, &auth).await;
    assert!(
        (1..30).contains(&listings),
        "300 peeks cost {listings} listings"
    );
    // A later peek lists again: it sees the push made since.
    git(work.path(), &["commit", "-q", "--allow-empty", "-m", "two"]);
    push();
    let two = git(work.path(), &["rev-parse", "HEAD"]);
    assert_eq!(
        peek_shared(&location, &main, &auth).await.unwrap(),
        Some(two)
    );
}
