//! Fuzz target: the webhook payload parsers of every forge (GitHub, GitLab, Gitea, Forgejo,
//! Bitbucket, generic), reached through `verify_and_parse` with a valid signature so the
//! parsers, not the signature check, see the bytes; and the repository-URL and path matching
//! a push goes through. Inputs: arbitrary bytes, byte edits and JSON edits of valid payloads.
// Each includer uses a different part of this module.
#![allow(dead_code)]

use std::collections::HashMap;

use ferry::trigger::{
    normalize_repo_url, same_repo, touches_path, verify_and_parse, Forge, WebhookError,
    WebhookEvent,
};
use hmac::{Hmac, Mac};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value};
use sha2::Sha256;

use super::edits::{apply_edits, edit_strategy};
use super::json_edits::{aimed_edit, apply_json_edit, json_edit, SHA, ZERO};

/// The shared secret the fuzzed deliveries are signed with.
pub const SECRET: &[u8] = b"fuzz-secret";

/// Valid push payloads, one per shape: GitHub, Gitea/Forgejo, GitLab, Bitbucket, generic.
pub fn payloads() -> Vec<(Forge, Value)> {
    let commits = json!([
        {"id": SHA, "added": ["apps/a.yaml"], "modified": ["apps/b.yaml"], "removed": []},
        {"id": SHA, "added": [], "modified": ["README.md"], "removed": ["old.yaml"]}
    ]);
    vec![
        (
            Forge::GitHub,
            json!({
                "ref": "refs/heads/main", "before": SHA, "after": SHA, "created": false,
                "deleted": false, "forced": false, "commits": commits,
                "repository": {"clone_url": "https://github.com/org/repo.git",
                    "ssh_url": "git@github.com:org/repo.git", "html_url": "https://github.com/org/repo",
                    "git_url": "git://github.com/org/repo.git"}
            }),
        ),
        (
            Forge::Gitea,
            json!({
                "ref": "refs/heads/main", "before": ZERO, "after": SHA, "total_commits": 2,
                "commits": commits,
                "repository": {"clone_url": "https://gitea.example/org/repo.git",
                    "ssh_url": "ssh://git@gitea.example:2222/org/repo.git"}
            }),
        ),
        (
            Forge::GitLab,
            json!({
                "object_kind": "push", "ref": "refs/tags/v1", "before": SHA, "after": ZERO,
                "total_commits_count": 2, "commits": commits,
                "project": {"git_http_url": "http://example.com/mike/diaspora.git",
                    "git_ssh_url": "git@example.com:mike/diaspora.git"},
                "repository": {"url": "git@example.com:mike/diaspora.git", "homepage": "http://example.com/mike/diaspora"}
            }),
        ),
        (
            Forge::Bitbucket,
            json!({
                "repository": {"full_name": "team/repo", "links": {"html": {"href": "https://bitbucket.org/team/repo"}}},
                "push": {"changes": [
                    {"new": {"type": "branch", "name": "main", "target": {"hash": SHA}},
                     "old": {"type": "branch", "name": "main"}, "closed": false},
                    {"new": null, "old": {"type": "tag", "name": "v1"}, "closed": true}
                ]}
            }),
        ),
        (
            Forge::Generic,
            json!({"repository": "https://git.example/org/repo", "ref": "main", "after": SHA,
                   "changedFiles": ["apps/a.yaml", "x"]}),
        ),
    ]
}

/// A delivery: which forge, its event header, the body, and strings to match it against.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub forge: Forge,
    pub event: String,
    pub body: Vec<u8>,
    pub signature: Option<String>,
    pub probe_url: String,
    pub probe_path: String,
}

fn event_for(forge: Forge) -> &'static [&'static str] {
    match forge {
        Forge::GitHub | Forge::Gitea | Forge::Forgejo => &["push", "ping", "pull_request", ""],
        Forge::GitLab => &[
            "Push Hook",
            "Tag Push Hook",
            "System Hook",
            "push hook",
            "Note Hook",
        ],
        Forge::Bitbucket => &["repo:push", "diagnostics:ping", "pullrequest:created"],
        Forge::Generic => &["push", "ping", "other"],
    }
}

/// Deliveries: arbitrary bytes, byte-edited or JSON-edited valid payloads, for every forge;
/// mostly correctly signed, sometimes with an arbitrary signature header.
pub fn deliveries() -> impl Strategy<Value = Delivery> {
    let all = payloads();
    let n = all.len();
    let body = prop_oneof![
        1 => (0..n, prop::collection::vec(any::<u8>(), 0..512)).prop_map(|(i, b)| (i, b)),
        2 => (0..n, prop::collection::vec(edit_strategy(JSON_TOKENS), 0..5)).prop_map(move |(i, edits)| {
            let base = serde_json::to_vec(&payloads()[i].1).unwrap_or_default();
            (i, apply_edits(&base, &edits))
        }),
        2 => (0..n, prop::collection::vec(json_edit(), 1..5)).prop_map(move |(i, edits)| {
            let mut v = payloads()[i].1.clone();
            for e in &edits {
                apply_json_edit(&mut v, e);
            }
            (i, serde_json::to_vec(&v).unwrap_or_default())
        }),
        4 => (0..n, prop::collection::vec(aimed_edit(), 1..4)).prop_map(move |(i, edits)| {
            let mut v = payloads()[i].1.clone();
            for e in &edits {
                apply_json_edit(&mut v, e);
            }
            (i, serde_json::to_vec(&v).unwrap_or_default())
        }),
    ];
    (
        body,
        any::<bool>(),
        any::<usize>(),
        prop::option::weighted(0.1, ".{0,80}"),
        select(
            &[
                "https://github.com/org/repo",
                "git@example.com:mike/diaspora.git",
                "",
                "file:///x",
                ":",
                "é",
            ][..],
        ),
        prop_oneof![
            select(&["", ".", "apps", "/apps/", "x/../apps"][..]).prop_map(str::to_string),
            ".{0,12}"
        ],
    )
        .prop_map(
            move |((i, body), forgejo, e, signature, probe_url, probe_path)| {
                // Gitea payloads go to Forgejo half the time: same shape, other headers.
                let forge = match all[i].0 {
                    Forge::Gitea if forgejo => Forge::Forgejo,
                    f => f,
                };
                let events = event_for(forge);
                Delivery {
                    forge,
                    // The push event (listed first) most of the time.
                    event: events[(e % (events.len() + 4)).saturating_sub(4)].to_string(),
                    body,
                    signature,
                    probe_url: probe_url.to_string(),
                    probe_path,
                }
            },
        )
}

/// Pieces that matter to JSON.
pub const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\\",
    "\\u",
    "\\ud800",
    "null",
    "true",
    "1e999",
    "-",
    "0000000000000000000000000000000000000000",
    "\"ref\":",
    "\"commits\":[",
    "\u{0}",
    "é",
    "\"refs/heads/",
    " ",
];

fn hmac_hex(body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(SECRET) else {
        unreachable!("HMAC takes keys of any length")
    };
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The headers a forge sends for `event`, signed over `body` (or with `signature` as given).
pub fn headers_for(d: &Delivery) -> HashMap<String, String> {
    let sig = hmac_hex(&d.body);
    let mut h = HashMap::new();
    let mut set = |k: &str, v: String| {
        h.insert(k.to_string(), v);
    };
    let given = d.signature.clone();
    match d.forge {
        Forge::GitHub => {
            set("x-github-event", d.event.clone());
            set(
                "x-hub-signature-256",
                given.unwrap_or(format!("sha256={sig}")),
            );
        }
        Forge::Gitea => {
            set("x-gitea-event", d.event.clone());
            set("x-gitea-signature", given.unwrap_or(sig));
        }
        Forge::Forgejo => {
            set("x-forgejo-event", d.event.clone());
            set("x-forgejo-signature", given.unwrap_or(sig));
        }
        Forge::GitLab => {
            set("x-gitlab-event", d.event.clone());
            let token = String::from_utf8_lossy(SECRET).to_string();
            set("x-gitlab-token", given.unwrap_or(token));
        }
        Forge::Bitbucket => {
            set("x-event-key", d.event.clone());
            set("x-hub-signature", given.unwrap_or(format!("sha256={sig}")));
        }
        Forge::Generic => {
            set("x-ferry-event", d.event.clone());
            set(
                "x-ferry-signature",
                given.unwrap_or(format!("SHA256={sig}")),
            );
        }
    }
    h
}

/// The webhook property: `verify_and_parse` never panics; a correctly signed delivery is never
/// refused for its signature; a parsed push is usable (a ref, at least one URL, no new commit
/// when deleted) and matching it against URLs and paths never panics.
pub fn webhook_property(d: &Delivery) {
    let headers = headers_for(d);
    let result = verify_and_parse(d.forge, &headers, &d.body, SECRET);
    if d.signature.is_none() && !d.event.is_empty() {
        assert!(
            !matches!(
                result,
                Err(WebhookError::BadSignature | WebhookError::MissingSignature)
            ),
            "a correctly signed delivery was refused: {result:?}"
        );
    }
    match result {
        Ok(WebhookEvent::Push(push)) => {
            assert!(!push.repo_urls.is_empty(), "push without a URL: {push:?}");
            assert!(!push.git_ref.is_empty(), "push without a ref: {push:?}");
            assert!(!(push.deleted && push.after.is_some()), "{push:?}");
            let _ = push.matches_repo(&d.probe_url);
            let _ = push.touches(&d.probe_path);
            let _ = (push.branch(), push.tag());
            for url in &push.repo_urls {
                let _ = normalize_repo_url(url);
            }
        }
        Ok(_) => {}
        Err(e) => {
            let status = e.http_status();
            assert!(status == 400 || status == 401, "{e}: {status}");
            let text = e.to_string();
            let secret = String::from_utf8_lossy(SECRET);
            assert!(!text.contains(secret.as_ref()), "the secret leaked: {text}");
        }
    }
}

/// URL and path matching on arbitrary strings: never panics; a URL that normalises matches
/// itself.
pub fn url_property(a: &str, b: &str, files: &[String]) {
    let na = normalize_repo_url(a);
    let _ = normalize_repo_url(b);
    let _ = same_repo(a, b);
    if na.is_some() {
        assert!(
            same_repo(a, a),
            "{a:?} normalises to {na:?} but does not match itself"
        );
    }
    let _ = touches_path(files, a);
    let _ = touches_path(files, b);
}

/// Strings for [`url_property`]: arbitrary, or URL-shaped pieces glued together.
pub fn url_strings() -> impl Strategy<Value = (String, String, Vec<String>)> {
    let piece = select(
        &[
            "https://",
            "ssh://",
            "git@",
            "file://",
            "http://",
            "git+ssh://",
            ":",
            "/",
            "//",
            ".",
            "..",
            ".git",
            "github.com",
            "Org",
            "repo",
            "@",
            "?",
            "#",
            ":22",
            "user:tok@",
            "~",
            "é",
            "C:",
            "\\",
            " ",
            "localhost",
        ][..],
    );
    let url = prop_oneof![
        ".{0,40}",
        prop::collection::vec(piece, 0..10).prop_map(|p| p.concat()),
    ];
    (url.clone(), url.clone(), prop::collection::vec(url, 0..4))
}
