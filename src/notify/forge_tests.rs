use serde_json::Value;

use super::*;
use crate::notify::config::Secret;
use crate::notify::{EventKind, SyncEvent};

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn target(forge: ForgeKind, api: &str, repository: &str) -> CommitStatusTarget {
    CommitStatusTarget {
        forge,
        api: api.into(),
        token: Secret::Env("UNUSED".into()),
        repository: repository.into(),
        context: "ferry/fluentd".into(),
    }
}

fn event(kind: EventKind) -> SyncEvent {
    SyncEvent {
        app: "fluentd".into(),
        commit: SHA.into(),
        seq: Some(4),
        trigger: "webhook".into(),
        kind,
    }
}

fn failed() -> SyncEvent {
    event(EventKind::Failed {
        reason: "DaemonSet logging/fluentd: failed: ImagePullBackOff on kwok-worker-1".into(),
    })
}

fn header<'a>(r: &'a OutgoingRequest, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn body(r: &OutgoingRequest) -> Value {
    serde_json::from_slice(&r.body).unwrap()
}

#[test]
fn gitea_status_matches_its_api() {
    let t = target(
        ForgeKind::Gitea,
        "http://127.0.0.1:3000",
        "platform/cluster",
    );
    let r = status_request(&t, "tok", &failed(), Some("https://ferry/x"))
        .unwrap()
        .unwrap();
    assert_eq!(
        r.url,
        format!("http://127.0.0.1:3000/api/v1/repos/platform/cluster/statuses/{SHA}")
    );
    assert_eq!(header(&r, "authorization"), Some("token tok"));
    let b = body(&r);
    assert_eq!(b["state"], "failure");
    assert_eq!(b["context"], "ferry/fluentd");
    assert_eq!(b["target_url"], "https://ferry/x");
    assert_eq!(
        b["description"],
        "DaemonSet logging/fluentd: failed: ImagePullBackOff on kwok-worker-1"
    );
    // An api already ending in /api/v1 is not doubled; superseded is a warning.
    let t = target(ForgeKind::Forgejo, "https://f.example/api/v1", "a/b");
    let r = status_request(
        &t,
        "tok",
        &event(EventKind::Superseded { by: "f".repeat(40) }),
        None,
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        r.url,
        format!("https://f.example/api/v1/repos/a/b/statuses/{SHA}")
    );
    assert_eq!(body(&r)["state"], "warning");
    assert!(body(&r).get("target_url").is_none());
}

#[test]
fn github_status_matches_its_api() {
    let t = target(ForgeKind::Github, "https://api.github.com", "o/r");
    let started = event(EventKind::Started {
        summary: "1 update".into(),
    });
    let r = status_request(&t, "ghp", &started, None).unwrap().unwrap();
    assert_eq!(
        r.url,
        format!("https://api.github.com/repos/o/r/statuses/{SHA}")
    );
    assert_eq!(header(&r, "authorization"), Some("Bearer ghp"));
    assert_eq!(header(&r, "accept"), Some("application/vnd.github+json"));
    assert_eq!(header(&r, "x-github-api-version"), Some("2022-11-28"));
    assert!(header(&r, "user-agent").unwrap().starts_with("ferry/"));
    assert_eq!(body(&r)["state"], "pending");
    assert_eq!(body(&r)["description"], "syncing: 1 update");
    // GitHub caps descriptions at 140 characters.
    let long = event(EventKind::Failed {
        reason: "x".repeat(500),
    });
    let r = status_request(&t, "ghp", &long, None).unwrap().unwrap();
    let d = body(&r)["description"].as_str().unwrap().to_string();
    assert_eq!(d.chars().count(), 140);
    assert!(d.ends_with('…'));
    assert_eq!(body(&r)["state"], "failure");
}

#[test]
fn gitlab_status_matches_its_api() {
    let t = target(ForgeKind::Gitlab, "https://gitlab.com", "group/sub/proj");
    let r = status_request(&t, "glpat", &failed(), None)
        .unwrap()
        .unwrap();
    assert_eq!(
        r.url,
        format!("https://gitlab.com/api/v4/projects/group%2Fsub%2Fproj/statuses/{SHA}")
    );
    assert_eq!(header(&r, "private-token"), Some("glpat"));
    assert!(header(&r, "authorization").is_none());
    let b = body(&r);
    assert_eq!(b["state"], "failed");
    assert_eq!(b["name"], "ferry/fluentd");
    let started = event(EventKind::Started {
        summary: "2 create".into(),
    });
    let r = status_request(&t, "glpat", &started, None)
        .unwrap()
        .unwrap();
    assert_eq!(body(&r)["state"], "running");
    let r = status_request(
        &t,
        "glpat",
        &event(EventKind::Interrupted {
            reason: "shutdown".into(),
        }),
        None,
    )
    .unwrap()
    .unwrap();
    assert_eq!(body(&r)["state"], "canceled");
}

#[test]
fn bitbucket_status_matches_its_api() {
    let t = target(ForgeKind::Bitbucket, "https://api.bitbucket.org", "ws/repo");
    let ok = event(EventKind::Succeeded {
        summary: "1 update".into(),
    });
    let r = status_request(&t, "bb", &ok, None).unwrap().unwrap();
    assert_eq!(
        r.url,
        format!("https://api.bitbucket.org/2.0/repositories/ws/repo/commit/{SHA}/statuses/build")
    );
    assert_eq!(header(&r, "authorization"), Some("Bearer bb"));
    let b = body(&r);
    assert_eq!(b["state"], "SUCCESSFUL");
    assert_eq!(b["key"], "ferry/fluentd");
    // `url` is required: the commit's page when ferry has none.
    assert_eq!(
        b["url"],
        format!("https://bitbucket.org/ws/repo/commits/{SHA}")
    );
    // A long context still gives a key of at most 40 characters, distinct per app.
    let mut long = t.clone();
    long.context = format!("ferry/{}", "a".repeat(60));
    let mut other = t.clone();
    other.context = format!("ferry/{}b", "a".repeat(59));
    let k1 = body(&status_request(&long, "bb", &ok, None).unwrap().unwrap())["key"].clone();
    let k2 = body(&status_request(&other, "bb", &ok, None).unwrap().unwrap())["key"].clone();
    assert!(k1.as_str().unwrap().len() <= 40);
    assert_ne!(k1, k2);
}

#[test]
fn a_rollback_sets_no_status_of_its_own() {
    let t = target(ForgeKind::Gitea, "http://127.0.0.1:3000", "a/b");
    let e = event(EventKind::RolledBack {
        reverted: "a".repeat(40),
        revert: SHA.into(),
    });
    assert!(status_request(&t, "tok", &e, None).unwrap().is_none());
}

#[test]
fn repositories_come_from_repo_urls() {
    let cases = [
        (
            "https://git.example.com/platform/cluster.git",
            "platform/cluster",
        ),
        ("http://127.0.0.1:3000/platform/cluster", "platform/cluster"),
        (
            "ssh://git@127.0.0.1:2222/platform/cluster.git",
            "platform/cluster",
        ),
        ("git@github.com:o/r.git", "o/r"),
        ("https://host/gitea/o/r.git", "o/r"),
    ];
    for (url, want) in cases {
        assert_eq!(
            repository_from_url(url, ForgeKind::Gitea).as_deref(),
            Some(want),
            "{url}"
        );
    }
    assert_eq!(
        repository_from_url("https://gitlab.com/g/sub/p.git", ForgeKind::Gitlab).as_deref(),
        Some("g/sub/p")
    );
    assert_eq!(
        repository_from_url("/srv/git/repo", ForgeKind::Github),
        None
    );
    assert_eq!(repository_from_url("./repo", ForgeKind::Github), None);
    assert_eq!(
        repository_from_url("https://host/only", ForgeKind::Github),
        None
    );
}
