//! End-to-end: sync records stored as ConfigMaps on the local control plane, through the
//! library (`ferry::history::History`). Each test uses its own ferry namespace (created by
//! History itself) and its own app name, and deletes the namespace at the end.

mod support;

use chrono::Utc;
use ferry::cluster::Cluster;
use ferry::history::{
    job_spec_hash, record_name, History, HistoryError, ObjectRecord, RecordedAction,
    RecordedResult, SyncOutcome,
};
use ferry::source::CommitInfo;
use ferry::trigger::SyncTrigger;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ListParams};
use serde_json::json;

/// A ferry namespace of the test's own; deleted when dropped.
struct FerryNamespace(String);

impl FerryNamespace {
    fn new() -> FerryNamespace {
        FerryNamespace(format!("ferry-hist-{}", support::random_suffix()))
    }
}

impl Drop for FerryNamespace {
    fn drop(&mut self) {
        if std::env::var_os("FERRY_TEST_KEEP").is_none() {
            let _ = support::kubectl(&["delete", "namespace", &self.0, "--wait=false"]);
        }
    }
}

async fn cluster() -> Cluster {
    Cluster::from_client(support::client().await, "local".into())
}

fn app() -> String {
    format!("app-{}", support::random_suffix())
}

/// A commit with a random sha.
fn commit(subject: &str, reverts: Option<&str>) -> CommitInfo {
    use sha2::Digest;
    let seed = format!(
        "{subject}-{}-{}",
        support::random_suffix(),
        support::random_suffix()
    );
    let sha = hex::encode(sha2::Sha256::digest(seed.as_bytes()))[..40].to_string();
    CommitInfo {
        sha,
        author: "Ada".into(),
        email: "ada@example.com".into(),
        time: Utc::now(),
        subject: subject.into(),
        body: String::new(),
        reverts: reverts.map(String::from),
    }
}

async fn record_names(client: &kube::Client, namespace: &str, app: &str) -> Vec<String> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let list = api
        .list(&ListParams::default().labels(&format!("ferry.dev/history=true,ferry.dev/app={app}")))
        .await
        .expect("listing records");
    let mut names: Vec<String> = list
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn records_are_numbered_and_bounded_per_app() {
    let ns = FerryNamespace::new();
    let cluster = cluster().await;
    let history = History::new(cluster.clone(), &ns.0).with_keep(5);
    let (app, other) = (app(), app());

    for i in 1..=8u64 {
        let mut record = history
            .begin(
                &app,
                &commit(&format!("change {i}"), None),
                SyncTrigger::Poll,
            )
            .await
            .expect("begin");
        assert_eq!(record.seq, i);
        record.complete(SyncOutcome::Succeeded);
        history.finish(&record).await.expect("finish");
    }
    // Another app in the same namespace counts from 1 and is not pruned by the first.
    let first_other = history
        .begin(&other, &commit("other", None), SyncTrigger::Manual)
        .await
        .expect("begin other");
    assert_eq!(first_other.seq, 1);

    // History created ferry's namespace itself.
    let namespaces: Api<Namespace> = Api::all(cluster.client().clone());
    assert!(namespaces.get_opt(&ns.0).await.unwrap().is_some());

    let listed = history.list(&app, None).await.expect("list");
    let seqs: Vec<u64> = listed.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, vec![8, 7, 6, 5, 4], "newest first, oldest gone");
    assert_eq!(listed[0].commit.subject, "change 8");
    let limited = history.list(&app, Some(2)).await.expect("list limited");
    assert_eq!(limited.len(), 2);

    let names = record_names(cluster.client(), &ns.0, &app).await;
    let expected: Vec<String> = (4..=8).map(|s| record_name(&app, s)).collect();
    assert_eq!(names, expected);
    assert_eq!(record_names(cluster.client(), &ns.0, &other).await.len(), 1);
    assert!(history.get(&app, "1").await.expect("get 1").is_none());

    // Labels: ferry's own bookkeeping value, never the inventory value "ferry".
    let api: Api<ConfigMap> = Api::namespaced(cluster.client().clone(), &ns.0);
    let cm = api.get(&record_name(&app, 8)).await.expect("record 8");
    let labels = cm.metadata.labels.unwrap_or_default();
    assert_eq!(labels["app.kubernetes.io/managed-by"], "ferry-system");
    assert_eq!(labels["ferry.dev/app"], app);
    assert_eq!(labels["ferry.dev/history"], "true");
    assert_eq!(labels["ferry.dev/seq"], "8");
    assert!(cm.data.unwrap_or_default().contains_key("record.json"));

    let all = history.list_all(None).await.expect("list all");
    assert_eq!(all.len(), 6);
    assert_eq!(all[0].app, other);
}

#[tokio::test]
async fn begin_then_finish_updates_in_place_and_survives_restart() {
    let ns = FerryNamespace::new();
    let history = History::new(cluster().await, &ns.0);
    let app = app();
    let c = commit("bump fluentd", None);

    let mut record = history
        .begin(&app, &c, SyncTrigger::Webhook)
        .await
        .expect("begin");
    let started = history
        .get(&app, "1")
        .await
        .expect("get")
        .expect("record 1");
    assert_eq!(started.outcome, SyncOutcome::InProgress);
    assert!(started.finished_at.is_none());
    assert_eq!(started.commit.sha, c.sha);
    assert_eq!(started.trigger, SyncTrigger::Webhook);

    let mut ds = ObjectRecord::new(
        "DaemonSet",
        Some("logging".into()),
        "fluentd",
        RecordedAction::Update,
        RecordedResult::Applied,
    );
    ds.revision = Some(3);
    ds.gate_passed("healthy in 4.2s");
    record.objects.push(ds);
    record.complete(SyncOutcome::Succeeded);
    history.finish(&record).await.expect("finish");

    // A new handle on a new connection: what a restarted ferry sees.
    let restarted = History::new(cluster().await, &ns.0);
    let listed = restarted.list(&app, None).await.expect("list");
    assert_eq!(listed.len(), 1, "finish overwrote the record begin wrote");
    assert_eq!(listed[0], record);
    assert_eq!(listed[0].revisions(), vec!["ds/fluentd=3"]);
    let last = restarted.last_successful(&app).await.expect("last");
    assert_eq!(last.map(|r| r.seq), Some(1));

    // The next sync continues the numbering after the restart.
    let next = restarted
        .begin(&app, &commit("next", None), SyncTrigger::Poll)
        .await
        .expect("begin 2");
    assert_eq!(next.seq, 2);
    assert_eq!(
        restarted
            .last_successful(&app)
            .await
            .expect("last")
            .map(|r| r.seq),
        Some(1),
        "an in-progress sync is not a success"
    );
}

#[tokio::test]
async fn finds_syncs_by_sha_prefix_and_links_reverts() {
    let ns = FerryNamespace::new();
    let history = History::new(cluster().await, &ns.0);
    let app = app();
    let good = commit("good", None);
    let bad = commit("bad", None);

    for (c, outcome) in [
        (&good, SyncOutcome::Succeeded),
        (
            &bad,
            SyncOutcome::GateFailed {
                object: "DaemonSet logging/fluentd".into(),
                reason: "ImagePullBackOff".into(),
            },
        ),
    ] {
        let mut record = history
            .begin(&app, c, SyncTrigger::Poll)
            .await
            .expect("begin");
        record.complete(outcome);
        history.finish(&record).await.expect("finish");
    }
    // The revert names the bad commit by its abbreviated sha, as some messages do.
    let revert = commit("Revert \"bad\"", Some(&bad.sha[..12]));
    let reverting = history
        .begin(&app, &revert, SyncTrigger::RevertPolicy)
        .await
        .expect("begin revert");
    assert_eq!(reverting.seq, 3);
    assert_eq!(reverting.reverts_seq, Some(2));
    let stored = history
        .get(&app, "3")
        .await
        .expect("get")
        .expect("record 3");
    assert_eq!(stored.reverts_seq, Some(2));
    assert_eq!(stored.commit.reverts.as_deref(), Some(&bad.sha[..12]));

    // A revert of a commit history never saw has no link.
    let orphan = commit("Revert \"ancient\"", Some("abcdef0123456789"));
    let unlinked = history
        .begin(&app, &orphan, SyncTrigger::Rollback)
        .await
        .expect("begin");
    assert_eq!(unlinked.reverts_seq, None);

    let found = history
        .find_by_commit(&app, &bad.sha[..8])
        .await
        .expect("find")
        .expect("bad");
    assert_eq!(found.seq, 2);
    let by_short = history
        .get(&app, &good.sha[..7])
        .await
        .expect("get")
        .expect("good");
    assert_eq!(by_short.seq, 1);
    let upper = good.sha[..10].to_ascii_uppercase();
    assert_eq!(
        history.get(&app, &upper).await.expect("get").map(|r| r.seq),
        Some(1)
    );
    let absent = ["0000000000", "ffffffffff"]
        .into_iter()
        .find(|p| !good.sha.starts_with(p) && !bad.sha.starts_with(p))
        .expect("a prefix neither sha has");
    assert!(history
        .find_by_commit(&app, absent)
        .await
        .expect("find")
        .is_none());
    assert!(history.get(&app, "not-a-sha").await.is_err());

    // Two commits sharing a prefix: the prefix is ambiguous, a longer one is not.
    let mut twin_a = commit("twin a", None);
    let mut twin_b = commit("twin b", None);
    twin_a.sha.replace_range(..6, "abcdef");
    twin_b.sha.replace_range(..6, "abcdef");
    for c in [&twin_a, &twin_b] {
        let record = history
            .begin(&app, c, SyncTrigger::Poll)
            .await
            .expect("begin twin");
        history.finish(&record).await.expect("finish twin");
    }
    let ambiguous = history.find_by_commit(&app, "abcdef").await;
    assert!(
        matches!(ambiguous, Err(HistoryError::AmbiguousCommit { ref shas, .. }) if shas.len() == 2),
        "{ambiguous:?}"
    );
    let exact = history
        .find_by_commit(&app, &twin_b.sha)
        .await
        .expect("find")
        .expect("twin b");
    assert_eq!(exact.commit.subject, "twin b");
    assert_eq!(
        history
            .last_successful(&app)
            .await
            .expect("last")
            .map(|r| r.seq),
        Some(1)
    );
}

#[tokio::test]
async fn completed_jobs_are_remembered_by_spec_hash() {
    let ns = FerryNamespace::new();
    let history = History::new(cluster().await, &ns.0);
    let app = app();
    let job = json!({
        "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"},
        "spec": {"template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "m", "image": "busybox"}]}}}
    });
    let mut changed = job.clone();
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = json!("busybox:2");
    let (hash, other_hash) = (job_spec_hash(&job), job_spec_hash(&changed));
    assert_ne!(hash, other_hash);

    // Sync 1: the Job with the changed spec fails its gate; nothing remembered yet.
    let mut record = history
        .begin(&app, &commit("job v2", None), SyncTrigger::Poll)
        .await
        .expect("begin");
    let mut failed = ObjectRecord::new(
        "Job",
        Some("db".into()),
        "migrate",
        RecordedAction::Create,
        RecordedResult::Applied,
    );
    failed.spec_hash = Some(other_hash.clone());
    failed.gate_failed("BackoffLimitExceeded");
    record.objects.push(failed);
    record.complete(SyncOutcome::Failed {
        reason: "gate".into(),
    });
    history.finish(&record).await.expect("finish");
    assert!(!history
        .completed_job(&app, "db", "migrate", &other_hash)
        .await
        .expect("lookup"));

    // Sync 2: the Job completes.
    let mut record = history
        .begin(&app, &commit("job v1", None), SyncTrigger::Poll)
        .await
        .expect("begin");
    let mut done = ObjectRecord::new(
        "Job",
        Some("db".into()),
        "migrate",
        RecordedAction::Create,
        RecordedResult::Applied,
    );
    done.spec_hash = Some(hash.clone());
    done.gate_passed("complete in 2.0s");
    record.objects.push(done);
    record.complete(SyncOutcome::Succeeded);
    history.finish(&record).await.expect("finish");

    assert!(history
        .completed_job(&app, "db", "migrate", &hash)
        .await
        .expect("lookup"));
    assert!(!history
        .completed_job(&app, "db", "migrate", &other_hash)
        .await
        .expect("lookup"));
    assert!(!history
        .completed_job(&app, "other", "migrate", &hash)
        .await
        .expect("lookup"));
    assert!(!history
        .completed_job(&app, "db", "seed", &hash)
        .await
        .expect("lookup"));
    let jobs = history.completed_jobs(&app).await.expect("load");
    assert_eq!(jobs.len(), 1);
    assert!(jobs.contains("db", "migrate", &hash));
}

#[tokio::test]
async fn begin_carrying_closes_stale_records_and_returns_completed_jobs_from_one_list() {
    let ns = FerryNamespace::new();
    let history = History::new(cluster().await, &ns.0);
    let app = app();

    // Sync 1: a Job completed.
    let mut record = history
        .begin(&app, &commit("job", None), SyncTrigger::Poll)
        .await
        .expect("begin");
    let mut done = ObjectRecord::new(
        "Job",
        Some("db".into()),
        "migrate",
        RecordedAction::Create,
        RecordedResult::Applied,
    );
    done.spec_hash = Some("h1".into());
    done.gate_passed("complete in 2.0s");
    record.objects.push(done);
    record.complete(SyncOutcome::Succeeded);
    history.finish(&record).await.expect("finish");

    // Sync 2: its ferry died mid-sync an hour ago (no heartbeat since).
    let mut dead = history
        .begin(&app, &commit("killed", None), SyncTrigger::Poll)
        .await
        .expect("begin");
    dead.started_at = Utc::now() - chrono::Duration::hours(1);
    history.finish(&dead).await.expect("write in progress");

    // Sync 3 closes sync 2 and carries sync 1's Job, without further reads of its own.
    let (third, jobs) = history
        .begin_carrying(&app, &commit("next", None), SyncTrigger::Poll)
        .await
        .expect("begin");
    assert_eq!(third.seq, 3);
    assert!(jobs.contains("db", "migrate", "h1"));
    assert_eq!(jobs.len(), 1);
    let closed = history
        .get(&app, &dead.seq.to_string())
        .await
        .expect("get")
        .expect("record 2");
    assert!(
        matches!(closed.outcome, SyncOutcome::Interrupted { .. }),
        "{:?}",
        closed.outcome
    );
}
