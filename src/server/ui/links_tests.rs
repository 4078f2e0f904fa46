use super::host_and_path;

#[test]
fn urls_of_every_shape_give_host_and_path() {
    let cases = [
        (
            "https://github.com/acme/deploy.git",
            "github.com",
            "acme/deploy",
        ),
        (
            "http://127.0.0.1:3000/platform/apps.git",
            "127.0.0.1:3000",
            "platform/apps",
        ),
        (
            "ssh://git@gitlab.com:2222/group/sub/repo.git",
            "gitlab.com",
            "group/sub/repo",
        ),
        (
            "git@bitbucket.org:team/repo.git",
            "bitbucket.org",
            "team/repo",
        ),
    ];
    for (url, host, path) in cases {
        assert_eq!(
            host_and_path(url),
            Some((host.to_string(), path.to_string())),
            "{url}"
        );
    }
    assert_eq!(host_and_path("https://host"), None);
}
