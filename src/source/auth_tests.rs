use super::*;

#[test]
fn ssh_ports_come_from_the_url() {
    assert_eq!(ssh_port("ssh://git@example.com:2222/org/repo.git"), 2222);
    assert_eq!(ssh_port("ssh://git@[::1]:2200/repo"), 2200);
    assert_eq!(ssh_port("ssh://example.com/org/repo.git"), 22);
    assert_eq!(ssh_port("git@example.com:org/repo.git"), 22);
}

#[test]
fn a_token_is_never_offered_over_plain_http_unless_allowed() {
    let mut auth = GitAuth {
        token_env: Some("GIT_TOKEN".into()),
        ..Default::default()
    };
    let err = auth
        .check_transport("http://git.example.com/a.git")
        .unwrap_err();
    assert!(err.to_string().contains("over plain http"), "{err}");
    assert!(auth
        .check_transport("HTTP://git.example.com/a.git")
        .is_err());
    assert!(auth
        .check_transport("https://git.example.com/a.git")
        .is_ok());
    auth.allow_plain_http = true;
    assert!(auth.check_transport("http://git.example.com/a.git").is_ok());
    // No token: nothing to leak.
    assert!(GitAuth::default()
        .check_transport("http://git.example.com/a.git")
        .is_ok());
}
