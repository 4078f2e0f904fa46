//! `ferry serve`'s reconcile loop end to end: polling, drift and self-heal, sync windows, the
//! file watcher, and newer commits superseding a waiting gate.

mod support;

use std::time::Duration;

use support::serve::*;
use support::{client, daemonset_yaml, wait_until, GitRepo, Remote, TestNamespace};

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
async fn drift_is_reported_without_self_heal_and_corrected_with_it() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "s-drift").await;
    let remote = Remote::new();
    commit_cm(&remote, "git");
    let server = start_server(&remote, &ns.name, "1s", &[]);
    hand_edit(&ns.name, "hand-edit");
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
    hand_edit(&ns.name, "again");
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
    let token = api_token_file();
    let out = support::ferry(&[
        "sync",
        "--server",
        &url,
        "--api-token-file",
        token.path().to_str().unwrap(),
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
async fn a_newer_commit_cancels_a_waiting_gate_and_is_synced() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "s-supersede").await;
    let remote = Remote::new();
    commit_cm(&remote, "one");
    // A 5-minute grace: the broken rollout's gate would wait that long on its own.
    let server = start_server(&remote, &ns.name, "1h", &["--grace", "5m"]);
    let history = || history(&ns.name);

    remote.work.write(
        "apps/ds.yaml",
        &daemonset_yaml("agent", "nginx:doesnotexist"),
    );
    let broken = remote.commit_and_push("agent: a tag that does not exist");
    let body = github_push(&remote.url(), "refs/heads/main", &broken);
    let (status, reply) = send_github(server.port, &body, &format!("sha256={}", hmac_hex(&body)));
    assert_eq!(status, 202, "{reply}");
    wait_until(
        Duration::from_secs(20),
        "the broken commit's gate to be waiting",
        || async {
            let newest = history()[0].clone();
            (newest["commit"]["sha"] == broken.as_str()
                && newest["outcome"]["status"] == "inProgress")
                .then_some(())
        },
    )
    .await;

    remote
        .work
        .write("apps/ds.yaml", &daemonset_yaml("agent", "nginx:1.27"));
    let fix = remote.commit_and_push("agent: back to a real tag");
    let body = github_push(&remote.url(), "refs/heads/main", &fix);
    let sent = std::time::Instant::now();
    let (status, reply) = send_github(server.port, &body, &format!("sha256={}", hmac_hex(&body)));
    assert_eq!(status, 202, "{reply}");
    // Far less than the 5-minute grace: the wait was cancelled, not waited out.
    wait_until(Duration::from_secs(30), "the fix to be synced", || async {
        let status = app_status(server.port, &ns.name).await;
        (status["syncedCommit"] == fix.as_str()).then_some(())
    })
    .await;
    eprintln!(
        "fix webhook to fix synced (gates passed): {:?}",
        sent.elapsed()
    );

    let records = history();
    let records = records.as_array().unwrap();
    let superseded = records
        .iter()
        .find(|r| r["commit"]["sha"] == broken.as_str())
        .unwrap();
    assert_eq!(
        superseded["outcome"]["status"], "superseded",
        "{superseded}"
    );
    assert_eq!(superseded["outcome"]["by"], fix.as_str(), "{superseded}");
    let gate = superseded["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "DaemonSet")
        .and_then(|o| o["gate"].as_str())
        .unwrap_or_default()
        .to_string();
    assert!(
        gate.starts_with(&format!("superseded by {}", &fix[..7])),
        "{gate}"
    );
    assert_eq!(records[0]["commit"]["sha"], fix.as_str());
    assert_eq!(
        records[0]["outcome"]["status"], "succeeded",
        "{}",
        records[0]
    );
    let image = support::kubectl_ok(&[
        "get",
        "daemonset",
        "agent",
        "-n",
        &ns.name,
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    assert_eq!(image.trim(), "nginx:1.27");
    let (_, metrics) = http(server.port, "GET", "/metrics", &[], b"").unwrap();
    assert!(
        metrics.contains(&format!(
            "ferry_syncs_total{{app=\"{}\",outcome=\"superseded\"}} 1",
            ns.name
        )),
        "{metrics}"
    );
}

#[tokio::test]
async fn with_supersede_gates_off_a_waiting_gate_reaches_its_own_verdict() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "s-nosupersede").await;
    let remote = Remote::new();
    commit_cm(&remote, "one");
    let server = start_server_with(
        &remote,
        &ns.name,
        "1h",
        "    supersedeGates: false\n",
        &["--grace", "6s"],
    );
    remote.work.write(
        "apps/ds.yaml",
        &daemonset_yaml("agent", "nginx:doesnotexist"),
    );
    let broken = remote.commit_and_push("agent: a tag that does not exist");
    let sync = format!("/api/apps/{}/sync", ns.name);
    assert_eq!(api_post(server.port, &sync).0, 202);
    wait_until(
        Duration::from_secs(20),
        "the broken sync to start",
        || async { (app_status(server.port, &ns.name).await["syncing"] == true).then_some(()) },
    )
    .await;
    remote
        .work
        .write("apps/ds.yaml", &daemonset_yaml("agent", "nginx:1.27"));
    let fix = remote.commit_and_push("agent: back to a real tag");
    assert_eq!(api_post(server.port, &sync).0, 202);
    wait_until(Duration::from_secs(60), "the fix to be synced", || async {
        let status = app_status(server.port, &ns.name).await;
        (status["syncedCommit"] == fix.as_str()).then_some(())
    })
    .await;
    let records = history(&ns.name);
    let broken = records
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["commit"]["sha"] == broken.as_str())
        .unwrap();
    assert_eq!(broken["outcome"]["status"], "gateFailed", "{broken}");
}

#[tokio::test]
async fn live_changes_to_managed_objects_are_detected_without_waiting_for_the_poll() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "s-live").await;
    let remote = Remote::new();
    commit_cm(&remote, "git");
    // An hour between polls: only the live watch can notice the edit in time.
    let server = start_server_with(&remote, &ns.name, "1h", "    selfHeal: true\n", &[]);
    assert_eq!(
        config_value(&client, &ns.name).await.as_deref(),
        Some("git")
    );
    hand_edit(&ns.name, "hand-edit");
    let edited = std::time::Instant::now();
    wait_until(Duration::from_secs(15), "the edit to be healed", || async {
        (config_value(&client, &ns.name).await.as_deref() == Some("git")).then_some(())
    })
    .await;
    eprintln!(
        "hand edit to healed (1s debounce, interval 1h): {:?}",
        edited.elapsed()
    );
    let status = app_status(server.port, &ns.name).await;
    assert!(
        status["triggers"]["drift"].as_u64().unwrap_or(0) >= 1,
        "{status}"
    );
    assert_eq!(status["selfHeals"], 1, "{status}");
    let (_, metrics) = http(server.port, "GET", "/metrics", &[], b"").unwrap();
    assert!(
        metrics.contains(&format!(
            "ferry_triggers_total{{app=\"{}\",trigger=\"drift\"}}",
            ns.name
        )),
        "{metrics}"
    );
    drop(server);

    // Without selfHeal a deletion is reported, and the object stays deleted.
    let server = start_server(&remote, &ns.name, "1h", &[]);
    support::kubectl_ok(&["delete", "configmap", "settings", "-n", &ns.name]);
    let drift = wait_until(Duration::from_secs(15), "the deletion reported", || async {
        let status = app_status(server.port, &ns.name).await;
        let drift = status["drift"].as_object()?.clone();
        (!drift.is_empty()).then_some(drift)
    })
    .await;
    let fields = drift[&format!("ConfigMap {}/settings", ns.name)].to_string();
    assert!(fields.contains("create"), "{fields}");
    assert_eq!(config_value(&client, &ns.name).await, None, "only reported");
}
