use super::*;

#[test]
fn parses_locations() {
    assert_eq!(
        RepoLocation::parse("https://github.com/a/b.git"),
        RepoLocation::Remote("https://github.com/a/b.git".into())
    );
    assert_eq!(
        RepoLocation::parse("git@github.com:a/b.git"),
        RepoLocation::Remote("git@github.com:a/b.git".into())
    );
    assert_eq!(
        RepoLocation::parse("file:///tmp/x"),
        RepoLocation::Remote("file:///tmp/x".into())
    );
    assert_eq!(
        RepoLocation::parse("./examples"),
        RepoLocation::Local(PathBuf::from("./examples"))
    );
    assert_eq!(
        RepoLocation::parse("/srv/repo"),
        RepoLocation::Local(PathBuf::from("/srv/repo"))
    );
}

#[test]
fn strips_credentials_from_https_urls() {
    assert_eq!(
        strip_userinfo("https://user:s3cret@example.com/org/repo.git"),
        "https://example.com/org/repo.git"
    );
    assert_eq!(
        strip_userinfo("ssh://git@example.com/org/repo.git"),
        "ssh://git@example.com/org/repo.git"
    );
}
