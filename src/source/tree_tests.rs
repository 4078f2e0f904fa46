use super::super::test_git::git;
use super::super::{GitAuth, GitRef, RepoLocation};
use super::*;

#[test]
fn lists_files_dirs_and_links_of_one_commit() {
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    git(w, &["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(w.join("base/sub")).unwrap();
    std::fs::create_dir_all(w.join("basement")).unwrap();
    std::fs::write(w.join("base/a.yaml"), "a: 1\n").unwrap();
    std::fs::write(w.join("base/sub/b.yaml"), "b: 2\n").unwrap();
    std::fs::write(w.join("basement/c.yaml"), "c: 3\n").unwrap();
    std::os::unix::fs::symlink("../base/a.yaml", w.join("basement/link.yaml")).unwrap();
    git(w, &["add", "."]);
    git(w, &["commit", "-q", "-m", "one"]);
    let sha = git(w, &["rev-parse", "HEAD"]);
    std::fs::write(w.join("base/a.yaml"), "a: changed\n").unwrap();
    git(w, &["commit", "-q", "-am", "two"]);

    let cache = tempfile::tempdir().unwrap();
    let source = GitSource::open(
        RepoLocation::Local(w.to_path_buf()),
        GitRef::Head,
        GitAuth::default(),
        cache.path(),
    )
    .unwrap();
    let tree = source.commit_tree(&sha).unwrap();
    assert_eq!(tree.entry("base"), Some(TreeEntry::Dir));
    assert_eq!(tree.entry("base/a.yaml"), Some(TreeEntry::File));
    assert_eq!(tree.entry(""), Some(TreeEntry::Dir));
    assert_eq!(tree.entry("bas"), None);
    assert_eq!(
        tree.entry("basement/link.yaml"),
        Some(TreeEntry::Symlink("../base/a.yaml".into()))
    );
    // `base/` is a whole segment: `basement/` is not below it.
    assert_eq!(tree.files_under("base"), ["base/a.yaml", "base/sub/b.yaml"]);
    // The old commit's content, not the work tree's or the newer commit's.
    assert_eq!(tree.read("base/a.yaml", 100).unwrap(), b"a: 1\n");
    assert!(matches!(
        tree.read("base/a.yaml", 2),
        Err(SourceError::FileTooLarge { size: 5, .. })
    ));
    assert!(matches!(
        tree.read("base/none.yaml", 100),
        Err(SourceError::PathNotFound { .. })
    ));
}
