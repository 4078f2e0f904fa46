//! `ferry serve` end to end: a bare git repo as the remote, real HTTP webhooks with real
//! HMAC signatures, the local control plane as the cluster.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use sha2::Sha256;
use support::{client, kubeconfig, wait_until, GitRepo, Remote, TestNamespace};

const SECRET: &str = "s3cret-for-tests";

/// Writes `apps/cm.yaml` with `value`, commits and pushes it.
fn commit_cm(remote: &Remote, value: &str) -> String {
    remote.work.write(
        "apps/cm.yaml",
        &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  value: \"{value}\"\n"),
    );
    remote.commit_and_push(&format!("settings {value}"))
}

struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_server(remote: &Remote, app: &str, interval: &str, extra: &[&str]) -> Server {
    start_server_with(remote, app, interval, "", extra)
}

/// `app_yaml` is appended to the app's entry in ferry.yaml (e.g. "    selfHeal: true\n").
fn start_server_with(
    remote: &Remote,
    app: &str,
    interval: &str,
    app_yaml: &str,
    extra: &[&str],
) -> Server {
    let server = spawn_server(
        &app_config(app, &remote.url(), interval, app_yaml),
        extra,
        &[],
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok((200, _)) = http(server.port, "GET", "/readyz", &[], b"") {
            return server;
        }
        assert!(
            Instant::now() < deadline,
            "ferry serve did not become ready"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// ferry.yaml with one app following `main` of `repo`, manifests under `apps/`.
fn app_config(app: &str, repo: &str, interval: &str, app_yaml: &str) -> String {
    format!(
        "apps:\n  - name: {app}\n    repo: {repo}\n    branch: main\n    path: apps\n    namespace: {app}\n    interval: {interval}\n{app_yaml}"
    )
}

/// Starts `ferry serve` on a free port with this config; does not wait for readiness.
fn spawn_server(config_yaml: &str, extra: &[&str], env: &[(&str, &str)]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ferry.yaml");
    std::fs::write(&config, config_yaml).unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args([
            "serve",
            "--config",
            config.to_str().unwrap(),
            "--listen",
            &listen,
            "--grace",
            "2s",
        ])
        .args(extra)
        .env("KUBECONFIG", kubeconfig())
        .env("FERRY_CACHE_DIR", dir.path().join("cache"))
        .env("FERRY_WEBHOOK_SECRET", SECRET)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Server {
        child,
        port,
        _dir: dir,
    }
}

/// One HTTP/1.1 request over a plain TCP connection.
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    stream.write_all(body)?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

fn hmac_hex(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn github_push(url: &str, git_ref: &str, after: &str) -> Vec<u8> {
    serde_json::json!({
        "ref": git_ref, "before": "0000000000000000000000000000000000000000", "after": after,
        "repository": {"full_name": "org/repo", "clone_url": url, "ssh_url": url, "html_url": url},
        "commits": [{"id": after, "added": [], "removed": [], "modified": ["apps/cm.yaml"]}],
        "head_commit": {"id": after}
    })
    .to_string()
    .into_bytes()
}

fn send_github(port: u16, body: &[u8], signature: &str) -> (u16, String) {
    http(
        port,
        "POST",
        "/hooks/github",
        &[
            ("Content-Type", "application/json".into()),
            ("X-GitHub-Event", "push".into()),
            ("X-Hub-Signature-256", signature.into()),
        ],
        body,
    )
    .unwrap()
}

fn total_syncs(port: u16, app: &str) -> u64 {
    let (_, body) = http(port, "GET", &format!("/api/apps/{app}"), &[], b"").unwrap();
    let status: serde_json::Value = serde_json::from_str(&body).unwrap();
    status["syncsByOutcome"]
        .as_object()
        .map(|m| m.values().filter_map(|v| v.as_u64()).sum())
        .unwrap_or(0)
}

async fn config_value(client: &kube::Client, ns: &str) -> Option<String> {
    let cm = Api::<ConfigMap>::namespaced(client.clone(), ns)
        .get_opt("settings")
        .await
        .ok()??;
    cm.data?.get("value").cloned()
}

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
async fn polling_picks_up_commits_and_metrics_count_syncs() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "s-poll").await;
    let remote = Remote::new();
    commit_cm(&remote, "one");
    let server = start_server(&remote, &ns.name, "1s", &[]);
    commit_cm(&remote, "two");
    wait_until(
        Duration::from_secs(20),
        "the poll to apply the new commit",
        || async {
            (config_value(&client, &ns.name).await.as_deref() == Some("two")).then_some(())
        },
    )
    .await;
    // The status is updated once the sync (and its history record) is finished.
    let series = format!(
        "ferry_syncs_total{{app=\"{}\",outcome=\"succeeded\"}} 2",
        ns.name
    );
    wait_until(
        Duration::from_secs(10),
        "the second sync counted",
        || async {
            let (_, text) = http(server.port, "GET", "/metrics", &[], b"").ok()?;
            text.contains(&series).then_some(())
        },
    )
    .await;
    let (status, text) = http(server.port, "GET", "/metrics", &[], b"").unwrap();
    assert_eq!(status, 200);
    // Every line is a comment or `name{labels} number`.
    let mut succeeded = None;
    for line in text.lines().filter(|l| !l.is_empty()) {
        if line.starts_with('#') {
            assert!(
                line.starts_with("# HELP ") || line.starts_with("# TYPE "),
                "{line}"
            );
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {line}"));
        assert!(
            series.chars().next().unwrap().is_ascii_alphabetic(),
            "{line}"
        );
        if series
            == format!(
                "ferry_syncs_total{{app=\"{}\",outcome=\"succeeded\"}}",
                ns.name
            )
        {
            succeeded = Some(value);
        }
    }
    assert_eq!(succeeded, Some(2.0), "{text}");
    assert!(text.contains("ferry_synced_commit_info{"), "{text}");
    assert!(
        text.contains(&format!(
            "ferry_gate_duration_seconds_count{{app=\"{}\"}} 0",
            ns.name
        )),
        "no workloads, no gates: {text}"
    );
    let (status, body) = http(
        server.port,
        "GET",
        &format!("/api/apps/{}/history", ns.name),
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(status, 200);
    let history: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(history["syncs"][0]["trigger"], "poll");
}

#[tokio::test]
async fn sigterm_mid_sync_leaves_history_consistent_and_a_restart_converges() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "s-term").await;
    let remote = Remote::new();
    commit_cm(&remote, "one");
    let mut server = start_server(&remote, &ns.name, "1h", &[]);
    // A slow sync: a DaemonSet whose image never pulls keeps the gate busy for the grace.
    remote.work.write(
        "apps/ds.yaml",
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: slow\nspec:\n  selector: {matchLabels: {app: slow}}\n  template:\n    metadata: {labels: {app: slow}}\n    spec:\n      containers: [{name: c, image: \"nginx:doesnotexist\"}]\n",
    );
    let sha = remote.work.commit("slow rollout");
    remote.push("HEAD:main");
    let (status, _) = http(
        server.port,
        "POST",
        &format!("/api/apps/{}/sync", ns.name),
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(status, 202);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let exit = server.child.wait().unwrap();
    assert!(exit.success(), "clean exit on SIGTERM: {exit:?}");
    let out = support::ferry(&["history", "--app", &ns.name, "-o", "json"]);
    let records: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let newest = &records[0];
    assert_eq!(newest["commit"]["sha"], sha.as_str());
    assert_ne!(
        newest["outcome"]["status"], "inProgress",
        "the running sync was finished and recorded"
    );

    // A restart converges on the same commit.
    remote.work.remove("apps/ds.yaml");
    remote.work.commit("drop the slow DaemonSet");
    remote.push("HEAD:main");
    let server = start_server(&remote, &ns.name, "1h", &["--prune"]);
    let (_, body) = http(
        server.port,
        "GET",
        &format!("/api/apps/{}", ns.name),
        &[],
        b"",
    )
    .unwrap();
    let status: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status["syncedCommit"], status["headCommit"], "{status}");
}

async fn app_status(port: u16, app: &str) -> serde_json::Value {
    let (_, body) = http(port, "GET", &format!("/api/apps/{app}"), &[], b"").unwrap();
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn drift_is_reported_without_self_heal_and_corrected_with_it() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "s-drift").await;
    let remote = Remote::new();
    commit_cm(&remote, "git");
    let server = start_server(&remote, &ns.name, "1s", &[]);
    support::kubectl_ok(&[
        "patch",
        "configmap",
        "settings",
        "-n",
        &ns.name,
        "--type=merge",
        "-p",
        r#"{"data":{"value":"hand-edit"}}"#,
    ]);
    let drift = wait_until(Duration::from_secs(15), "drift reported", || async {
        let status = app_status(server.port, &ns.name).await;
        let drift = status["drift"].as_object()?.clone();
        (!drift.is_empty()).then_some(drift)
    })
    .await;
    let fields = drift[&format!("ConfigMap {}/settings", ns.name)].to_string();
    assert!(fields.contains("data.value"), "{fields}");
    let (_, metrics) = http(server.port, "GET", "/metrics", &[], b"").unwrap();
    assert!(
        metrics.contains(&format!("ferry_drifted_objects{{app=\"{}\"}} 1", ns.name)),
        "{metrics}"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        config_value(&client, &ns.name).await.as_deref(),
        Some("hand-edit"),
        "only reported"
    );
    drop(server);

    let server = start_server_with(&remote, &ns.name, "1s", "    selfHeal: true\n", &[]);
    wait_until(
        Duration::from_secs(15),
        "self-heal to restore git's value",
        || async {
            (config_value(&client, &ns.name).await.as_deref() == Some("git")).then_some(())
        },
    )
    .await;
    support::kubectl_ok(&[
        "patch",
        "configmap",
        "settings",
        "-n",
        &ns.name,
        "--type=merge",
        "-p",
        r#"{"data":{"value":"again"}}"#,
    ]);
    wait_until(
        Duration::from_secs(60),
        "a second heal after the rate limit",
        || async {
            (config_value(&client, &ns.name).await.as_deref() == Some("git")).then_some(())
        },
    )
    .await;
    let status = app_status(server.port, &ns.name).await;
    assert!(status["selfHeals"].as_u64().unwrap() >= 1, "{status}");
}

#[tokio::test]
async fn only_the_lease_holder_syncs_and_a_standby_takes_over_when_it_dies() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "s-lease").await;
    let ferry_ns = format!("{}-ferry", ns.name);
    let remote = Remote::new();
    commit_cm(&remote, "one");
    let extra = ["--leader-elect", "--ferry-namespace", ferry_ns.as_str()];
    let mut leader = start_server(&remote, &ns.name, "1s", &extra);

    // The standby answers health checks but does not become ready or sync.
    let standby = spawn_server(
        &app_config(&ns.name, &remote.url(), "1s", ""),
        &extra,
        &[("POD_NAME", "standby")],
    );
    let port = standby.port;
    wait_until(
        Duration::from_secs(20),
        "the standby's /healthz",
        || async { matches!(http(port, "GET", "/healthz", &[], b""), Ok((200, _))).then_some(()) },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        http(port, "GET", "/readyz", &[], b"").unwrap().0,
        503,
        "the standby waits"
    );
    assert_eq!(total_syncs(port, &ns.name), 0, "the standby does not sync");

    // The leader dies without releasing the lease; the standby takes over after it expires.
    leader.child.kill().unwrap();
    leader.child.wait().unwrap();
    commit_cm(&remote, "two");
    wait_until(
        Duration::from_secs(45),
        "the standby to take over and sync",
        || async {
            (config_value(&client, &ns.name).await.as_deref() == Some("two")).then_some(())
        },
    )
    .await;
    // Ready once its first attempt (apply, gates, history) is complete.
    wait_until(
        Duration::from_secs(15),
        "the new leader to be ready",
        || async {
            matches!(http(standby.port, "GET", "/readyz", &[], b""), Ok((200, _))).then_some(())
        },
    )
    .await;
    support::kubectl(&["delete", "namespace", &ferry_ns, "--wait=false"]);
}

#[tokio::test]
async fn a_deny_window_plans_but_does_not_apply_until_forced() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "s-window").await;
    let remote = Remote::new();
    commit_cm(&remote, "one");
    // Denied around the clock: every minute opens a one-hour deny window.
    let windows = "    windows:\n      - {kind: deny, schedule: \"* * * * *\", duration: 1h}\n";
    let server = start_server_with(&remote, &ns.name, "1s", windows, &[]);
    let status = wait_until(
        Duration::from_secs(20),
        "the window to hold the sync back",
        || async {
            let status = app_status(server.port, &ns.name).await;
            status["windowBlocked"].is_string().then_some(status)
        },
    )
    .await;
    assert!(
        status["windowBlocked"]
            .as_str()
            .unwrap()
            .contains("inside deny window"),
        "{status}"
    );
    assert_eq!(status["pendingChanges"], 1, "{status}");
    assert_eq!(
        config_value(&client, &ns.name).await,
        None,
        "nothing applied"
    );

    // `ferry sync --server … --app … --force-window` overrides the window.
    let url = format!("http://127.0.0.1:{}", server.port);
    let out = support::ferry(&[
        "sync",
        "--server",
        &url,
        "--app",
        &ns.name,
        "--force-window",
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains(&ns.name), "{}", out.stdout);
    wait_until(Duration::from_secs(15), "the forced sync", || async {
        (config_value(&client, &ns.name).await.as_deref() == Some("one")).then_some(())
    })
    .await;
}

#[tokio::test]
async fn the_file_watcher_syncs_a_local_repository_on_commit() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "s-watch").await;
    let repo = GitRepo::new();
    let cm = |v: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  value: \"{v}\"\n")
    };
    repo.write("apps/cm.yaml", &cm("one"));
    repo.commit("one");
    let server = spawn_server(&app_config(&ns.name, &repo.path_str(), "1h", ""), &[], &[]);
    let port = server.port;
    wait_until(Duration::from_secs(30), "first sync", || async {
        (config_value(&client, &ns.name).await.as_deref() == Some("one")).then_some(())
    })
    .await;
    repo.write("apps/cm.yaml", &cm("two"));
    repo.commit("two");
    wait_until(
        Duration::from_secs(15),
        "the watcher to sync the new commit",
        || async {
            (config_value(&client, &ns.name).await.as_deref() == Some("two")).then_some(())
        },
    )
    .await;
    let status = app_status(port, &ns.name).await;
    assert!(
        status["triggers"]["watch"].as_u64().unwrap_or(0) >= 1,
        "{status}"
    );
}

#[tokio::test]
async fn a_sync_cut_off_by_sigkill_is_marked_interrupted_on_restart() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "s-kill").await;
    let remote = Remote::new();
    commit_cm(&remote, "one");
    let mut server = start_server(&remote, &ns.name, "1h", &[]);
    remote.work.write(
        "apps/ds.yaml",
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: slow\nspec:\n  selector: {matchLabels: {app: slow}}\n  template:\n    metadata: {labels: {app: slow}}\n    spec:\n      containers: [{name: c, image: \"nginx:doesnotexist\"}]\n",
    );
    remote.work.commit("slow rollout");
    remote.push("HEAD:main");
    http(
        server.port,
        "POST",
        &format!("/api/apps/{}/sync", ns.name),
        &[],
        b"",
    )
    .unwrap();
    let history = || {
        let out = support::ferry(&["history", "--app", &ns.name, "-o", "json"]);
        serde_json::from_str::<serde_json::Value>(&out.stdout).unwrap()
    };
    wait_until(
        Duration::from_secs(15),
        "the slow sync to start",
        || async { (history()[0]["outcome"]["status"] == "inProgress").then_some(()) },
    )
    .await;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    assert_eq!(history()[0]["outcome"]["status"], "inProgress");

    let _restarted = start_server(&remote, &ns.name, "1h", &[]);
    let records = history();
    let interrupted = records.as_array().unwrap().iter().find(|r| {
        r["outcome"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("interrupted"))
    });
    assert!(interrupted.is_some(), "{records}");
    assert!(
        records
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["outcome"]["status"] != "inProgress"),
        "{records}"
    );
}
