//! `ferry serve` with many apps: the listener answers before the apps have synced, `/readyz`
//! turns ready only once every app attempted its first sync, and no more syncs run at once
//! than `--max-concurrent-syncs`.

mod support;

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams};
use support::serve::*;
use support::{client, TestNamespace};

const APPS: usize = 200;
const SLOTS: u64 = 3;

/// `ferry_syncs_running N` from a scrape.
fn gauge(metrics: &str, name: &str) -> Option<u64> {
    metrics.lines().find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        (series == name).then(|| value.parse().ok())?
    })
}

#[tokio::test]
async fn many_apps_listener_first_then_bounded_syncs_until_ready() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "s-scale").await;
    let remote = support::Remote::new();
    let mut config = String::from("apps:\n");
    for i in 0..APPS {
        remote.work.write(
            &format!("apps/a{i}/cm.yaml"),
            &format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\ndata:\n  v: \"{i}\"\n"
            ),
        );
        config.push_str(&format!(
            "  - name: {ns}-a{i}\n    repo: {url}\n    branch: main\n    path: apps/a{i}\n    namespace: {ns}\n    interval: 1h\n",
            ns = ns.name,
            url = remote.url()
        ));
    }
    remote.commit_and_push("200 apps");

    let slots = SLOTS.to_string();
    let server = spawn_server(&config, &["--max-concurrent-syncs", &slots], &[]);
    // Listener first: /healthz answers while the apps have not all synced yet.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !matches!(http(server.port, "GET", "/healthz", &[], b""), Ok((200, _))) {
        assert!(Instant::now() < deadline, "/healthz never answered");
        std::thread::sleep(Duration::from_millis(2));
    }
    let (status, body) = http(server.port, "GET", "/readyz", &[], b"").unwrap();
    assert_eq!(
        status, 503,
        "not ready while apps wait for their first sync: {body}"
    );
    let (_, apps) = http(server.port, "GET", "/api/apps", &[], b"").unwrap();
    let apps: serde_json::Value = serde_json::from_str(&apps).unwrap();
    let attempted = apps["apps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["attempted"] == true)
        .count();
    assert!(
        attempted < APPS,
        "the listener came up only after every app synced"
    );
    eprintln!("at the first /healthz answer: {attempted} of {APPS} apps had attempted a sync");

    // Until ready: never more syncs running than slots.
    let (mut most, mut scrapes) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let (_, metrics) = http(server.port, "GET", "/metrics", &[], b"").unwrap();
        scrapes += 1;
        assert_eq!(
            gauge(&metrics, "ferry_sync_slots"),
            Some(SLOTS),
            "{metrics}"
        );
        let running = gauge(&metrics, "ferry_syncs_running").expect("ferry_syncs_running");
        most = most.max(running);
        assert!(
            running <= SLOTS,
            "{running} syncs running at once, more than --max-concurrent-syncs {SLOTS}"
        );
        if let Ok((200, _)) = http(server.port, "GET", "/readyz", &[], b"") {
            break;
        }
        assert!(Instant::now() < deadline, "not ready after 5 minutes");
    }
    eprintln!("{scrapes} scrapes until ready; at most {most} syncs ran at once");

    // Ready means every app attempted, and here every one synced its ConfigMap.
    let (_, apps) = http(server.port, "GET", "/api/apps", &[], b"").unwrap();
    let apps: serde_json::Value = serde_json::from_str(&apps).unwrap();
    for app in apps["apps"].as_array().unwrap() {
        assert_eq!(app["attempted"], true, "{app}");
        assert!(app["syncedCommit"].is_string(), "{app}");
    }
    let cms = Api::<ConfigMap>::namespaced(client.clone(), &ns.name)
        .list(&ListParams::default())
        .await
        .unwrap();
    let synced = cms
        .items
        .iter()
        .filter(|cm| {
            cm.metadata
                .name
                .as_deref()
                .is_some_and(|n| n.starts_with("cm-"))
        })
        .count();
    assert_eq!(synced, APPS, "every app's ConfigMap is in the cluster");
}
