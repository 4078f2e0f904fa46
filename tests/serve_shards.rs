//! `ferry serve --shards`: several replicas share the apps through shard Leases. Each app is
//! synced by exactly one replica, a webhook that reaches a replica that does not own the app
//! is handed to the owner, a SIGKILLed replica's apps are taken over once its Leases expire
//! (never synced by two replicas at once), and a fourth replica takes about a quarter of the
//! apps, not all of them.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams};
use support::serve::*;
use support::{client, wait_until, Remote, TestNamespace};

const APPS: usize = 60;
const SHARDS: &str = "32";

/// One app per directory `apps/a<i>`, each with one ConfigMap holding `value`.
fn write_apps(remote: &Remote, value: &str) {
    for i in 0..APPS {
        remote.work.write(
            &format!("apps/a{i}/cm.yaml"),
            &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\ndata:\n  v: \"{value}\"\n"),
        );
    }
}

fn app_name(ns: &str, i: usize) -> String {
    format!("{ns}-a{i}")
}

fn config(ns: &str, url: &str) -> String {
    let mut config = String::from("apps:\n");
    for i in 0..APPS {
        config.push_str(&format!(
            "  - name: {app}\n    repo: {url}\n    branch: main\n    path: apps/a{i}\n    namespace: {ns}\n    interval: 1h\n",
            app = app_name(ns, i)
        ));
    }
    config
}

fn replica(config: &str, ferry_ns: &str, identity: &str) -> Server {
    spawn_server(
        config,
        &["--shards", SHARDS, "--ferry-namespace", ferry_ns],
        &[("POD_NAME", identity)],
    )
}

/// A sync record as the test reads it.
#[derive(Debug, Clone)]
struct Record {
    seq: u64,
    sha: String,
    synced_by: String,
    trigger: String,
    status: String,
    started: DateTime<Utc>,
    finished: Option<DateTime<Utc>>,
}

/// Every app's records, oldest first, read straight from the history ConfigMaps.
async fn records(client: &kube::Client, ferry_ns: &str) -> BTreeMap<String, Vec<Record>> {
    let cms = Api::<ConfigMap>::namespaced(client.clone(), ferry_ns)
        .list(&ListParams::default().labels("ferry.dev/history=true"))
        .await
        .unwrap();
    let mut by_app: BTreeMap<String, Vec<Record>> = BTreeMap::new();
    for cm in cms.items {
        let Some(json) = cm.data.as_ref().and_then(|d| d.get("record.json")) else {
            continue;
        };
        let r: serde_json::Value = serde_json::from_str(json).unwrap();
        let time = |v: &serde_json::Value| v.as_str().map(|s| s.parse::<DateTime<Utc>>().unwrap());
        by_app
            .entry(r["app"].as_str().unwrap().to_string())
            .or_default()
            .push(Record {
                seq: r["seq"].as_u64().unwrap(),
                sha: r["commit"]["sha"].as_str().unwrap().to_string(),
                synced_by: r["syncedBy"].as_str().unwrap_or_default().to_string(),
                trigger: r["trigger"].as_str().unwrap_or_default().to_string(),
                status: r["outcome"]["status"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                started: time(&r["startedAt"]).unwrap(),
                finished: time(&r["finishedAt"]),
            });
    }
    for list in by_app.values_mut() {
        list.sort_by_key(|r| r.seq);
    }
    by_app
}

/// The value of every app's ConfigMap, by index.
async fn values(client: &kube::Client, ns: &str) -> BTreeMap<usize, String> {
    let cms = Api::<ConfigMap>::namespaced(client.clone(), ns)
        .list(&ListParams::default())
        .await
        .unwrap();
    cms.items
        .iter()
        .filter_map(|cm| {
            let i = cm
                .metadata
                .name
                .as_deref()?
                .strip_prefix("cm-")?
                .parse()
                .ok()?;
            Some((i, cm.data.as_ref()?.get("v")?.clone()))
        })
        .collect()
}

/// Waits until every app's ConfigMap holds `value`.
async fn wait_all(client: &kube::Client, ns: &str, value: &str, within: Duration) {
    wait_until(
        within,
        &format!("every app's ConfigMap at {value}"),
        || async {
            let values = values(client, ns).await;
            (values.len() == APPS && values.values().all(|v| v == value)).then_some(())
        },
    )
    .await;
}

/// Owner of every app as `/api/apps` of the replica on `port` shows it (`None` while an app's
/// shard is free).
fn owners(port: u16) -> BTreeMap<String, Option<String>> {
    let (status, body) = http(port, "GET", "/api/apps", &[], b"").unwrap();
    assert_eq!(status, 200, "{body}");
    let apps: serde_json::Value = serde_json::from_str(&body).unwrap();
    apps["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_string(),
                a["owner"].as_str().map(str::to_string),
            )
        })
        .collect()
}

/// Waits until the replica on `port` sees every app owned, by exactly `replicas`, and the
/// same answer twice 3 s apart (no hand-over under way).
async fn settled_owners(port: u16, replicas: &BTreeSet<&str>) -> BTreeMap<String, String> {
    let mut last: Option<BTreeMap<String, String>> = None;
    wait_until(Duration::from_secs(90), "ownership to settle", || {
        let now: Option<BTreeMap<String, String>> = owners(port)
            .into_iter()
            .map(|(app, owner)| Some((app, owner?)))
            .collect();
        let settled = match (&now, &last) {
            (Some(now), Some(last)) if now == last => {
                let seen: BTreeSet<&str> = now.values().map(String::as_str).collect();
                (&seen == replicas).then(|| now.clone())
            }
            _ => None,
        };
        last = now;
        async move {
            if settled.is_none() {
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
            settled
        }
    })
    .await
}

/// No two syncs of one app overlap in time. A record of `killed` left unfinished (or closed
/// later by someone else) ended at the kill at the latest.
fn assert_never_concurrent(
    records: &BTreeMap<String, Vec<Record>>,
    killed: Option<(&str, DateTime<Utc>)>,
) {
    for (app, list) in records {
        let mut spans: Vec<(DateTime<Utc>, DateTime<Utc>, &Record)> = list
            .iter()
            .map(|r| {
                let end = match killed {
                    Some((who, at)) if r.synced_by == who => r.finished.map_or(at, |f| f.min(at)),
                    _ => r.finished.unwrap_or_else(Utc::now),
                };
                (r.started, end, r)
            })
            .collect();
        spans.sort_by_key(|s| s.0);
        for pair in spans.windows(2) {
            assert!(
                pair[0].1 <= pair[1].0,
                "{app}: sync #{} by {} ({} .. {}) overlaps sync #{} by {} (from {})",
                pair[0].2.seq,
                pair[0].2.synced_by,
                pair[0].0,
                pair[0].1,
                pair[1].2.seq,
                pair[1].2.synced_by,
                pair[1].0
            );
        }
    }
}

#[tokio::test]
async fn three_replicas_split_the_apps_hand_webhooks_to_the_owner_and_take_over_a_killed_one() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "sh-three").await;
    let ferry_ns = TestNamespace::new(&client, "sh-three-f").await;
    let remote = Remote::new();
    write_apps(&remote, "one");
    let first = remote.commit_and_push("60 apps");
    let config = config(&ns.name, &remote.url());
    let started = Instant::now();
    let r0 = replica(&config, &ferry_ns.name, "r0");
    let r1 = replica(&config, &ferry_ns.name, "r1");
    let mut r2 = Some(replica(&config, &ferry_ns.name, "r2"));
    wait_all(&client, &ns.name, "one", Duration::from_secs(120)).await;
    eprintln!(
        "3 replicas: all {APPS} apps synced {:?} after start",
        started.elapsed()
    );

    // Every app synced by exactly one replica, all three used, and the owner /api/apps
    // shows (on any replica) is the one that synced it.
    let all = BTreeSet::from(["r0", "r1", "r2"]);
    let owners_seen = settled_owners(r1.port, &all).await;
    assert_eq!(
        owners_seen,
        settled_owners(r0.port, &all).await,
        "replicas agree on owners"
    );
    let history = wait_until(
        Duration::from_secs(30),
        "a finished first sync of every app",
        || async {
            let history = records(&client, &ferry_ns.name).await;
            let done = history.len() == APPS
                && history
                    .values()
                    .all(|l| l.iter().any(|r| r.sha == first && r.status == "succeeded"));
            done.then_some(history)
        },
    )
    .await;
    let mut per_replica: BTreeMap<&str, usize> = BTreeMap::new();
    for (app, list) in &history {
        let by: BTreeSet<&str> = list.iter().map(|r| r.synced_by.as_str()).collect();
        assert_eq!(by.len(), 1, "{app} was synced by {by:?}");
        let by = *by.iter().next().unwrap();
        assert_eq!(Some(by), owners_seen.get(app).map(String::as_str), "{app}");
        *per_replica.entry(by).or_default() += 1;
    }
    eprintln!("apps per replica: {per_replica:?}");
    assert_eq!(per_replica.keys().copied().collect::<BTreeSet<_>>(), all);

    // A webhook for one app, sent to a replica that does not own it, syncs it on its owner.
    let target = app_name(&ns.name, 7);
    let owner = owners_seen[&target].clone();
    let (other_port, other) = [(r0.port, "r0"), (r1.port, "r1")]
        .into_iter()
        .find(|(_, who)| *who != owner)
        .unwrap();
    remote.work.write(
        "apps/a7/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-7\ndata:\n  v: \"hooked\"\n",
    );
    let hooked = remote.commit_and_push("app 7 only");
    let mut body: serde_json::Value =
        serde_json::from_slice(&github_push(&remote.url(), "refs/heads/main", &hooked)).unwrap();
    body["before"] = serde_json::json!(first);
    body["commits"][0]["modified"] = serde_json::json!(["apps/a7/cm.yaml"]);
    let body = body.to_string().into_bytes();
    let sent = Instant::now();
    let (status, reply) = send_github(other_port, &body, &format!("sha256={}", hmac_hex(&body)));
    assert_eq!(status, 202, "{reply}");
    let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(reply["triggered"], serde_json::json!([target]), "{reply}");
    assert_eq!(
        reply["handedOff"][0]["owner"],
        owner.as_str(),
        "{other} hands to {owner}: {reply}"
    );
    let record = wait_until(
        Duration::from_secs(30),
        "the owner to sync the hooked commit",
        || async {
            records(&client, &ferry_ns.name).await[&target]
                .iter()
                .find(|r| r.sha == hooked && r.status == "succeeded")
                .cloned()
        },
    )
    .await;
    eprintln!(
        "webhook to non-owner {other}: synced by {} {:?} after the push",
        record.synced_by,
        sent.elapsed()
    );
    assert_eq!(record.synced_by, owner);
    assert_eq!(record.trigger, "webhook");

    // SIGKILL one replica, then change every app: the survivors sync their own apps at once
    // (webhook, handed between them) and the dead one's once its shard Leases expire.
    let dead = "r2";
    let mut dead_server = r2.take().unwrap();
    let killed_at = Utc::now();
    let kill = Instant::now();
    dead_server.child.kill().unwrap();
    dead_server.child.wait().unwrap();
    let dead_apps: BTreeSet<String> = owners_seen
        .iter()
        .filter(|(_, o)| o.as_str() == dead)
        .map(|(a, _)| a.clone())
        .collect();
    write_apps(&remote, "two");
    let second = remote.commit_and_push("every app");
    let mut all_files = serde_json::from_slice::<serde_json::Value>(&github_push(
        &remote.url(),
        "refs/heads/main",
        &second,
    ))
    .unwrap();
    all_files["commits"][0]["modified"] = serde_json::json!((0..APPS)
        .map(|i| format!("apps/a{i}/cm.yaml"))
        .collect::<Vec<_>>());
    let body = all_files.to_string().into_bytes();
    let (status, reply) = send_github(r0.port, &body, &format!("sha256={}", hmac_hex(&body)));
    assert_eq!(status, 202, "{reply}");
    wait_all(&client, &ns.name, "two", Duration::from_secs(120)).await;
    eprintln!(
        "after SIGKILL of {dead} ({} apps): every app at the new commit {:?} later",
        dead_apps.len(),
        kill.elapsed()
    );
    let history = wait_until(
        Duration::from_secs(30),
        "finished syncs of the new commit",
        || async {
            let history = records(&client, &ferry_ns.name).await;
            history
                .values()
                .all(|l| l.iter().any(|r| r.sha == second && r.finished.is_some()))
                .then_some(history)
        },
    )
    .await;
    let alive = BTreeSet::from(["r0", "r1"]);
    for app in &dead_apps {
        let taken: Vec<&Record> = history[app]
            .iter()
            .filter(|r| r.synced_by != dead)
            .collect();
        assert!(!taken.is_empty(), "{app}: no survivor synced it");
        for r in taken {
            assert!(alive.contains(r.synced_by.as_str()), "{app}: {r:?}");
            assert!(
                r.started >= killed_at,
                "{app}: a survivor synced it before {dead} died: {r:?}"
            );
        }
    }
    assert_never_concurrent(&history, Some((dead, killed_at)));
    drop((r0, r1));
}

#[tokio::test]
async fn a_fourth_replica_takes_about_a_quarter_of_the_apps() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "sh-four").await;
    let ferry_ns = TestNamespace::new(&client, "sh-four-f").await;
    let remote = Remote::new();
    write_apps(&remote, "one");
    remote.commit_and_push("60 apps");
    let config = config(&ns.name, &remote.url());
    let three: Vec<Server> = ["r0", "r1", "r2"]
        .iter()
        .map(|who| replica(&config, &ferry_ns.name, who))
        .collect();
    wait_all(&client, &ns.name, "one", Duration::from_secs(120)).await;
    let before = settled_owners(three[0].port, &BTreeSet::from(["r0", "r1", "r2"])).await;

    let joined = Instant::now();
    let fourth = replica(&config, &ferry_ns.name, "r3");
    let after = settled_owners(three[0].port, &BTreeSet::from(["r0", "r1", "r2", "r3"])).await;
    let moved: Vec<&String> = before
        .keys()
        .filter(|app| before[*app] != after[*app])
        .collect();
    let to_new = moved.iter().filter(|app| after[**app] == "r3").count();
    eprintln!(
        "a 4th replica: {} of {APPS} apps moved ({to_new} to it), settled {:?} after it started",
        moved.len(),
        joined.elapsed()
    );
    assert!(
        (APPS / 10..=APPS / 2).contains(&moved.len()),
        "about a quarter of the apps should move, not {}",
        moved.len()
    );
    assert!(
        to_new * 4 >= moved.len() * 3,
        "most moves go to the new replica"
    );
    assert_eq!(
        owners(fourth.port).values().flatten().count(),
        APPS,
        "the newcomer sees every owner"
    );

    // The new replica syncs what it took (its first sync there: nothing changed, so no
    // record), turns ready, and nothing ran twice at once.
    let taken: Vec<&String> = after
        .iter()
        .filter(|(_, o)| o.as_str() == "r3")
        .map(|(a, _)| a)
        .collect();
    wait_until(
        Duration::from_secs(60),
        "the new replica to sync what it took",
        || async {
            let (_, body) = http(fourth.port, "GET", "/api/apps", &[], b"").unwrap();
            let apps: serde_json::Value = serde_json::from_str(&body).unwrap();
            let synced: BTreeSet<&str> = apps["apps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["attempted"] == true && a["syncedCommit"].is_string())
                .filter_map(|a| a["name"].as_str())
                .collect();
            let ready = matches!(http(fourth.port, "GET", "/readyz", &[], b""), Ok((200, _)));
            (ready && taken.iter().all(|a| synced.contains(a.as_str()))).then_some(())
        },
    )
    .await;
    let history = records(&client, &ferry_ns.name).await;
    assert_never_concurrent(&history, None);

    // /metrics: every replica sees 4, and the 32 shards are held exactly once between them.
    let mut held = 0;
    for port in three.iter().map(|s| s.port).chain([fourth.port]) {
        let (_, metrics) = http(port, "GET", "/metrics", &[], b"").unwrap();
        let gauge = |name: &str| {
            metrics
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name} "))?.parse::<u64>().ok())
                .unwrap_or_else(|| panic!("no {name} in {metrics}"))
        };
        assert_eq!(gauge("ferry_shard_replicas"), 4);
        held += gauge("ferry_shards_held");
    }
    assert_eq!(
        held.to_string(),
        SHARDS,
        "every shard held by exactly one replica"
    );
}
