use super::*;

#[test]
fn credentials_in_urls_are_refused() {
    for url in [
        "https://user:s3cret@example.com/org/repo.git",
        "https://ghp_token@example.com/org/repo.git",
        "http://u:p@127.0.0.1:8080/repo.git",
        "ssh://git:pw@example.com/org/repo.git",
    ] {
        let err = check_url(url).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("credentials"), "{msg}");
        assert!(
            !msg.contains("s3cret") && !msg.contains("ghp_token"),
            "{msg}"
        );
    }
    for url in [
        "https://example.com/org/repo.git",
        "ssh://git@example.com:2222/org/repo.git",
        "git@example.com:org/repo.git",
        "file:///srv/repo.git",
    ] {
        assert!(check_url(url).is_ok(), "{url}");
    }
}
