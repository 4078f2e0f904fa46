use super::*;
use crate::history::record::tests::sample;
use chrono::Duration;

#[test]
fn table_has_one_row_per_sync_with_revisions() {
    let mut first = sample();
    first.seq = 2;
    first.commit.subject = "a very long subject that goes on and on and on beyond the width".into();
    first.finished_at = None;
    first.outcome = crate::history::SyncOutcome::InProgress;
    let mut second = sample();
    second.finished_at = Some(second.started_at + Duration::milliseconds(4200));
    let table = render_table(&[second, first]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("SEQ  COMMIT   SUBJECT"), "{table}");
    assert!(lines[0].ends_with("REVISIONS"));
    assert!(
        lines[1].starts_with("3    0123456  Bump fluentd"),
        "{table}"
    );
    assert!(lines[1].contains("gate-failed  4.2s"), "{table}");
    assert!(lines[1].ends_with("ds/fluentd=3"), "{table}");
    assert!(lines[2].contains("…"), "{table}");
    assert!(lines[2].contains("in-progress  -"), "{table}");
    assert!(!table.contains("APP"));
    assert!(table.lines().all(|l| !l.ends_with(' ')));
}

#[test]
fn table_names_apps_when_several() {
    let a = sample();
    let mut b = sample();
    b.app = "web".into();
    let table = render_table(&[a, b]);
    assert!(table.starts_with("APP   SEQ"), "{table}");
    assert_eq!(render_table(&[]), "no syncs recorded\n");
}

#[test]
fn detail_shows_revert_link_objects_and_reasons() {
    let mut record = sample();
    record.objects[1].message = Some("job failed\nsecond line".into());
    let text = render_detail(&record);
    assert!(text.starts_with("Sync #3 of app logs\n"), "{text}");
    assert!(text.contains("  Reverts:   fedcba9 (sync #2)\n"), "{text}");
    assert!(text.contains("Author:    Ada <ada@example.com>"), "{text}");
    assert!(
        text.contains("gate-failed: Job logging/migrate: BackoffLimitExceeded"),
        "{text}"
    );
    assert!(text.contains("  Revisions: ds/fluentd=3\n"), "{text}");
    assert!(
        text.contains("update  DaemonSet logging/fluentd  healthy "),
        "{text}"
    );
    assert!(text.contains("      second line\n"), "{text}");
}

#[test]
fn durations_read_naturally() {
    assert_eq!(format_duration(Duration::milliseconds(400)), "0.4s");
    assert_eq!(format_duration(Duration::seconds(187)), "3m07s");
    assert_eq!(format_duration(Duration::seconds(3720)), "1h02m");
}
