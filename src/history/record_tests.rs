use super::*;
use chrono::TimeZone;

pub(crate) fn sample() -> SyncRecord {
    let commit = CommitInfo {
        sha: "0123456789abcdef0123456789abcdef01234567".into(),
        author: "Ada".into(),
        email: "ada@example.com".into(),
        time: Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap(),
        subject: "Bump fluentd".into(),
        body: String::new(),
        reverts: Some("fedcba9876543210fedcba9876543210fedcba98".into()),
    };
    let mut record = SyncRecord::new("logs", 3, &commit, "poll");
    let mut ds = ObjectRecord::new(
        "DaemonSet",
        Some("logging".into()),
        "fluentd",
        "update",
        RESULT_APPLIED,
    );
    ds.revision = Some(3);
    ds.gate_passed("healthy in 4.2s");
    record.objects.push(ds);
    let mut job = ObjectRecord::new(
        "Job",
        Some("logging".into()),
        "migrate",
        "create",
        RESULT_APPLIED,
    );
    job.spec_hash = Some("00112233aabbccdd".into());
    job.gate_failed("BackoffLimitExceeded");
    record.objects.push(job);
    record.reverts_seq = Some(2);
    record.complete(SyncOutcome::GateFailed {
        object: "Job logging/migrate".into(),
        reason: "BackoffLimitExceeded".into(),
    });
    record
}

#[test]
fn round_trips_through_camel_case_json() {
    let record = sample();
    let json = serde_json::to_value(&record).unwrap();
    assert_eq!(json["commit"]["shortSha"], "0123456");
    assert_eq!(json["revertsSeq"], 2);
    assert_eq!(json["outcome"]["status"], "gateFailed");
    assert_eq!(json["outcome"]["object"], "Job logging/migrate");
    assert_eq!(json["objects"][1]["specHash"], "00112233aabbccdd");
    assert_eq!(json["objects"][0]["result"], "healthy");
    assert!(json["startedAt"].is_string());
    let back: SyncRecord = serde_json::from_value(json).unwrap();
    assert_eq!(back, record);
}

#[test]
fn every_outcome_round_trips() {
    for outcome in [
        SyncOutcome::Succeeded,
        SyncOutcome::Failed { reason: "x".into() },
        SyncOutcome::Superseded {
            by: "89abcdef".into(),
        },
        SyncOutcome::Invalid { reason: "y".into() },
        SyncOutcome::Interrupted {
            reason: "lost the leader lease".into(),
        },
        SyncOutcome::InProgress,
    ] {
        let text = serde_json::to_string(&outcome).unwrap();
        assert_eq!(serde_json::from_str::<SyncOutcome>(&text).unwrap(), outcome);
    }
    assert_eq!(
        serde_json::to_string(&SyncOutcome::InProgress).unwrap(),
        r#"{"status":"inProgress"}"#
    );
    // Records written before the newer commit was stored still read.
    assert_eq!(
        serde_json::from_str::<SyncOutcome>(r#"{"status":"superseded"}"#).unwrap(),
        SyncOutcome::Superseded { by: String::new() }
    );
}

#[test]
fn records_without_a_heartbeat_still_read_and_age_from_their_start() {
    let mut json = serde_json::to_value(sample()).unwrap();
    json["outcome"] = serde_json::json!({"status": "inProgress"});
    assert!(json.get("heartbeatAt").is_none(), "{json}");
    let record: SyncRecord = serde_json::from_value(json).unwrap();
    assert_eq!(record.heartbeat_at, None);
    assert_eq!(record.last_sign_of_life(), record.started_at);
    let stale = chrono::Duration::seconds(35);
    let start = record.started_at;
    assert!(!record.is_stale(start + chrono::Duration::seconds(30), stale));
    assert!(record.is_stale(start + chrono::Duration::seconds(36), stale));
    let mut beating = record.clone();
    beating.heartbeat_at = Some(start + chrono::Duration::seconds(30));
    assert!(!beating.is_stale(start + chrono::Duration::seconds(60), stale));
    assert!(beating.is_stale(start + chrono::Duration::seconds(66), stale));
    let mut done = beating;
    done.complete(SyncOutcome::Succeeded);
    assert!(!done.is_stale(start + chrono::Duration::days(1), stale));
    assert_eq!(
        SyncOutcome::Interrupted {
            reason: "lost the leader lease".into()
        }
        .describe(),
        "interrupted: lost the leader lease"
    );
}

#[test]
fn gates_and_revisions() {
    let mut record = sample();
    assert_eq!(record.revisions(), vec!["ds/fluentd=3"]);
    assert_eq!(record.objects[0].result, RESULT_HEALTHY);
    assert_eq!(
        record.objects[1].gate.as_deref(),
        Some("failed: BackoffLimitExceeded")
    );
    let job = record
        .object_mut("Job", Some("logging"), "migrate")
        .unwrap();
    job.gate_passed("complete in 1s");
    assert_eq!(job.result, RESULT_COMPLETED);
    assert!(record.object_mut("Job", None, "migrate").is_none());
    assert!(record.duration().is_some());
}

/// Writes `record_fixture_v1.json` with the code of the day (run with `--ignored`): records
/// of every trigger and outcome whose objects went through the real plan → apply → gate
/// paths, so the fixture holds exactly what ferry stored.
#[test]
#[ignore]
fn write_fixture_v1() {
    use crate::apply::{ApplyReport, ObjectResult, Outcome};
    use crate::history::CompletedJobs;
    use crate::manifest::ObjectKey;
    use crate::plan::{Action, Change, Plan};
    use crate::rollout::GateResult;
    use std::time::Duration;

    let at = |minute: u32, second: u32| {
        Utc.with_ymd_and_hms(2025, 6, 1, 12, minute, second)
            .unwrap()
    };
    let commit = |n: u8, subject: &str, reverts: Option<&str>| CommitInfo {
        sha: format!("{n:x}").repeat(40),
        author: "Ada Lovelace".into(),
        email: "ada@example.com".into(),
        time: at(0, n.into()),
        subject: subject.into(),
        body: String::new(),
        reverts: reverts.map(String::from),
    };
    let key = |group: &str, kind: &str, ns: Option<&str>, name: &str| ObjectKey {
        group: group.into(),
        version: "v1".into(),
        kind: kind.into(),
        namespace: ns.map(String::from),
        name: name.into(),
    };
    let change = |key: ObjectKey, action: Action, desired: Option<serde_json::Value>| Change {
        key,
        origin: None,
        wave: 0,
        action,
        fields: Vec::new(),
        before: None,
        after: None,
        desired,
        kind: None,
        note: None,
        uid: None,
    };
    let result = |key: ObjectKey, outcome: Outcome| ObjectResult {
        key,
        origin: None,
        wave: 0,
        outcome,
        live: None,
    };
    // reconcile::sync's gate recording, as of this commit.
    let gate = |record: &mut SyncRecord,
                kind: &str,
                ns: &str,
                name: &str,
                revision: Option<i64>,
                g: GateResult| {
        let object = record.object_mut(kind, Some(ns), name).unwrap();
        object.revision = revision;
        match &g {
            GateResult::Healthy { .. } => object.gate_passed(g.text()),
            GateResult::Skipped { reason } => object.gate = Some(format!("skipped: {reason}")),
            GateResult::Superseded { .. } | GateResult::Interrupted { .. } => {
                object.gate = Some(g.text())
            }
            _ => object.gate_failed(g.text().trim_start_matches("failed: ")),
        }
    };
    let job_manifest = serde_json::json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "migrate", "namespace": "web"},
        "spec": {"template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "m", "image": "migrate:1"}]}}}});
    let plan_of = |c: &CommitInfo, changes: Vec<Change>| Plan {
        app: "web".into(),
        commit: c.clone(),
        changes,
        stats: Default::default(),
        recorded: Default::default(),
        refusal: None,
    };
    let mut records = Vec::new();

    // 1. poll, succeeded: every apply result and passed / skipped gates.
    let c = commit(1, "Roll out web v2", None);
    let ds = key("apps", "DaemonSet", Some("web"), "agent");
    let sts = key("apps", "StatefulSet", Some("web"), "db");
    let job = key("batch", "Job", Some("web"), "migrate");
    let seed = key("batch", "Job", Some("web"), "seed");
    let cm = key("", "ConfigMap", Some("web"), "settings");
    let old = key("", "Secret", Some("web"), "old-token");
    let kept = key("", "ConfigMap", Some("web"), "legacy");
    let ns = key("", "Namespace", None, "web");
    let plan = plan_of(
        &c,
        vec![
            change(ns.clone(), Action::Unchanged, None),
            change(cm.clone(), Action::Update, None),
            change(ds.clone(), Action::Update, None),
            change(
                sts.clone(),
                Action::Recreate {
                    reason: "volumeClaimTemplates changed".into(),
                },
                None,
            ),
            change(job.clone(), Action::Create, Some(job_manifest.clone())),
            change(
                seed.clone(),
                Action::Unchanged,
                Some(serde_json::json!({"kind": "Job", "spec": {"x": 1}})),
            ),
            change(old.clone(), Action::Prune, None),
            change(
                kept.clone(),
                Action::Orphan {
                    reason: "ferry.dev/prune: false".into(),
                },
                None,
            ),
        ],
    );
    let mut r = SyncRecord::new("web", 1, &c, "poll");
    r.started_at = at(1, 0);
    r.heartbeat_at = Some(at(1, 30));
    r.record_plan(&plan);
    r.record_apply(&ApplyReport {
        results: vec![
            result(cm.clone(), Outcome::Updated),
            result(ds.clone(), Outcome::Updated),
            result(sts.clone(), Outcome::Recreated),
            result(job.clone(), Outcome::Created),
            result(old.clone(), Outcome::Pruned),
            result(kept.clone(), Outcome::Kept("ferry.dev/prune: false".into())),
        ],
        waves_applied: vec![0],
        interrupted: false,
    });
    gate(
        &mut r,
        "DaemonSet",
        "web",
        "agent",
        Some(4),
        GateResult::Healthy {
            message: "3/3 nodes updated and available".into(),
            elapsed: Duration::from_millis(4200),
        },
    );
    gate(
        &mut r,
        "StatefulSet",
        "web",
        "db",
        Some(2),
        GateResult::Skipped {
            reason: "updateStrategy OnDelete with policy skip".into(),
        },
    );
    gate(
        &mut r,
        "Job",
        "web",
        "migrate",
        None,
        GateResult::Healthy {
            message: "complete: 1/1 succeeded".into(),
            elapsed: Duration::from_secs(7),
        },
    );
    let mut earlier = r.clone();
    earlier.objects = vec![r.objects[5].clone()];
    earlier.objects[0].gate_passed("healthy: complete: 1/1 succeeded");
    CompletedJobs::from_records(&[earlier]).carry_forward(&mut r);
    r.complete(SyncOutcome::Succeeded);
    r.finished_at = Some(at(1, 42));
    records.push(r);

    // 2. webhook, gate failed: failed and timed-out gates, later waves skipped.
    let c = commit(2, "Bump agent image", None);
    let later = key("apps", "DaemonSet", Some("web"), "exporter");
    let plan = plan_of(
        &c,
        vec![
            change(ds.clone(), Action::Update, None),
            change(sts.clone(), Action::Update, None),
            change(
                job.clone(),
                Action::Recreate {
                    reason: "spec.template is immutable".into(),
                },
                Some(job_manifest.clone()),
            ),
            change(later.clone(), Action::Update, None),
            change(old.clone(), Action::Prune, None),
        ],
    );
    let mut r = SyncRecord::new("web", 2, &c, "webhook");
    r.started_at = at(2, 0);
    r.record_plan(&plan);
    r.record_apply(&ApplyReport {
        results: vec![
            result(ds.clone(), Outcome::Updated),
            result(sts.clone(), Outcome::Updated),
            result(job.clone(), Outcome::Recreated),
            result(
                later.clone(),
                Outcome::Skipped("an earlier wave's gate failed".into()),
            ),
        ],
        waves_applied: vec![0],
        interrupted: false,
    });
    gate(&mut r, "DaemonSet", "web", "agent", Some(5), GateResult::Failed {
        reason: "ImagePullBackOff".into(),
        message: "ImagePullBackOff on pod agent-x7k2p (node kwok-node-0): Back-off pulling image \"agent:2\"".into(),
        pod: Some("agent-x7k2p".into()),
        node: Some("kwok-node-0".into()),
        elapsed: Duration::from_secs(31),
    });
    gate(
        &mut r,
        "StatefulSet",
        "web",
        "db",
        Some(3),
        GateResult::TimedOut {
            message: "1/3 replicas updated".into(),
            elapsed: Duration::from_secs(300),
        },
    );
    gate(
        &mut r,
        "Job",
        "web",
        "migrate",
        None,
        GateResult::Failed {
            reason: "BackoffLimitExceeded".into(),
            message: "Job has reached the specified backoff limit".into(),
            pod: None,
            node: None,
            elapsed: Duration::from_secs(12),
        },
    );
    r.complete(SyncOutcome::GateFailed {
        object: "DaemonSet web/agent".into(),
        reason: "failed: ImagePullBackOff on pod agent-x7k2p (node kwok-node-0): Back-off pulling image \"agent:2\"".into(),
    });
    r.finished_at = Some(at(2, 31));
    records.push(r);

    // 3. watch, failed: an apply failure and an object the plan did not list.
    let c = commit(3, "Add a service", None);
    let svc = key("", "Service", Some("web"), "front");
    let extra = key("", "ServiceAccount", Some("web"), "runner");
    let plan = plan_of(&c, vec![change(svc.clone(), Action::Create, None)]);
    let mut r = SyncRecord::new("web", 3, &c, "watch");
    r.started_at = at(3, 0);
    r.record_plan(&plan);
    r.record_apply(&ApplyReport {
        results: vec![
            result(
                svc.clone(),
                Outcome::Failed("Service \"front\" is invalid: spec.ports: Required value".into()),
            ),
            result(extra.clone(), Outcome::Failed("connection refused".into())),
        ],
        waves_applied: vec![],
        interrupted: false,
    });
    r.complete(SyncOutcome::Failed {
        reason: "Service web/front: Service \"front\" is invalid: spec.ports: Required value"
            .into(),
    });
    r.finished_at = Some(at(3, 2));
    records.push(r);

    // 4. drift, superseded: a gate stopped by a newer commit.
    let c = commit(4, "Tune agent", None);
    let plan = plan_of(&c, vec![change(ds.clone(), Action::Update, None)]);
    let mut r = SyncRecord::new("web", 4, &c, "drift");
    r.started_at = at(4, 0);
    r.record_plan(&plan);
    r.record_apply(&ApplyReport {
        results: vec![result(ds.clone(), Outcome::Updated)],
        waves_applied: vec![0],
        interrupted: false,
    });
    let newer = "5".repeat(40);
    gate(
        &mut r,
        "DaemonSet",
        "web",
        "agent",
        Some(6),
        GateResult::Superseded {
            by: newer.clone(),
            message: "1/3 nodes updated".into(),
            elapsed: Duration::from_secs(9),
        },
    );
    r.complete(SyncOutcome::Superseded { by: newer });
    r.finished_at = Some(at(4, 9));
    records.push(r);

    // 5. self-heal, interrupted: a gate stopped by a lost lease.
    let c = commit(5, "Tune agent again", None);
    let plan = plan_of(&c, vec![change(ds.clone(), Action::Update, None)]);
    let mut r = SyncRecord::new("web", 5, &c, "self-heal");
    r.started_at = at(5, 0);
    r.heartbeat_at = Some(at(5, 10));
    r.record_plan(&plan);
    r.record_apply(&ApplyReport {
        results: vec![result(ds.clone(), Outcome::Updated)],
        waves_applied: vec![0],
        interrupted: false,
    });
    gate(
        &mut r,
        "DaemonSet",
        "web",
        "agent",
        Some(7),
        GateResult::Interrupted {
            reason: "lost the leader lease (the lease is now held by ferry-b)".into(),
            message: "2/3 nodes updated".into(),
            elapsed: Duration::from_secs(11),
        },
    );
    r.complete(SyncOutcome::Interrupted {
        reason: "lost the leader lease (the lease is now held by ferry-b)".into(),
    });
    r.finished_at = Some(at(5, 11));
    records.push(r);

    // 6. rollback, invalid: the dry-run rejected an object.
    let c = commit(6, "Revert \"Tune agent again\"", Some(&"5".repeat(40)));
    let plan = plan_of(
        &c,
        vec![
            change(
                ds.clone(),
                Action::Invalid {
                    message: "spec.template.spec.containers[0].image: Required value".into(),
                },
                None,
            ),
            change(cm.clone(), Action::Update, None),
        ],
    );
    let mut r = SyncRecord::new("web", 6, &c, "rollback");
    r.started_at = at(6, 0);
    r.reverts_seq = Some(5);
    r.record_plan(&plan);
    r.complete(SyncOutcome::Invalid {
        reason: "nothing applied: the API server rejected 1 object(s):\nDaemonSet web/agent: spec.template.spec.containers[0].image: Required value".into(),
    });
    r.finished_at = Some(at(6, 1));
    records.push(r);

    // 7. revert-policy, in progress: written when the sync began.
    let c = commit(7, "Revert \"Bump agent image\"", Some(&"2".repeat(40)));
    let plan = plan_of(
        &c,
        vec![
            change(ds.clone(), Action::Update, None),
            change(old.clone(), Action::Prune, None),
        ],
    );
    let mut r = SyncRecord::new("web", 7, &c, "revert-policy");
    r.started_at = at(7, 0);
    r.reverts_seq = Some(2);
    r.heartbeat_at = Some(at(7, 20));
    r.record_plan(&plan);
    records.push(r);

    // 8. revert-fallback, succeeded; 9. manual, succeeded with no objects.
    let c = commit(8, "Bump agent image", None);
    let plan = plan_of(&c, vec![change(ds.clone(), Action::Update, None)]);
    let mut r = SyncRecord::new("web", 8, &c, "revert-fallback");
    r.started_at = at(8, 0);
    r.record_plan(&plan);
    r.record_apply(&ApplyReport {
        results: vec![result(ds.clone(), Outcome::Updated)],
        waves_applied: vec![0],
        interrupted: false,
    });
    r.complete(SyncOutcome::Succeeded);
    r.finished_at = Some(at(8, 5));
    records.push(r);
    let c = commit(9, "Touch nothing", None);
    let mut r = SyncRecord::new("web", 9, &c, "manual");
    r.started_at = at(9, 0);
    r.complete(SyncOutcome::Succeeded);
    r.finished_at = Some(at(9, 1));
    records.push(r);

    let json = serde_json::to_string_pretty(&records).unwrap() + "\n";
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/history/record_fixture_v1.json"
    );
    std::fs::write(path, json).unwrap();
}
