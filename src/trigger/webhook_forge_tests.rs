//! Tests of `verify_and_parse` for GitLab, Gitea/Forgejo and Bitbucket, with real HMACs (or
//! tokens) over trimmed real-world payloads. Helpers live in `webhook_tests`.

use serde_json::{json, Value};

use super::tests::{bytes, commit, headers, push, sign, SECRET, SHA_AFTER, SHA_BEFORE, ZERO};
use super::*;

/// A GitLab `Push Hook` payload (trimmed from GitLab's documented example).
fn gitlab_payload(
    kind: &str,
    git_ref: &str,
    before: &str,
    after: &str,
    total: u64,
    commits: Vec<Value>,
) -> Value {
    json!({
        "object_kind": kind, "event_name": kind, "before": before, "after": after, "ref": git_ref,
        "ref_protected": true, "checkout_sha": after, "user_id": 4, "user_username": "jsmith",
        "project_id": 15,
        "project": {
            "id": 15, "name": "Diaspora", "path_with_namespace": "mike/diaspora",
            "web_url": "http://example.com/mike/diaspora",
            "git_ssh_url": "git@example.com:mike/diaspora.git",
            "git_http_url": "http://example.com/mike/diaspora.git",
            "namespace": "Mike", "default_branch": "master",
            "homepage": "http://example.com/mike/diaspora",
            "url": "git@example.com:mike/diaspora.git",
            "ssh_url": "git@example.com:mike/diaspora.git",
            "http_url": "http://example.com/mike/diaspora.git",
        },
        "commits": commits, "total_commits_count": total,
        "repository": {
            "name": "Diaspora", "url": "git@example.com:mike/diaspora.git",
            "homepage": "http://example.com/mike/diaspora",
            "git_http_url": "http://example.com/mike/diaspora.git",
            "git_ssh_url": "git@example.com:mike/diaspora.git",
        },
    })
}

fn gitlab(event: &str, token: Option<&str>, body: &[u8]) -> Result<WebhookEvent, WebhookError> {
    let mut h = headers(&[("x-gitlab-event", event)]);
    if let Some(token) = token {
        h.insert("x-gitlab-token".into(), token.into());
    }
    verify_and_parse(Forge::GitLab, &h, body, SECRET)
}

#[test]
fn gitlab_push_token_and_events() {
    let secret = std::str::from_utf8(SECRET).unwrap();
    let commits = vec![
        commit("b6568db1", &["clusters/prod/new.yaml"], &[], &[]),
        commit(
            "da156088",
            &[],
            &["clusters/prod/ds.yaml"],
            &["clusters/dev/x.yaml"],
        ),
    ];
    let body = bytes(&gitlab_payload(
        "push",
        "refs/heads/master",
        SHA_BEFORE,
        SHA_AFTER,
        2,
        commits.clone(),
    ));
    let p = push(gitlab("Push Hook", Some(secret), &body));
    assert_eq!(
        (p.forge, p.branch(), p.after.as_deref()),
        (Forge::GitLab, Some("master"), Some(SHA_AFTER))
    );
    assert_eq!(
        p.repo_urls,
        [
            "http://example.com/mike/diaspora.git",
            "git@example.com:mike/diaspora.git",
            "http://example.com/mike/diaspora",
        ]
    );
    let files = [
        "clusters/dev/x.yaml",
        "clusters/prod/ds.yaml",
        "clusters/prod/new.yaml",
    ];
    assert_eq!(
        p.changed_files.as_deref(),
        Some(&files.map(String::from)[..])
    );
    assert!(p.matches_repo("https://EXAMPLE.com/mike/diaspora") && p.touches("clusters/prod"));

    assert_eq!(
        gitlab("Push Hook", Some("wrong"), &body),
        Err(WebhookError::BadSignature)
    );
    assert_eq!(
        gitlab("Push Hook", Some(&secret[..5]), &body),
        Err(WebhookError::BadSignature)
    );
    assert_eq!(
        gitlab("Push Hook", Some(&format!("{secret}x")), &body),
        Err(WebhookError::BadSignature)
    );
    assert_eq!(
        gitlab("Push Hook", None, &body),
        Err(WebhookError::MissingSignature)
    );
    assert_eq!(
        gitlab("Push Hook", Some("wrong"), b"junk"),
        Err(WebhookError::BadSignature)
    );
    let h = headers(&[("x-gitlab-token", secret)]);
    assert_eq!(
        verify_and_parse(Forge::GitLab, &h, &body, SECRET),
        Err(WebhookError::MissingEvent)
    );

    // More commits than listed: file list incomplete.
    let capped = bytes(&gitlab_payload(
        "push",
        "refs/heads/master",
        SHA_BEFORE,
        SHA_AFTER,
        25,
        commits.clone(),
    ));
    assert_eq!(
        push(gitlab("Push Hook", Some(secret), &capped)).changed_files,
        None
    );
    let created = bytes(&gitlab_payload(
        "push",
        "refs/heads/feat",
        ZERO,
        SHA_AFTER,
        2,
        commits,
    ));
    assert_eq!(
        push(gitlab("Push Hook", Some(secret), &created)).changed_files,
        None
    );
    let deleted = bytes(&gitlab_payload(
        "push",
        "refs/heads/feat",
        SHA_BEFORE,
        ZERO,
        0,
        vec![],
    ));
    let d = push(gitlab("Push Hook", Some(secret), &deleted));
    assert!(d.deleted && d.after.is_none());

    let tag = bytes(&gitlab_payload(
        "tag_push",
        "refs/tags/v1.0.0",
        ZERO,
        SHA_AFTER,
        0,
        vec![],
    ));
    let t = push(gitlab("Tag Push Hook", Some(secret), &tag));
    assert_eq!(
        (t.tag(), t.changed_files.as_deref()),
        (Some("v1.0.0"), None)
    );
    assert_eq!(
        push(gitlab("System Hook", Some(secret), &tag)).tag(),
        Some("v1.0.0")
    );

    let mr = br#"{"object_kind":"merge_request","project":{}}"#;
    let ignored = |e: &str| Ok(WebhookEvent::Ignored { event: e.into() });
    assert_eq!(
        gitlab("Merge Request Hook", Some(secret), mr),
        ignored("Merge Request Hook")
    );
    assert_eq!(
        gitlab("System Hook", Some(secret), mr),
        ignored("System Hook")
    );
}

/// A Gitea/Forgejo `push` payload (trimmed from Gitea's documented example).
fn gitea_payload(total: u64) -> Value {
    json!({
        "secret": "", "ref": "refs/heads/develop", "before": SHA_BEFORE, "after": SHA_AFTER,
        "compare_url": "http://localhost:3000/gitea/webhooks/compare/28e1879d0291...bffeb74224043b",
        "commits": [commit("bffeb742", &["deploy/ds.yaml"], &["deploy/sts.yaml"], &[])],
        "total_commits": total,
        "repository": {
            "id": 140, "owner": { "login": "gitea", "username": "gitea" }, "name": "webhooks",
            "full_name": "gitea/webhooks", "private": false, "fork": false,
            "html_url": "http://localhost:3000/gitea/webhooks",
            "ssh_url": "ssh://gitea@localhost:2222/gitea/webhooks.git",
            "clone_url": "http://localhost:3000/gitea/webhooks.git",
            "url": "http://localhost:3000/api/v1/repos/gitea/webhooks",
            "default_branch": "master",
        },
        "pusher": { "login": "gitea" }, "sender": { "login": "gitea" },
    })
}

#[test]
fn gitea_and_forgejo_push() {
    let body = bytes(&gitea_payload(1));
    let sig = sign(SECRET, &body);
    for (forge, sig_header, event_header) in [
        (Forge::Gitea, "x-gitea-signature", "x-gitea-event"),
        (Forge::Forgejo, "x-forgejo-signature", "x-forgejo-event"),
        (Forge::Forgejo, "x-gitea-signature", "x-gitea-event"),
    ] {
        // Gitea also sends GitHub's and Gogs' event headers; they change nothing.
        let h = headers(&[
            (sig_header, &sig),
            (event_header, "push"),
            ("x-github-event", "push"),
        ]);
        let p = push(verify_and_parse(forge, &h, &body, SECRET));
        assert_eq!((p.forge, p.branch()), (forge, Some("develop")));
        assert_eq!(
            p.repo_urls,
            [
                "http://localhost:3000/gitea/webhooks.git",
                "ssh://gitea@localhost:2222/gitea/webhooks.git",
                "http://localhost:3000/gitea/webhooks",
            ]
        );
        assert_eq!(
            p.changed_files,
            Some(vec!["deploy/ds.yaml".into(), "deploy/sts.yaml".into()])
        );
        assert!(p.matches_repo("git@localhost:gitea/webhooks.git"));

        let wrong = sign(b"nope", &body);
        let h = headers(&[(sig_header, &wrong), (event_header, "push")]);
        assert_eq!(
            verify_and_parse(forge, &h, &body, SECRET),
            Err(WebhookError::BadSignature)
        );
        // Gitea's header carries bare hex: a prefixed value is malformed.
        let h = headers(&[
            (sig_header, &format!("sha256={sig}")),
            (event_header, "push"),
        ]);
        assert_eq!(
            verify_and_parse(forge, &h, &body, SECRET),
            Err(WebhookError::BadSignature)
        );
        let h = headers(&[(event_header, "push")]);
        assert_eq!(
            verify_and_parse(forge, &h, &body, SECRET),
            Err(WebhookError::MissingSignature)
        );
        let h = headers(&[(sig_header, &sig)]);
        assert_eq!(
            verify_and_parse(forge, &h, &body, SECRET),
            Err(WebhookError::MissingEvent)
        );
        let h = headers(&[(sig_header, &sig), (event_header, "issues")]);
        let ignored = WebhookEvent::Ignored {
            event: "issues".into(),
        };
        assert_eq!(verify_and_parse(forge, &h, &body, SECRET), Ok(ignored));
    }
    // Newer Gitea also signs GitHub-style.
    let h = headers(&[
        ("x-hub-signature-256", &format!("sha256={sig}")),
        ("x-gitea-event", "push"),
    ]);
    assert!(verify_and_parse(Forge::Gitea, &h, &body, SECRET).is_ok());
    // total_commits above the listed commits: the list was cut.
    let cut = bytes(&gitea_payload(7));
    let h = headers(&[
        ("x-gitea-signature", &sign(SECRET, &cut)),
        ("x-gitea-event", "push"),
    ]);
    assert_eq!(
        push(verify_and_parse(Forge::Gitea, &h, &cut, SECRET)).changed_files,
        None
    );
}

/// A Bitbucket Cloud `repo:push` payload (trimmed from Atlassian's event-payload docs).
fn bitbucket_payload(changes: Value) -> Value {
    json!({
        "actor": { "display_name": "Jane", "type": "user" },
        "repository": {
            "type": "repository", "name": "Cluster Config", "full_name": "acme/cluster-config",
            "uuid": "{b1c8d9e2-0000-4000-8000-000000000000}", "is_private": true,
            "links": { "html": { "href": "https://bitbucket.org/acme/cluster-config" } },
        },
        "push": { "changes": changes },
    })
}

fn bb_ref(kind: &str, name: &str, hash: &str) -> Value {
    json!({ "type": kind, "name": name, "target": { "type": "commit", "hash": hash } })
}

fn bitbucket(event: &str, body: &[u8]) -> Result<WebhookEvent, WebhookError> {
    let sig = format!("sha256={}", sign(SECRET, body));
    let h = headers(&[
        ("x-event-key", event),
        ("x-hub-signature", &sig),
        ("x-hook-uuid", "abc"),
    ]);
    verify_and_parse(Forge::Bitbucket, &h, body, SECRET)
}

#[test]
fn bitbucket_push_ping_and_signatures() {
    let changes = json!([
        { "new": bb_ref("tag", "v2", SHA_BEFORE), "old": null, "created": true, "closed": false, "forced": false },
        { "new": bb_ref("branch", "main", SHA_AFTER), "old": bb_ref("branch", "main", SHA_BEFORE),
          "created": false, "closed": false, "forced": false, "truncated": false,
          "commits": [{ "hash": SHA_AFTER, "message": "bump" }] },
    ]);
    let body = bytes(&bitbucket_payload(changes));
    let p = push(bitbucket("repo:push", &body));
    assert_eq!(
        (p.forge, p.git_ref.as_str(), p.after.as_deref()),
        (Forge::Bitbucket, "refs/heads/main", Some(SHA_AFTER))
    );
    assert_eq!(
        p.repo_urls,
        [
            "https://bitbucket.org/acme/cluster-config",
            "https://bitbucket.org/acme/cluster-config.git",
            "git@bitbucket.org:acme/cluster-config.git",
        ]
    );
    assert_eq!(p.changed_files, None);
    assert!(p.matches_repo("ssh://git@bitbucket.org/acme/cluster-config.git"));

    let tag_only = bytes(&bitbucket_payload(
        json!([{ "new": bb_ref("tag", "v2", SHA_AFTER), "old": null }]),
    ));
    assert_eq!(push(bitbucket("repo:push", &tag_only)).tag(), Some("v2"));
    let deleted =
        json!([{ "new": null, "old": bb_ref("branch", "old", SHA_BEFORE), "closed": true }]);
    let d = push(bitbucket("repo:push", &bytes(&bitbucket_payload(deleted))));
    assert_eq!(
        (d.branch(), d.deleted, d.after.as_deref()),
        (Some("old"), true, None)
    );
    let empty = bytes(&bitbucket_payload(json!([])));
    assert!(matches!(
        bitbucket("repo:push", &empty),
        Err(WebhookError::BadPayload(_))
    ));

    assert_eq!(bitbucket("diagnostics:ping", b"{}"), Ok(WebhookEvent::Ping));
    let ignored = WebhookEvent::Ignored {
        event: "pullrequest:created".into(),
    };
    assert_eq!(bitbucket("pullrequest:created", b"{}"), Ok(ignored));

    let sha1 = format!("sha1={}", &sign(SECRET, &body)[..40]);
    let wrong = format!("sha256={}", sign(b"x", &body));
    for bad in [sha1.as_str(), wrong.as_str()] {
        let h = headers(&[("x-event-key", "repo:push"), ("x-hub-signature", bad)]);
        assert_eq!(
            verify_and_parse(Forge::Bitbucket, &h, &body, SECRET),
            Err(WebhookError::BadSignature)
        );
    }
    let h = headers(&[("x-event-key", "repo:push")]);
    assert_eq!(
        verify_and_parse(Forge::Bitbucket, &h, &body, SECRET),
        Err(WebhookError::MissingSignature)
    );
    let sig = format!("sha256={}", sign(SECRET, &body));
    let h = headers(&[("x-hub-signature", sig.as_str())]);
    assert_eq!(
        verify_and_parse(Forge::Bitbucket, &h, &body, SECRET),
        Err(WebhookError::MissingEvent)
    );
}
