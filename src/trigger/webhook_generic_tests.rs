//! Tests of `verify_and_parse` for the generic forge, forge detection, header spelling, and
//! that no error shows a secret.

use serde_json::json;

use super::tests::{bytes, github, github_main, headers, push, sign, SECRET, SHA_AFTER};
use super::*;

fn generic(event: Option<&str>, body: &[u8]) -> Result<WebhookEvent, WebhookError> {
    let sig = format!("sha256={}", sign(SECRET, body));
    let mut h = headers(&[("x-ferry-signature", &sig)]);
    if let Some(event) = event {
        h.insert("x-ferry-event".into(), event.into());
    }
    verify_and_parse(Forge::Generic, &h, body, SECRET)
}

#[test]
fn generic_push() {
    let body = json!({ "repository": "https://git.example.com/platform/cluster.git", "ref": "refs/heads/main",
        "after": SHA_AFTER, "changedFiles": ["b/x.yaml", "a/y.yaml", "b/x.yaml"] });
    let p = push(generic(None, &bytes(&body)));
    assert_eq!(
        (p.forge, p.branch(), p.after.as_deref()),
        (Forge::Generic, Some("main"), Some(SHA_AFTER))
    );
    assert_eq!(
        p.repo_urls,
        ["https://git.example.com/platform/cluster.git"]
    );
    assert_eq!(
        p.changed_files,
        Some(vec!["a/y.yaml".into(), "b/x.yaml".into()])
    );
    assert_eq!(
        generic(Some("push"), &bytes(&body)),
        Ok(WebhookEvent::Push(p))
    );

    let minimal = br#"{"repository": "/srv/git/cluster", "ref": "main"}"#;
    let m = push(generic(None, minimal));
    assert_eq!(
        (
            m.git_ref.as_str(),
            m.after.as_deref(),
            m.changed_files.as_deref(),
            m.deleted
        ),
        ("refs/heads/main", None, None, false)
    );
    assert!(m.matches_repo("file:///srv/git/cluster/"));
    let tag = push(generic(
        None,
        br#"{"repository": "r", "ref": "refs/tags/v3"}"#,
    ));
    assert_eq!(tag.tag(), Some("v3"));

    assert_eq!(generic(Some("ping"), b""), Ok(WebhookEvent::Ping));
    assert_eq!(
        generic(Some("other"), b""),
        Ok(WebhookEvent::Ignored {
            event: "other".into()
        })
    );
    for bad in [
        &br#"{"ref": "main"}"#[..],
        br#"{"repository": "r", "ref": " "}"#,
        b"[]",
        b"",
    ] {
        assert!(
            matches!(generic(None, bad), Err(WebhookError::BadPayload(_))),
            "{bad:?}"
        );
    }
    let h = headers(&[(
        "x-ferry-signature",
        &format!("sha256={}", sign(b"x", minimal)),
    )]);
    assert_eq!(
        verify_and_parse(Forge::Generic, &h, minimal, SECRET),
        Err(WebhookError::BadSignature)
    );
    let h = headers(&[]);
    assert_eq!(
        verify_and_parse(Forge::Generic, &h, minimal, SECRET),
        Err(WebhookError::MissingSignature)
    );
}

#[test]
fn error_messages_never_show_secret_or_signature() {
    let body = bytes(&github_main());
    let sig = sign(SECRET, &body);
    let secret = std::str::from_utf8(SECRET).unwrap();
    let errors = [
        WebhookError::NoSecret,
        WebhookError::MissingSignature,
        WebhookError::BadSignature,
        WebhookError::MissingEvent,
        github("push", b"{not json").unwrap_err(),
        verify_and_parse(
            Forge::GitLab,
            &headers(&[
                ("x-gitlab-event", "Push Hook"),
                ("x-gitlab-token", &secret[..8]),
            ]),
            &body,
            SECRET,
        )
        .unwrap_err(),
    ];
    for e in errors {
        let text = format!("{e} {e:?}");
        assert!(
            !text.contains(secret) && !text.contains(&secret[..8]) && !text.contains(&sig),
            "{text}"
        );
    }
    assert_eq!(WebhookError::BadSignature.http_status(), 401);
    assert_eq!(WebhookError::MissingSignature.http_status(), 401);
    assert_eq!(WebhookError::NoSecret.http_status(), 401);
    assert_eq!(WebhookError::MissingEvent.http_status(), 400);
    assert_eq!(WebhookError::BadPayload("x".into()).http_status(), 400);
}

#[test]
fn forge_names_and_detection() {
    for forge in Forge::ALL {
        assert_eq!(Forge::parse(forge.as_str()), Some(forge));
        assert_eq!(forge.to_string(), forge.as_str());
    }
    assert_eq!(Forge::GitHub.as_str(), "github");
    assert_eq!(Forge::parse("GitLab"), Some(Forge::GitLab));
    assert_eq!(Forge::parse("ferry"), Some(Forge::Generic));
    assert_eq!(Forge::parse("svn"), None);
    let detect = |pairs: &[(&str, &str)]| Forge::detect(&headers(pairs));
    assert_eq!(
        detect(&[("x-github-event", "push"), ("x-gitea-event", "push")]),
        Some(Forge::Gitea)
    );
    assert_eq!(
        detect(&[("x-github-event", "push"), ("x-forgejo-event", "push")]),
        Some(Forge::Forgejo)
    );
    assert_eq!(detect(&[("x-github-event", "push")]), Some(Forge::GitHub));
    assert_eq!(
        detect(&[("x-gitlab-event", "Push Hook")]),
        Some(Forge::GitLab)
    );
    assert_eq!(
        detect(&[("x-event-key", "repo:push")]),
        Some(Forge::Bitbucket)
    );
    assert_eq!(
        detect(&[("x-ferry-signature", "sha256=00")]),
        Some(Forge::Generic)
    );
    assert_eq!(detect(&[("content-type", "application/json")]), None);
}

#[test]
fn header_names_in_any_case_are_found() {
    let body = bytes(&github_main());
    let sig = format!("sha256={}", sign(SECRET, &body));
    let h = headers(&[("X-GitHub-Event", "push"), ("X-Hub-Signature-256", &sig)]);
    assert!(matches!(
        verify_and_parse(Forge::GitHub, &h, &body, SECRET),
        Ok(WebhookEvent::Push(_))
    ));
}
