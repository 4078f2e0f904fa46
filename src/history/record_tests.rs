use super::*;
use crate::history::{GateVerdict, RecordedAction, RecordedResult};
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
    let mut record = SyncRecord::new("logs", 3, &commit, SyncTrigger::Poll);
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
    let mut job = ObjectRecord::new(
        "Job",
        Some("logging".into()),
        "migrate",
        RecordedAction::Create,
        RecordedResult::Applied,
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
    assert_eq!(record.objects[0].result, RecordedResult::Healthy);
    assert_eq!(
        record.objects[1].gate,
        Some(GateVerdict::Failed("BackoffLimitExceeded".into()))
    );
    assert_eq!(record.objects[1].result, RecordedResult::GateFailed);
    let job = record
        .object_mut("Job", Some("logging"), "migrate")
        .unwrap();
    job.gate_passed("complete in 1s");
    assert_eq!(job.result, RecordedResult::Completed);
    assert!(record.object_mut("Job", None, "migrate").is_none());
    assert!(record.duration().is_some());
}

/// Records in the format stored before the record's fields were typed (written by the code
/// of commit 19c3e62 through the real plan → apply → gate paths): every trigger, outcome,
/// action, result and gate verdict.
const FIXTURE_V1: &str = include_str!("record_fixture_v1.json");

#[test]
fn records_stored_in_the_v1_format_read_and_write_back_byte_for_byte() {
    use GateVerdict as G;
    use RecordedAction as A;
    use RecordedResult as R;
    let records: Vec<SyncRecord> = serde_json::from_str(FIXTURE_V1).expect("v1 records read");
    let again = serde_json::to_string_pretty(&records).unwrap() + "\n";
    assert_eq!(again, FIXTURE_V1);

    let triggers: Vec<SyncTrigger> = records.iter().map(|r| r.trigger.clone()).collect();
    assert_eq!(
        triggers,
        [
            SyncTrigger::Poll,
            SyncTrigger::Webhook,
            SyncTrigger::Watch,
            SyncTrigger::Drift,
            SyncTrigger::SelfHeal,
            SyncTrigger::Rollback,
            SyncTrigger::RevertPolicy,
            SyncTrigger::RevertFallback,
            SyncTrigger::Manual,
        ]
    );
    let outcomes: Vec<&str> = records.iter().map(|r| r.outcome.label()).collect();
    assert_eq!(
        outcomes,
        [
            "succeeded",
            "gate-failed",
            "failed",
            "superseded",
            "interrupted",
            "invalid",
            "in-progress",
            "succeeded",
            "succeeded"
        ]
    );
    assert_eq!(
        records[3].outcome,
        SyncOutcome::Superseded { by: "5".repeat(40) }
    );
    assert_eq!(
        records[6].heartbeat_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2025-06-01T12:07:20+00:00")
    );
    assert_eq!(records[5].reverts_seq, Some(5));

    let object = |seq: usize, i: usize| {
        let o = &records[seq - 1].objects[i];
        (o.action.clone(), o.result.clone(), o.gate.clone())
    };
    let passed = |text: &str| Some(G::Passed(text.into()));
    assert_eq!(object(1, 0), (A::Unchanged, R::Unchanged, None));
    assert_eq!(object(1, 1), (A::Update, R::Applied, None));
    assert_eq!(
        object(1, 2),
        (
            A::Update,
            R::Healthy,
            passed("healthy: 3/3 nodes updated and available")
        )
    );
    assert_eq!(
        object(1, 3),
        (
            A::Recreate,
            R::Applied,
            Some(G::Skipped(
                "updateStrategy OnDelete with policy skip".into()
            ))
        )
    );
    assert_eq!(
        object(1, 4),
        (
            A::Create,
            R::Completed,
            passed("healthy: complete: 1/1 succeeded")
        )
    );
    assert_eq!(
        object(1, 5),
        (A::Unchanged, R::Completed, passed("completed earlier"))
    );
    assert_eq!(object(1, 6), (A::Prune, R::Applied, None));
    assert_eq!(object(1, 7), (A::Orphan, R::Kept, None));
    assert_eq!(
        records[0].objects[7].message.as_deref(),
        Some("ferry.dev/prune: false")
    );
    assert_eq!(records[0].revisions(), ["ds/agent=4", "sts/db=2"]);
    assert_eq!(
        object(2, 1),
        (
            A::Update,
            R::GateFailed,
            Some(G::Failed(
                "timed out after 300s: 1/3 replicas updated".into()
            ))
        )
    );
    assert_eq!(
        object(2, 2),
        (
            A::Recreate,
            R::GateFailed,
            Some(G::Failed(
                "BackoffLimitExceeded: Job has reached the specified backoff limit".into()
            ))
        )
    );
    assert_eq!(object(2, 3), (A::Update, R::Skipped, None));
    assert_eq!(object(2, 4), (A::Prune, R::Pending, None));
    assert_eq!(object(3, 0), (A::Create, R::Failed, None));
    assert_eq!(object(3, 1), (A::Unknown, R::Failed, None));
    assert_eq!(
        object(4, 0),
        (
            A::Update,
            R::Applied,
            Some(G::Superseded(
                "by 5555555 after 9s: 1/3 nodes updated".into()
            ))
        )
    );
    assert_eq!(
        object(5, 0),
        (
            A::Update,
            R::Applied,
            Some(G::Interrupted(
                "after 11s: lost the leader lease (the lease is now held by ferry-b): 2/3 nodes updated"
                    .into()
            ))
        )
    );
    assert_eq!(object(6, 0), (A::Invalid, R::Invalid, None));
    // Nothing in today's records falls back to a name this ferry does not know.
    let text = serde_json::to_string(&records).unwrap();
    let back: Vec<SyncRecord> = serde_json::from_str(&text).unwrap();
    assert!(back
        .iter()
        .all(|r| !matches!(r.trigger, SyncTrigger::Other(_))));
    assert!(back
        .iter()
        .flat_map(|r| &r.objects)
        .all(|o| { !matches!(o.action, A::Other(_)) && !matches!(o.result, R::Other(_)) }));
}

#[test]
fn records_with_names_from_another_version_still_read() {
    let mut json = serde_json::to_value(sample()).unwrap();
    json["trigger"] = "cron".into();
    json["objects"][0]["action"] = "adopt".into();
    json["objects"][0]["result"] = "paused".into();
    json["objects"][0]["gate"] = "waiting: for a window".into();
    let record: SyncRecord = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(record.trigger, SyncTrigger::Other("cron".into()));
    assert_eq!(
        record.objects[0].action,
        RecordedAction::Other("adopt".into())
    );
    assert_eq!(
        record.objects[0].result,
        RecordedResult::Other("paused".into())
    );
    assert_eq!(serde_json::to_value(&record).unwrap(), json);
}
