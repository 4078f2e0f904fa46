//! Polls of a commit already synced trust the shared live watch instead of planning against
//! the cluster, and still plan once `--drift-check-interval` has passed: the watch cannot tell
//! a write made under ferry's own field manager from ferry's, the bounded check can.

mod support;

use std::time::Duration;

use support::serve::*;
use support::{client, kubectl_ok, wait_until, Remote, TestNamespace};

/// The app's drift-check counters from `/api/apps/<app>`: (checks run, polls that skipped one).
async fn drift_checks(port: u16, app: &str) -> (u64, u64) {
    let status = app_status(port, app).await;
    (
        status["driftChecks"].as_u64().unwrap_or(0),
        status["driftChecksSkipped"].as_u64().unwrap_or(0),
    )
}

#[tokio::test]
async fn polls_trust_the_live_watch_until_the_drift_check_interval_passes() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "s-drift-checks").await;
    let remote = Remote::new();
    commit_cm(&remote, "git");
    let server = start_server_with(
        &remote,
        &ns.name,
        "1s",
        "    selfHeal: true\n",
        &["--drift-check-interval", "12s", "--heal-interval", "1s"],
    );

    // (a) Polls every second, and almost none of them plans.
    let (checks, skipped) = wait_until(
        Duration::from_secs(30),
        "polls that trust the watch",
        || async {
            let counts = drift_checks(server.port, &ns.name).await;
            (counts.1 >= 3).then_some(counts)
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (checks_later, skipped_later) = drift_checks(server.port, &ns.name).await;
    assert!(
        skipped_later >= skipped + 2,
        "4 s of 1 s polls skipped {} drift checks",
        skipped_later - skipped
    );
    assert!(
        checks_later <= checks + 1,
        "4 s of 1 s polls ran {} drift checks (12 s interval)",
        checks_later - checks
    );
    let (_, metrics) = http(server.port, "GET", "/metrics", &[], b"").unwrap();
    assert!(
        metrics.contains(&format!(
            "ferry_drift_checks_skipped_total{{app=\"{}\"}}",
            ns.name
        )),
        "{metrics}"
    );

    // (b) Someone else's edit: the watch asks for a check at once, and self-heal restores git.
    hand_edit(&ns.name, "hand-edit");
    wait_until(Duration::from_secs(15), "the hand edit healed", || async {
        (config_value(&client, &ns.name).await.as_deref() == Some("git")).then_some(())
    })
    .await;

    // (c) A write under ferry's own field manager looks like ferry's to the watch: only the
    // bounded drift check finds it. Made just after a poll trusted a fresh clean check, so the
    // next check is most of the interval away.
    let (checks, skipped) = drift_checks(server.port, &ns.name).await;
    wait_until(
        Duration::from_secs(20),
        "a clean check, then a poll that trusts it",
        || async {
            let now = drift_checks(server.port, &ns.name).await;
            (now.0 > checks && now.1 > skipped).then_some(())
        },
    )
    .await;
    let (checks, _) = drift_checks(server.port, &ns.name).await;
    kubectl_ok(&[
        "patch",
        "configmap",
        "settings",
        "-n",
        &ns.name,
        "--type=merge",
        "--field-manager=ferry",
        "-p",
        r#"{"data":{"value":"as-ferry"}}"#,
    ]);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        config_value(&client, &ns.name).await.as_deref(),
        Some("as-ferry"),
        "polls within the interval trusted the watch"
    );
    wait_until(
        Duration::from_secs(25),
        "the bounded drift check to heal the write",
        || async {
            (config_value(&client, &ns.name).await.as_deref() == Some("git")).then_some(())
        },
    )
    .await;
    let (checks_after, _) = drift_checks(server.port, &ns.name).await;
    assert!(checks_after > checks, "healed without a drift check?");
}
