//! Leader election end to end: a leader whose Lease is taken away stops its running sync
//! before the next wave and records it interrupted; a standby never touches history.

mod support;

use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use support::serve::*;
use support::{client, daemonset_yaml, ferry, kubectl_ok, wait_until, Remote, TestNamespace};

/// `ferry history --app <app> -o json` in ferry's namespace `ferry_ns`, newest first.
fn history_in(ferry_ns: &str, app: &str) -> Vec<serde_json::Value> {
    let out = ferry(&[
        "history",
        "--app",
        app,
        "--ferry-namespace",
        ferry_ns,
        "-o",
        "json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    serde_json::from_str::<serde_json::Value>(&out.stdout)
        .unwrap()
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn lease_holder(ferry_ns: &str) -> String {
    kubectl_ok(&[
        "get",
        "lease",
        "ferry-leader",
        "-n",
        ferry_ns,
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ])
}

#[tokio::test]
async fn a_leader_that_loses_its_lease_stops_before_the_next_wave_and_a_standby_never_writes_history(
) {
    let client = client().await;
    let ns = TestNamespace::new(&client, "l-lost").await;
    let ferry_ns = format!("{}-ferry", ns.name);
    let remote = Remote::new();
    // Wave 3 (the DaemonSet) never becomes healthy (the image never pulls); wave 4 must never
    // be applied.
    remote.work.write(
        "apps/ds.yaml",
        &daemonset_yaml("stuck", "nginx:doesnotexist"),
    );
    remote.work.write(
        "apps/after.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after\n  annotations: {ferry.dev/wave: \"4\"}\ndata: {k: v}\n",
    );
    remote.commit_and_push("a rollout that hangs, then more");
    let config = app_config(&ns.name, &remote.url(), "1h", "");
    let extra = [
        "--leader-elect",
        "--ferry-namespace",
        ferry_ns.as_str(),
        "--grace",
        "10m",
        "--timeout",
        "10m",
    ];
    let mut leader = spawn_server(&config, &extra, &[("POD_NAME", "leader")]);
    let running = wait_until(
        Duration::from_secs(60),
        "the leader's sync to wait on its gate",
        || async {
            let records = history_in(&ferry_ns, &ns.name);
            records
                .first()
                .filter(|r| r["outcome"]["status"] == "inProgress")
                .cloned()
        },
    )
    .await;
    assert_eq!(lease_holder(&ferry_ns), "leader");

    // A standby starts while the leader's sync runs: it serves health checks and leaves the
    // leader's record alone.
    let standby = spawn_server(&config, &extra, &[("POD_NAME", "standby")]);
    let port = standby.port;
    wait_until(
        Duration::from_secs(20),
        "the standby's /healthz",
        || async { matches!(http(port, "GET", "/healthz", &[], b""), Ok((200, _))).then_some(()) },
    )
    .await;
    let records = history_in(&ferry_ns, &ns.name);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(
        records[0]["outcome"]["status"], "inProgress",
        "a standby never touches the leader's running sync: {records:?}"
    );

    // Someone takes the lease away: the leader must stop before wave 4 and record why.
    let taken = std::time::Instant::now();
    kubectl_ok(&[
        "patch",
        "lease",
        "ferry-leader",
        "-n",
        &ferry_ns,
        "--type=merge",
        "-p",
        r#"{"spec":{"holderIdentity":"intruder"}}"#,
    ]);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(exit) = leader.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the leader kept running after losing its lease"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(exit.code(), Some(2), "exits so another replica leads");
    eprintln!(
        "the leader exited {:?} after its lease was taken",
        taken.elapsed()
    );
    let records = history_in(&ferry_ns, &ns.name);
    assert_eq!(records.len(), 1, "{records:?}");
    let record = &records[0];
    assert_eq!(record["seq"], running["seq"]);
    assert_eq!(record["outcome"]["status"], "interrupted", "{record}");
    let reason = record["outcome"]["reason"].as_str().unwrap();
    assert!(reason.contains("held by intruder"), "{reason}");
    let objects = record["objects"].as_array().unwrap();
    let object = |kind: &str| objects.iter().find(|o| o["kind"] == kind).unwrap();
    assert!(
        object("DaemonSet")["gate"]
            .as_str()
            .is_some_and(|g| g.starts_with("interrupted")),
        "{record}"
    );
    assert_eq!(object("ConfigMap")["result"], "skipped", "{record}");
    let after = Api::<ConfigMap>::namespaced(client.clone(), &ns.name)
        .get_opt("after")
        .await
        .unwrap();
    assert!(
        after.is_none(),
        "wave 4 was applied after the lease was lost"
    );
    // The standby still waits (the intruder's lease has not expired by its clock) and has
    // written nothing.
    assert_eq!(lease_holder(&ferry_ns), "intruder");
    assert_eq!(total_syncs(port, &ns.name), 0);
    drop(standby);
    support::kubectl(&["delete", "namespace", &ferry_ns, "--wait=false"]);
}

#[tokio::test]
async fn a_leader_stopped_by_sigterm_releases_its_lease() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "l-release").await;
    let ferry_ns = format!("{}-ferry", ns.name);
    let remote = Remote::new();
    commit_cm(&remote, "one");
    let extra = ["--leader-elect", "--ferry-namespace", ferry_ns.as_str()];
    let mut leader = wait_ready(spawn_server(
        &app_config(&ns.name, &remote.url(), "1h", ""),
        &extra,
        &[("POD_NAME", "leader")],
    ));
    assert_eq!(lease_holder(&ferry_ns), "leader");
    let pid = leader.child.id().to_string();
    let term = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(term.success());
    let exit = leader.child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    // Released: a standby need not wait for the lease to expire.
    assert_eq!(lease_holder(&ferry_ns), "");
    support::kubectl(&["delete", "namespace", &ferry_ns, "--wait=false"]);
}
