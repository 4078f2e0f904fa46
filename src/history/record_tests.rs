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
