//! The live-object watch shared by every app of `ferry serve`: one metadata watch per kind,
//! not per app, and a hand edit asks for a drift check of the app that owns the object only.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use support::serve::*;
use support::{client, kubectl_ok, wait_until, Remote, TestNamespace};

const APPS: usize = 50;
/// ConfigMap, Secret and ServiceAccount: every app has one of each.
const KINDS: u64 = 3;

fn app_name(i: usize) -> String {
    format!("a{i:02}")
}

/// Every app under `apps/<app>/`, all into `namespace`, sharing three kinds.
fn commit_apps(remote: &Remote) {
    for i in 0..APPS {
        let app = app_name(i);
        remote.work.write(
            &format!("apps/{app}/objects.yaml"),
            &format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app}\ndata:\n  value: git\n---\n\
                 apiVersion: v1\nkind: Secret\nmetadata:\n  name: {app}\nstringData:\n  key: git\n---\n\
                 apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {app}\n"
            ),
        );
    }
    remote.commit_and_push("50 apps");
}

fn config(remote: &Remote, namespace: &str) -> String {
    let mut yaml = String::from("apps:\n");
    for i in 0..APPS {
        let app = app_name(i);
        yaml.push_str(&format!(
            "  - name: {app}\n    repo: {}\n    branch: main\n    path: apps/{app}\n    namespace: {namespace}\n    interval: 1h\n",
            remote.url()
        ));
    }
    yaml
}

/// Every app's trigger counters from `/api/apps`.
fn triggers(port: u16) -> BTreeMap<String, serde_json::Value> {
    let (_, body) = http(port, "GET", "/api/apps", &[], b"").unwrap();
    let apps: serde_json::Value = serde_json::from_str(&body).unwrap();
    apps["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_owned(),
                a["triggers"].clone(),
            )
        })
        .collect()
}

fn live_watches(port: u16) -> Option<u64> {
    let (_, metrics) = http(port, "GET", "/metrics", &[], b"").ok()?;
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("ferry_live_watches "))
        .and_then(|v| v.trim().parse().ok())
}

#[tokio::test]
async fn fifty_apps_share_one_watch_per_kind_and_an_edit_checks_only_its_app() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "s-watches").await;
    let remote = Remote::new();
    commit_apps(&remote);
    // ferry's own namespace is the test's: the install label keeps other tests' objects out.
    let server = spawn_server(
        &config(&remote, &ns.name),
        &[],
        &[("FERRY_NAMESPACE", &ns.name)],
    );
    wait_until(Duration::from_secs(180), "every app synced", || async {
        matches!(http(server.port, "GET", "/readyz", &[], b""), Ok((200, _))).then_some(())
    })
    .await;

    // (b) One watch per kind for 50 apps, not one per kind per app.
    let watches = wait_until(Duration::from_secs(60), "a watch of every kind", || async {
        live_watches(server.port).filter(|n| *n >= KINDS)
    })
    .await;
    assert_eq!(
        watches, KINDS,
        "watches held for {APPS} apps × {KINDS} kinds"
    );

    // (a) A hand edit of one app's object: a drift check for that app, no other.
    let edited = app_name(17);
    let before = triggers(server.port);
    let mut attempt = 0;
    let after = wait_until(
        Duration::from_secs(30),
        "a drift check of the edited app",
        || {
            // Edited again on each look: an edit during the watch's first list is not a change.
            if attempt % 10 == 0 {
                let patch = format!(r#"{{"data":{{"value":"hand-{attempt}"}}}}"#);
                kubectl_ok(&[
                    "patch",
                    "configmap",
                    &edited,
                    "-n",
                    &ns.name,
                    "--type=merge",
                    "-p",
                    &patch,
                ]);
            }
            attempt += 1;
            let port = server.port;
            let edited = edited.clone();
            async move {
                let after = triggers(port);
                (after[&edited]["drift"].as_u64().unwrap_or(0) >= 1).then_some(after)
            }
        },
    )
    .await;
    assert_eq!(
        before[&edited]["drift"].as_u64().unwrap_or(0),
        0,
        "{before:?}"
    );
    // The other apps' checks would have been due in the same debounce: a little later still.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let later = triggers(server.port);
    for (app, counts) in &before {
        if *app != edited {
            assert_eq!(&later[app], counts, "{app}'s triggers moved; {after:?}");
        }
    }
    assert_eq!(live_watches(server.port), Some(KINDS));
}
