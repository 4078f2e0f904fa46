//! The notifier against real HTTP receivers on 127.0.0.1, and `notify:` validation.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::*;

/// What a receiver saw: path, headers, body.
type Seen = Arc<Mutex<Vec<(String, HeaderMap, Vec<u8>)>>>;

/// A receiver answering each request with the next scripted status (then 201).
async fn receiver(script: Vec<u16>) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let script = Arc::new(Mutex::new(VecDeque::from(script)));
    let (s, q) = (seen.clone(), script.clone());
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
        let (s, q) = (s.clone(), q.clone());
        async move {
            s.lock()
                .unwrap()
                .push((uri.path().to_string(), headers.clone(), body.to_vec()));
            let code = q.lock().unwrap().pop_front().unwrap_or(201);
            // A forge that echoes the credential back must not leak it into ferry's logs.
            let echo = headers
                .get("authorization")
                .map(|v| v.to_str().unwrap_or_default().to_string())
                .unwrap_or_default();
            (
                StatusCode::from_u16(code).unwrap(),
                format!("denied {echo}"),
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

fn token_file(value: &str) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), format!("{value}\n")).unwrap();
    f
}

fn spec_for(yaml: &str) -> Result<NotifySpec, NotifyError> {
    let config: NotifyConfig = serde_yaml::from_str(yaml).unwrap();
    config.resolve(
        "fluentd",
        "http://127.0.0.1:3000/platform/cluster.git",
        Some("https://ferry.example.com/"),
    )
}

fn event(kind: EventKind) -> SyncEvent {
    SyncEvent {
        app: "fluentd".into(),
        commit: "c".repeat(40),
        seq: Some(2),
        trigger: "manual".into(),
        kind,
    }
}

fn started() -> SyncEvent {
    event(EventKind::Started {
        summary: "1 update".into(),
    })
}

fn succeeded() -> SyncEvent {
    event(EventKind::Succeeded {
        summary: "1 update".into(),
    })
}

fn count(n: &Notifier, result: &str) -> u64 {
    n.counts()
        .iter()
        .filter(|c| c.result == result)
        .map(|c| c.count)
        .sum()
}

fn status_spec(url: &str, token: &tempfile::NamedTempFile) -> NotifySpec {
    spec_for(&format!(
        "commitStatus: {{forge: gitea, api: {url}, tokenFile: {}, allowPlainHttp: true}}",
        token.path().display()
    ))
    .unwrap()
}

#[tokio::test]
async fn statuses_are_sent_in_order_and_counted() {
    let (url, seen) = receiver(vec![]).await;
    let token = token_file("s3cret-token");
    let spec = status_spec(&url, &token);
    let notifier = Notifier::with_retry(3, Duration::from_millis(10));
    notifier.notify(&spec, &started());
    notifier.notify(&spec, &succeeded());
    assert!(notifier.flush(Duration::from_secs(10)).await);
    let seen = seen.lock().unwrap();
    let states: Vec<String> = seen
        .iter()
        .map(|(_, _, b)| {
            serde_json::from_slice::<serde_json::Value>(b).unwrap()["state"].to_string()
        })
        .collect();
    assert_eq!(states, ["\"pending\"", "\"success\""]);
    assert_eq!(
        seen[0].0,
        format!("/api/v1/repos/platform/cluster/statuses/{}", "c".repeat(40))
    );
    assert_eq!(seen[0].1["authorization"], "token s3cret-token");
    let body: serde_json::Value = serde_json::from_slice(&seen[0].2).unwrap();
    assert_eq!(
        body["target_url"],
        "https://ferry.example.com/apps/fluentd/history"
    );
    assert_eq!(count(&notifier, "sent"), 2);
    assert_eq!(notifier.counts()[0].target, "gitea");
}

#[tokio::test]
async fn transient_failures_are_retried_and_refusals_are_not() {
    let (url, seen) = receiver(vec![503, 502]).await;
    let token = token_file("t");
    let notifier = Notifier::with_retry(4, Duration::from_millis(10));
    notifier.notify(&status_spec(&url, &token), &started());
    assert!(notifier.flush(Duration::from_secs(10)).await);
    assert_eq!(seen.lock().unwrap().len(), 3, "two 5xx answers, then sent");
    assert_eq!(count(&notifier, "sent"), 1);

    let (url, seen) = receiver(vec![401, 401, 401]).await;
    let notifier = Notifier::with_retry(4, Duration::from_millis(10));
    notifier.notify(&status_spec(&url, &token), &started());
    assert!(notifier.flush(Duration::from_secs(10)).await);
    assert_eq!(seen.lock().unwrap().len(), 1, "a 401 is not retried");
    assert_eq!(count(&notifier, "failed"), 1);
}

#[tokio::test]
async fn a_forge_that_is_down_never_blocks_the_caller() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let token = token_file("t");
    let spec = status_spec(&format!("http://127.0.0.1:{port}"), &token);
    let notifier = Notifier::with_retry(3, Duration::from_millis(10));
    notifier.notify(&spec, &started());
    assert_eq!(
        count(&notifier, "sent") + count(&notifier, "failed"),
        0,
        "queued, not sent inline"
    );
    assert!(notifier.flush(Duration::from_secs(10)).await);
    assert_eq!(count(&notifier, "failed"), 1);
}

#[tokio::test]
async fn a_newer_status_replaces_one_being_retried() {
    let (url, seen) = receiver(vec![503, 503, 503, 503]).await;
    let token = token_file("t");
    let spec = status_spec(&url, &token);
    let notifier = Notifier::with_retry(10, Duration::from_millis(200));
    notifier.notify(&spec, &started());
    notifier.notify(&spec, &succeeded());
    assert!(notifier.flush(Duration::from_secs(20)).await);
    assert_eq!(count(&notifier, "superseded"), 1);
    assert_eq!(count(&notifier, "sent"), 1);
    let last = seen.lock().unwrap().last().cloned().unwrap();
    let body: serde_json::Value = serde_json::from_slice(&last.2).unwrap();
    assert_eq!(
        body["state"], "success",
        "the newest state is the one that lands"
    );
}

#[tokio::test]
async fn a_full_lane_drops_instead_of_waiting() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let token = token_file("t");
    let spec = status_spec(&url, &token);
    let notifier = Notifier::with_retry(1, Duration::from_millis(10));
    for _ in 0..70 {
        notifier.notify(&spec, &started());
    }
    // One is being sent, 64 wait, the rest are dropped at once.
    let dropped = count(&notifier, "dropped");
    assert!((5..=6).contains(&dropped), "dropped {dropped}");
}

#[tokio::test]
async fn webhooks_are_signed_and_filtered() {
    let (url, seen) = receiver(vec![]).await;
    let secret = token_file("hook-secret");
    let spec = spec_for(&format!(
        "webhooks:\n  - {{url: {url}/ferry, secretFile: {}, events: [failed]}}\n  - {{url: {url}/slack/T0/B0/XYZ, format: slack}}",
        secret.path().display()
    ))
    .unwrap();
    let notifier = Notifier::with_retry(2, Duration::from_millis(10));
    notifier.notify(&spec, &started());
    notifier.notify(
        &spec,
        &event(EventKind::Failed {
            reason: "DaemonSet a/b: failed: ImagePullBackOff".into(),
        }),
    );
    assert!(notifier.flush(Duration::from_secs(10)).await);
    let seen = seen.lock().unwrap();
    let hooks: Vec<_> = seen.iter().filter(|(p, _, _)| p == "/ferry").collect();
    assert_eq!(hooks.len(), 1, "the json hook takes only `failed`");
    let (_, headers, body) = hooks[0];
    assert_eq!(headers["x-ferry-event"], "sync.failed");
    let mut mac = Hmac::<Sha256>::new_from_slice(b"hook-secret").unwrap();
    mac.update(body);
    let want = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(headers["x-ferry-signature"], want.as_str());
    let json: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert_eq!(json["event"], "sync.failed");
    assert_eq!(json["state"], "failure");
    assert_eq!(json["reason"], "DaemonSet a/b: failed: ImagePullBackOff");
    assert_eq!(json["seq"], 2);
    let slack: Vec<_> = seen
        .iter()
        .filter(|(p, _, _)| p.starts_with("/slack"))
        .collect();
    assert_eq!(slack.len(), 2, "slack takes every event");
    let text: serde_json::Value = serde_json::from_slice(&slack[1].2).unwrap();
    let text = text["text"].as_str().unwrap();
    assert!(
        text.starts_with(":x: *fluentd* `cccccccccccc` failed: DaemonSet a/b"),
        "{text}"
    );
    assert!(slack[0].1.get("x-ferry-signature").is_none());
    let counts = notifier.counts();
    assert!(counts.iter().any(|c| c.target == "slack" && c.count == 2));
}

#[test]
fn refusals_name_the_problem_and_no_secret() {
    let plain = spec_for("commitStatus: {forge: gitea, api: 'http://git.example', tokenFile: /t}")
        .unwrap_err()
        .to_string();
    assert!(plain.contains("allowPlainHttp"), "{plain}");
    let none = spec_for("commitStatus: {forge: github}")
        .unwrap_err()
        .to_string();
    assert!(none.contains("tokenFile or tokenEnv"), "{none}");
    let both = spec_for("commitStatus: {forge: github, tokenFile: /t, tokenEnv: T}")
        .unwrap_err()
        .to_string();
    assert!(both.contains("not both"), "{both}");
    let shape = spec_for("commitStatus: {forge: github, tokenEnv: T, repository: just-one}")
        .unwrap_err()
        .to_string();
    assert!(shape.contains("owner/name"), "{shape}");
    let hook = spec_for("webhooks: [{url: 'ftp://hooks.example/T0/SECRETPATH'}]")
        .unwrap_err()
        .to_string();
    assert!(
        hook.contains("webhooks[0].url") && !hook.contains("SECRETPATH"),
        "{hook}"
    );
    let creds = spec_for("webhooks: [{url: 'https://user:pw@hooks.example/x'}]")
        .unwrap_err()
        .to_string();
    assert!(!creds.contains("pw"), "{creds}");
    // A gitea forge without api takes the repository's origin; an ssh repo needs api.
    let config: NotifyConfig =
        serde_yaml::from_str("commitStatus: {forge: gitea, tokenEnv: T}").unwrap();
    let err = config
        .resolve("a", "ssh://git@host:22/o/r.git", None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("commitStatus.api is required"), "{err}");
    let config: NotifyConfig =
        serde_yaml::from_str("commitStatus: {forge: gitea, tokenEnv: T}").unwrap();
    let spec = config
        .resolve("a", "https://git.example/o/r.git", None)
        .unwrap();
    match &spec.targets[0] {
        Target::CommitStatus(t) => {
            assert_eq!(t.api, "https://git.example");
            assert_eq!(t.repository, "o/r");
            assert_eq!(t.context, "ferry/a");
        }
        other => panic!("{other:?}"),
    }
    let debug = format!(
        "{:?}",
        spec_for("webhooks: [{url: 'https://hooks.example/T0/SECRETPATH'}]").unwrap()
    );
    assert!(!debug.contains("SECRETPATH"), "{debug}");
}

#[test]
fn a_missing_token_file_is_named_and_counted_without_its_content() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let spec = spec_for(
            "commitStatus: {forge: gitea, api: 'http://127.0.0.1:9', tokenFile: /nonexistent/ferry-token, allowPlainHttp: true}",
        )
        .unwrap();
        let notifier = Notifier::new();
        notifier.notify(&spec, &started());
        assert_eq!(count(&notifier, "failed"), 1);
        let Target::CommitStatus(t) = &spec.targets[0] else { panic!() };
        let err = t.token.read("the forge token").unwrap_err().to_string();
        assert!(err.contains("/nonexistent/ferry-token"), "{err}");
    });
}

#[tokio::test]
async fn an_answer_echoing_the_token_is_logged_without_it() {
    let (url, _) = receiver(vec![401]).await;
    let token = token_file("s3cret-token");
    let spec = status_spec(&url, &token);
    let Target::CommitStatus(t) = &spec.targets[0] else {
        panic!()
    };
    let request = status_request(t, "s3cret-token", &started(), None)
        .unwrap()
        .unwrap();
    match send::Sender::new().send(&request).await {
        send::Attempt::GiveUp(text) => {
            assert!(
                text.contains("401") && text.contains("[redacted]"),
                "{text}"
            );
            assert!(!text.contains("s3cret-token"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!format!("{request:?}").contains("s3cret"));
}

#[tokio::test]
async fn the_same_rejection_is_told_once() {
    let (url, seen) = receiver(vec![]).await;
    let token = token_file("t");
    let spec = status_spec(&url, &token);
    let notifier = Notifier::with_retry(1, Duration::from_millis(10));
    let broken = event(EventKind::Errored {
        reason: "a.yaml:1: missing metadata.name".into(),
    });
    notifier.notify_once(&spec, &broken);
    notifier.notify_once(&spec, &broken);
    let mut fixed_reason = broken.clone();
    fixed_reason.kind = EventKind::Errored {
        reason: "a.yaml:2: bad".into(),
    };
    notifier.notify_once(&spec, &fixed_reason);
    assert!(notifier.flush(Duration::from_secs(10)).await);
    assert_eq!(seen.lock().unwrap().len(), 2);
}
