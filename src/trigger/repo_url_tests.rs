use super::*;

#[test]
fn remote_spellings_normalize_to_host_and_path() {
    let cases: &[(&str, Option<&str>)] = &[
        (
            "https://github.com/Org/Repo.git",
            Some("github.com/org/repo"),
        ),
        ("http://github.com/org/repo", Some("github.com/org/repo")),
        ("https://github.com/org/repo/", Some("github.com/org/repo")),
        (
            "https://github.com/org/repo.git/",
            Some("github.com/org/repo"),
        ),
        ("git@github.com:org/repo.git", Some("github.com/org/repo")),
        ("git@github.com:/org/repo.git", Some("github.com/org/repo")),
        ("github.com:org/repo", Some("github.com/org/repo")),
        ("ssh://git@github.com/org/repo", Some("github.com/org/repo")),
        (
            "ssh://git@github.com:22/org/repo.git",
            Some("github.com/org/repo"),
        ),
        (
            "ssh://git@github.com:org/repo.git",
            Some("github.com/org/repo"),
        ),
        (
            "git+ssh://git@github.com/org/repo",
            Some("github.com/org/repo"),
        ),
        ("git://github.com/org/repo.git", Some("github.com/org/repo")),
        (
            "https://user:token@github.com/org/repo",
            Some("github.com/org/repo"),
        ),
        (
            "https://x-access-token:a@b@github.com/org/repo",
            Some("github.com/org/repo"),
        ),
        ("HTTPS://GitHub.COM/Org/Repo", Some("github.com/org/repo")),
        ("https://github.com//org//repo", Some("github.com/org/repo")),
        (
            "https://github.com/org/repo?x=1#frag",
            Some("github.com/org/repo"),
        ),
        (
            "  https://github.com/org/repo \n",
            Some("github.com/org/repo"),
        ),
        (
            "https://gitlab.example.com:8443/group/sub/project.git",
            Some("gitlab.example.com/group/sub/project"),
        ),
        (
            "ssh://git@gitea.local:2222/team/cluster.git",
            Some("gitea.local/team/cluster"),
        ),
        ("ssh://git@[::1]:2222/org/repo.git", Some("[::1]/org/repo")),
        ("https://github.com/", None),
        ("https://github.com", None),
        ("https:///org/repo", None),
        ("", None),
        ("   ", None),
    ];
    for (input, want) in cases {
        assert_eq!(
            normalize_repo_url(input).as_deref(),
            *want,
            "normalize_repo_url({input:?})"
        );
    }
}

#[test]
fn local_paths_normalize_lexically() {
    let cases: &[(&str, &str)] = &[
        ("file:///srv/repo", "/srv/repo"),
        ("file:///srv/repo/", "/srv/repo"),
        ("file://localhost/srv/repo", "/srv/repo"),
        ("/srv/repo", "/srv/repo"),
        ("/srv/./repo//", "/srv/repo"),
        ("/srv/x/../repo", "/srv/repo"),
        ("/srv/repo/.git", "/srv/repo"),
        ("/srv/Repo.git", "/srv/Repo.git"),
        ("/..", "/"),
        ("./repo", "repo"),
        ("../a/./b/..", "../a"),
        (".", "."),
        ("./sub:dir/x", "sub:dir/x"),
        ("C:\\repos\\x", "C:\\repos\\x"),
    ];
    for (input, want) in cases {
        assert_eq!(
            normalize_repo_url(input).as_deref(),
            Some(*want),
            "normalize_repo_url({input:?})"
        );
    }
}

#[test]
fn same_repo_matches_ssh_and_https_forms() {
    let yes = [
        (
            "https://github.com/acme/infra.git",
            "git@github.com:acme/infra.git",
        ),
        (
            "https://github.com/Acme/Infra",
            "ssh://git@github.com:22/acme/infra.git",
        ),
        (
            "http://gitlab.example.com/mike/diaspora.git",
            "git@gitlab.example.com:mike/diaspora.git",
        ),
        (
            "https://ci:tok@gitea.local:3000/team/cluster",
            "ssh://git@gitea.local:2222/team/cluster.git",
        ),
        ("file:///srv/repo", "/srv/repo/"),
    ];
    for (a, b) in yes {
        assert!(same_repo(a, b), "{a} vs {b}");
        assert!(same_repo(b, a), "{b} vs {a}");
    }
    let no = [
        (
            "https://github.com/acme/infra",
            "https://github.com/acme/infra2",
        ),
        (
            "https://github.com/acme/infra",
            "https://gitlab.com/acme/infra",
        ),
        (
            "https://github.com/acme/infra",
            "https://github.com/other/infra",
        ),
        (
            "git@github.com:acme/infra.git",
            "git@github.com:acme/infra-old.git",
        ),
        ("/srv/repo", "/srv/Repo"),
        (
            "/srv/github.com/acme/infra",
            "https://github.com/acme/infra",
        ),
        ("", ""),
        ("https://github.com/", "https://github.com/"),
    ];
    for (a, b) in no {
        assert!(!same_repo(a, b), "{a} vs {b}");
    }
}
