//! `ferry serve`'s lifecycle end to end: SIGTERM and SIGKILL mid-sync, and Lease leader election.

mod support;

use std::process::Command;
use std::time::Duration;

use support::serve::*;
use support::{client, daemonset_yaml, wait_until, Remote, TestNamespace};

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
        &daemonset_yaml("slow", "nginx:doesnotexist"),
    );
    let sha = remote.work.commit("slow rollout");
    remote.push("HEAD:main");
    let (status, _) = api_post(server.port, &format!("/api/apps/{}/sync", ns.name));
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
    let records = history(&ns.name);
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
async fn a_sync_cut_off_by_sigkill_is_marked_interrupted_on_restart() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "s-kill").await;
    let remote = Remote::new();
    commit_cm(&remote, "one");
    let mut server = start_server(&remote, &ns.name, "1h", &[]);
    remote.work.write(
        "apps/ds.yaml",
        &daemonset_yaml("slow", "nginx:doesnotexist"),
    );
    remote.work.commit("slow rollout");
    remote.push("HEAD:main");
    api_post(server.port, &format!("/api/apps/{}/sync", ns.name));
    let history = || history(&ns.name);
    wait_until(
        Duration::from_secs(15),
        "the slow sync to start",
        || async { (history()[0]["outcome"]["status"] == "inProgress").then_some(()) },
    )
    .await;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    assert_eq!(history()[0]["outcome"]["status"], "inProgress");

    // The restarted server leads (no election) and closes the record once its heartbeat is
    // stale: the killed ferry can no longer renew it.
    let _restarted = start_server(&remote, &ns.name, "1h", &[]);
    let records = wait_until(
        Duration::from_secs(90),
        "the restarted server to mark the killed sync interrupted",
        || async {
            let records = history();
            records
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["outcome"]["status"] != "inProgress")
                .then_some(records)
        },
    )
    .await;
    let interrupted = records
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["outcome"]["status"] == "interrupted");
    assert!(interrupted.is_some(), "{records}");
}
