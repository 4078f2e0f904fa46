//! Tests of `verify_and_parse` with real HMACs over trimmed real-world payloads of each forge.

use std::collections::HashMap;

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::*;

pub(super) const SECRET: &[u8] = b"It's a Secret to Everybody";
pub(super) const SHA_BEFORE: &str = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";
pub(super) const SHA_AFTER: &str = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c";
pub(super) const ZERO: &str = "0000000000000000000000000000000000000000";

pub(super) fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

pub(super) fn headers(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub(super) fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(v).unwrap()
}

pub(super) fn push(result: Result<WebhookEvent, WebhookError>) -> PushEvent {
    match result {
        Ok(WebhookEvent::Push(p)) => p,
        other => panic!("expected a push, got {other:?}"),
    }
}

pub(super) fn commit(id: &str, added: &[&str], modified: &[&str], removed: &[&str]) -> Value {
    json!({
        "id": id, "tree_id": "f9d2a07e9488b91af2641b26b9407fe22a451433", "distinct": true,
        "message": "Update web replicas", "timestamp": "2024-03-04T17:18:23+01:00",
        "author": { "name": "Codertocat", "email": "21031067+Codertocat@users.noreply.github.com" },
        "added": added, "modified": modified, "removed": removed,
    })
}

/// A GitHub `push` payload (trimmed from the documented example).
fn github_payload(git_ref: &str, before: &str, after: &str, commits: Vec<Value>) -> Value {
    json!({
        "ref": git_ref, "before": before, "after": after,
        "created": before == ZERO, "deleted": after == ZERO, "forced": false, "base_ref": null,
        "compare": "https://github.com/Codertocat/Hello-World/compare/6113728f27ae...0d1a26e67d8f",
        "commits": commits,
        "repository": {
            "id": 186853002, "name": "Hello-World", "full_name": "Codertocat/Hello-World",
            "private": false, "html_url": "https://github.com/Codertocat/Hello-World",
            "url": "https://github.com/Codertocat/Hello-World",
            "git_url": "git://github.com/Codertocat/Hello-World.git",
            "ssh_url": "git@github.com:Codertocat/Hello-World.git",
            "clone_url": "https://github.com/Codertocat/Hello-World.git",
            "default_branch": "main",
        },
        "pusher": { "name": "Codertocat", "email": "21031067+Codertocat@users.noreply.github.com" },
        "sender": { "login": "Codertocat", "id": 21031067, "type": "User" },
    })
}

pub(super) fn github_main() -> Value {
    github_payload(
        "refs/heads/main",
        SHA_BEFORE,
        SHA_AFTER,
        vec![
            commit("a1", &[], &["apps/web/deployment.yaml"], &[]),
            commit(
                "b2",
                &["apps/web/cm.yaml"],
                &["apps/web/deployment.yaml"],
                &["apps/web/old.yaml"],
            ),
        ],
    )
}

pub(super) fn github(event: &str, body: &[u8]) -> Result<WebhookEvent, WebhookError> {
    let sig = format!("sha256={}", sign(SECRET, body));
    let h = headers(&[("x-github-event", event), ("x-hub-signature-256", &sig)]);
    verify_and_parse(Forge::GitHub, &h, body, SECRET)
}

#[test]
fn github_push_is_verified_and_parsed() {
    let p = push(github("push", &bytes(&github_main())));
    assert_eq!(p.forge, Forge::GitHub);
    assert_eq!(p.git_ref, "refs/heads/main");
    assert_eq!(p.branch(), Some("main"));
    assert_eq!(p.tag(), None);
    assert_eq!(p.after.as_deref(), Some(SHA_AFTER));
    assert!(!p.deleted);
    assert_eq!(
        p.repo_urls,
        [
            "https://github.com/Codertocat/Hello-World.git",
            "git@github.com:Codertocat/Hello-World.git",
            "https://github.com/Codertocat/Hello-World",
            "git://github.com/Codertocat/Hello-World.git",
        ]
    );
    let files = [
        "apps/web/cm.yaml",
        "apps/web/deployment.yaml",
        "apps/web/old.yaml",
    ];
    assert_eq!(
        p.changed_files.as_deref(),
        Some(&files.map(String::from)[..])
    );
    assert!(p.matches_repo("ssh://git@github.com/codertocat/hello-world"));
    assert!(!p.matches_repo("https://github.com/Codertocat/Other"));
    assert!(p.touches("apps/web") && p.touches("") && !p.touches("apps/db"));
}

#[test]
fn github_signature_failures() {
    let body = bytes(&github_main());
    let good = format!("sha256={}", sign(SECRET, &body));
    let check = |sig: Option<&str>, body: &[u8]| {
        let mut h = headers(&[("x-github-event", "push")]);
        if let Some(sig) = sig {
            h.insert("x-hub-signature-256".into(), sig.into());
        }
        verify_and_parse(Forge::GitHub, &h, body, SECRET)
    };
    assert!(check(Some(&good), &body).is_ok());
    assert!(check(
        Some(&good.to_uppercase().replace("SHA256=", "sha256=")),
        &body
    )
    .is_ok());
    let wrong = format!("sha256={}", sign(b"wrong secret", &body));
    let mut tampered = body.clone();
    tampered.push(b' ');
    let sha1 = format!("sha1={}", &sign(SECRET, &body)[..40]);
    let bare = sign(SECRET, &body);
    let short = &good[..good.len() - 2];
    for bad in [&wrong[..], &sha1, &bare, short, "sha256=zz", "sha256="] {
        assert_eq!(
            check(Some(bad), &body),
            Err(WebhookError::BadSignature),
            "{bad}"
        );
    }
    assert_eq!(
        check(Some(&good), &tampered),
        Err(WebhookError::BadSignature)
    );
    assert_eq!(check(None, &body), Err(WebhookError::MissingSignature));
    assert_eq!(
        check(Some("  "), &body),
        Err(WebhookError::MissingSignature)
    );
    // The signature is checked before the body is parsed.
    assert_eq!(
        check(Some(&wrong), b"not json"),
        Err(WebhookError::BadSignature)
    );
}

#[test]
fn github_ping_ignored_and_missing_event() {
    let ping = json!({ "zen": "Design for failure.", "hook_id": 109948940, "hook": { "type": "Repository", "events": ["push"] } });
    assert_eq!(github("ping", &bytes(&ping)), Ok(WebhookEvent::Ping));
    let pr = br#"{"action":"opened","number":2}"#;
    let ignored = WebhookEvent::Ignored {
        event: "pull_request".into(),
    };
    assert_eq!(github("pull_request", pr), Ok(ignored));
    let sig = format!("sha256={}", sign(SECRET, pr));
    let h = headers(&[("x-hub-signature-256", &sig)]);
    assert_eq!(
        verify_and_parse(Forge::GitHub, &h, pr, SECRET),
        Err(WebhookError::MissingEvent)
    );
    let unsigned = headers(&[("x-github-event", "ping")]);
    assert_eq!(
        verify_and_parse(Forge::GitHub, &unsigned, pr, SECRET),
        Err(WebhookError::MissingSignature)
    );
}

#[test]
fn github_tags_deletions_and_untrusted_file_lists() {
    let tag = push(github(
        "push",
        &bytes(&github_payload("refs/tags/v1.2.0", ZERO, SHA_AFTER, vec![])),
    ));
    assert_eq!((tag.tag(), tag.branch()), (Some("v1.2.0"), None));
    assert_eq!(
        (tag.after.as_deref(), tag.changed_files),
        (Some(SHA_AFTER), None)
    );

    let del = push(github(
        "push",
        &bytes(&github_payload(
            "refs/heads/feature",
            SHA_BEFORE,
            ZERO,
            vec![],
        )),
    ));
    assert!(del.deleted);
    assert_eq!(
        (
            del.after.as_deref(),
            del.changed_files.as_deref(),
            del.branch()
        ),
        (None, None, Some("feature"))
    );

    let one = || vec![commit("a1", &[], &["apps/web/x.yaml"], &[])];
    let mut forced = github_payload("refs/heads/main", SHA_BEFORE, SHA_AFTER, one());
    forced["forced"] = json!(true);
    let created = github_payload("refs/heads/new", ZERO, SHA_AFTER, one());
    let empty = github_payload("refs/heads/main", SHA_BEFORE, SHA_AFTER, vec![]);
    let many = (0..20)
        .map(|i| commit(&i.to_string(), &[], &["a.yaml"], &[]))
        .collect();
    let many = github_payload("refs/heads/main", SHA_BEFORE, SHA_AFTER, many);
    let mut unlisted = github_payload("refs/heads/main", SHA_BEFORE, SHA_AFTER, one());
    unlisted["commits"] = json!([{ "id": "a1", "message": "no file lists" }]);
    for payload in [forced, created, empty, many, unlisted] {
        let p = push(github("push", &bytes(&payload)));
        assert_eq!(p.changed_files, None, "{payload}");
        assert!(p.touches("apps/anything"));
    }
    let nineteen = (0..19)
        .map(|i| commit(&i.to_string(), &[], &["a.yaml"], &[]))
        .collect();
    let nineteen = github_payload("refs/heads/main", SHA_BEFORE, SHA_AFTER, nineteen);
    let p = push(github("push", &bytes(&nineteen)));
    assert_eq!(p.changed_files, Some(vec!["a.yaml".to_string()]));
}

#[test]
fn bad_payloads_and_missing_secret() {
    assert!(matches!(
        github("push", b"{not json"),
        Err(WebhookError::BadPayload(_))
    ));
    let mut no_repo = github_main();
    no_repo.as_object_mut().unwrap().remove("repository");
    assert!(matches!(
        github("push", &bytes(&no_repo)),
        Err(WebhookError::BadPayload(_))
    ));
    let mut no_ref = github_main();
    no_ref.as_object_mut().unwrap().remove("ref");
    assert!(matches!(
        github("push", &bytes(&no_ref)),
        Err(WebhookError::BadPayload(_))
    ));

    // An empty secret would let anyone sign: refused whatever the request.
    let body = bytes(&github_main());
    let sig = format!("sha256={}", sign(b"", &body));
    let h = headers(&[("x-github-event", "push"), ("x-hub-signature-256", &sig)]);
    assert_eq!(
        verify_and_parse(Forge::GitHub, &h, &body, b""),
        Err(WebhookError::NoSecret)
    );
    let h = headers(&[("x-gitlab-event", "Push Hook"), ("x-gitlab-token", "")]);
    assert_eq!(
        verify_and_parse(Forge::GitLab, &h, &body, b""),
        Err(WebhookError::NoSecret)
    );
}
