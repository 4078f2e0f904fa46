//! `ferry serve` webhooks end to end: a bare git repo as the remote, real HTTP with real HMAC
//! signatures, the local control plane as the cluster.

mod support;

use std::time::{Duration, Instant};

use support::serve::*;
use support::{client, wait_until, Remote, TestNamespace};

#[tokio::test]
async fn a_signed_github_push_syncs_without_waiting_for_the_poll() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "s-github").await;
    let remote = Remote::new();
    commit_cm(&remote, "one");
    let server = start_server(&remote, &ns.name, "1h", &[]);
    assert_eq!(
        config_value(&client, &ns.name).await.as_deref(),
        Some("one")
    );

    let sha = commit_cm(&remote, "two");
    let body = github_push(&remote.url(), "refs/heads/main", &sha);
    let sent = Instant::now();
    let (status, reply) = send_github(server.port, &body, &format!("sha256={}", hmac_hex(&body)));
    assert_eq!(status, 202, "{reply}");
    assert!(
        reply.contains(&ns.name),
        "the reply names the triggered app: {reply}"
    );
    wait_until(
        Duration::from_secs(15),
        "the webhook's commit applied",
        || async {
            (config_value(&client, &ns.name).await.as_deref() == Some("two")).then_some(())
        },
    )
    .await;
    eprintln!("webhook to applied: {:?}", sent.elapsed());
}

#[tokio::test]
async fn bad_signatures_are_rejected_and_other_branches_ignored() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "s-reject").await;
    let remote = Remote::new();
    commit_cm(&remote, "one");
    let server = start_server(&remote, &ns.name, "1h", &[]);
    let before = total_syncs(server.port, &ns.name);
    let sha = commit_cm(&remote, "two");
    let body = github_push(&remote.url(), "refs/heads/main", &sha);

    let (status, _) = send_github(
        server.port,
        &body,
        "sha256=0000000000000000000000000000000000000000000000000000000000000000",
    );
    assert_eq!(status, 401);
    let (status, _) = http(
        server.port,
        "POST",
        "/hooks/github",
        &[("X-GitHub-Event", "push".into())],
        &body,
    )
    .unwrap();
    assert_eq!(status, 401, "missing signature");
    let other = github_push(&remote.url(), "refs/heads/feature", &sha);
    let (status, reply) = send_github(server.port, &other, &format!("sha256={}", hmac_hex(&other)));
    assert_eq!(status, 202);
    assert!(reply.contains("\"triggered\":[]"), "{reply}");
    let ping = b"{\"zen\":\"hi\",\"hook_id\":1}".to_vec();
    let (status, _) = http(
        server.port,
        "POST",
        "/hooks/github",
        &[
            ("X-GitHub-Event", "ping".into()),
            ("X-Hub-Signature-256", format!("sha256={}", hmac_hex(&ping))),
        ],
        &ping,
    )
    .unwrap();
    assert_eq!(status, 200);

    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        total_syncs(server.port, &ns.name),
        before,
        "nothing was synced"
    );
    assert_eq!(
        config_value(&client, &ns.name).await.as_deref(),
        Some("one")
    );
}

#[tokio::test]
async fn gitlab_gitea_and_generic_webhooks_trigger_syncs() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "s-forges").await;
    let remote = Remote::new();
    commit_cm(&remote, "zero");
    let server = start_server(&remote, &ns.name, "1h", &[]);
    let url = remote.url();

    let sha = commit_cm(&remote, "gitlab");
    let body = serde_json::json!({
        "object_kind": "push", "ref": "refs/heads/main", "after": sha, "total_commits_count": 1,
        "project": {"git_http_url": url, "git_ssh_url": url, "web_url": url},
        "commits": [{"id": sha, "added": [], "modified": ["apps/cm.yaml"], "removed": []}]
    })
    .to_string();
    let (status, reply) = http(
        server.port,
        "POST",
        "/hooks/gitlab",
        &[
            ("X-Gitlab-Event", "Push Hook".into()),
            ("X-Gitlab-Token", SECRET.into()),
        ],
        body.as_bytes(),
    )
    .unwrap();
    assert_eq!(status, 202, "{reply}");
    wait_until(Duration::from_secs(15), "gitlab push applied", || async {
        (config_value(&client, &ns.name).await.as_deref() == Some("gitlab")).then_some(())
    })
    .await;

    let sha = commit_cm(&remote, "gitea");
    let body = github_push(&url, "refs/heads/main", &sha);
    let (status, reply) = http(
        server.port,
        "POST",
        "/hooks/gitea",
        &[
            ("X-Gitea-Event", "push".into()),
            ("X-Gitea-Signature", hmac_hex(&body)),
        ],
        &body,
    )
    .unwrap();
    assert_eq!(status, 202, "{reply}");
    wait_until(Duration::from_secs(15), "gitea push applied", || async {
        (config_value(&client, &ns.name).await.as_deref() == Some("gitea")).then_some(())
    })
    .await;

    commit_cm(&remote, "generic");
    let body = serde_json::json!({"repository": url, "ref": "refs/heads/main"})
        .to_string()
        .into_bytes();
    let (status, reply) = http(
        server.port,
        "POST",
        "/hooks/generic",
        &[("X-Ferry-Signature", format!("sha256={}", hmac_hex(&body)))],
        &body,
    )
    .unwrap();
    assert_eq!(status, 202, "{reply}");
    wait_until(Duration::from_secs(15), "generic push applied", || async {
        (config_value(&client, &ns.name).await.as_deref() == Some("generic")).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_burst_of_200_webhooks_coalesces_into_at_most_two_syncs() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "s-burst").await;
    let remote = Remote::new();
    commit_cm(&remote, "one");
    let server = start_server(&remote, &ns.name, "1h", &[]);
    let before = total_syncs(server.port, &ns.name);
    let sha = commit_cm(&remote, "two");
    let body = github_push(&remote.url(), "refs/heads/main", &sha);
    let signature = format!("sha256={}", hmac_hex(&body));
    let port = server.port;
    let senders: Vec<_> = (0..4)
        .map(|_| {
            let body = body.clone();
            let signature = signature.clone();
            std::thread::spawn(move || {
                for _ in 0..50 {
                    let (status, _) = send_github(port, &body, &signature);
                    assert_eq!(status, 202);
                }
            })
        })
        .collect();
    for s in senders {
        s.join().unwrap();
    }
    wait_until(
        Duration::from_secs(15),
        "the burst's commit applied",
        || async {
            (config_value(&client, &ns.name).await.as_deref() == Some("two")).then_some(())
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let ran = total_syncs(server.port, &ns.name) - before;
    assert!((1..=2).contains(&ran), "200 webhooks ran {ran} syncs");
}

#[tokio::test]
async fn an_apps_own_webhook_secret_signs_its_pushes_and_only_its() {
    let client = client().await;
    let own = TestNamespace::new(&client, "s-own").await;
    let shared = TestNamespace::new(&client, "s-shared").await;
    let (own_repo, shared_repo) = (Remote::new(), Remote::new());
    commit_cm(&own_repo, "one");
    commit_cm(&shared_repo, "one");
    let own_app = app_config(
        &own.name,
        &own_repo.url(),
        "1h",
        "    webhookSecret: {env: FERRY_TEST_APP_SECRET}\n",
    );
    let shared_app = app_config(&shared.name, &shared_repo.url(), "1h", "");
    let config = format!("{own_app}{}", shared_app.trim_start_matches("apps:\n"));
    let server = wait_ready(spawn_server(
        &config,
        &[],
        &[("FERRY_TEST_APP_SECRET", "the-app's-own-secret")],
    ));

    let sha = commit_cm(&own_repo, "two");
    let body = github_push(&own_repo.url(), "refs/heads/main", &sha);
    // The server-wide secret is valid, but not for this app: nothing is triggered.
    let (status, reply) = send_github(server.port, &body, &format!("sha256={}", hmac_hex(&body)));
    assert_eq!(status, 202, "{reply}");
    let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(reply["triggered"], serde_json::json!([]), "{reply}");
    // Neither secret: rejected.
    let forged = format!("sha256={}", hmac_hex_with("guess", &body));
    assert_eq!(send_github(server.port, &body, &forged).0, 401);
    // The app's own secret triggers it.
    let signed = format!("sha256={}", hmac_hex_with("the-app's-own-secret", &body));
    let (status, reply) = send_github(server.port, &body, &signed);
    assert_eq!(status, 202, "{reply}");
    assert!(reply.contains(&own.name), "{reply}");
    wait_until(
        Duration::from_secs(15),
        "the push to be applied",
        || async {
            (config_value(&client, &own.name).await.as_deref() == Some("two")).then_some(())
        },
    )
    .await;
}
