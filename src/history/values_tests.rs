use super::*;

fn wire<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap()
}

#[test]
fn every_known_name_is_its_display_name_and_reads_back() {
    use RecordedAction as A;
    use RecordedResult as R;
    for action in [
        A::Create,
        A::Update,
        A::Recreate,
        A::Prune,
        A::Orphan,
        A::Unchanged,
        A::Invalid,
        A::Unknown,
    ] {
        assert_eq!(wire(&action), format!("\"{action}\""));
        assert_eq!(serde_json::from_str::<A>(&wire(&action)).unwrap(), action);
    }
    for result in [
        R::Applied,
        R::Unchanged,
        R::Kept,
        R::Failed,
        R::Skipped,
        R::Pending,
        R::Invalid,
        R::Healthy,
        R::Completed,
        R::GateFailed,
    ] {
        assert_eq!(wire(&result), format!("\"{result}\""));
        assert_eq!(serde_json::from_str::<R>(&wire(&result)).unwrap(), result);
    }
}

#[test]
fn names_from_another_version_read_and_are_written_back() {
    let action: RecordedAction = serde_json::from_str("\"adopt\"").unwrap();
    assert_eq!(action, RecordedAction::Other("adopt".into()));
    assert_eq!(wire(&action), "\"adopt\"");
    let result: RecordedResult = serde_json::from_str("\"paused\"").unwrap();
    assert_eq!(result, RecordedResult::Other("paused".into()));
    assert_eq!(result.to_string(), "paused");
}

#[test]
fn gate_text_reads_as_its_verdict_and_is_written_back_verbatim() {
    let cases = [
        (
            "healthy: 3/3 nodes updated and available",
            GateVerdict::Passed("healthy: 3/3 nodes updated and available".into()),
        ),
        (
            "completed earlier",
            GateVerdict::Passed("completed earlier".into()),
        ),
        (
            "failed: timed out after 300s: 1/3 replicas updated",
            GateVerdict::Failed("timed out after 300s: 1/3 replicas updated".into()),
        ),
        (
            "skipped: Job is suspended",
            GateVerdict::Skipped("Job is suspended".into()),
        ),
        (
            "superseded by 5555555 after 9s: 1/3 nodes updated",
            GateVerdict::Superseded("by 5555555 after 9s: 1/3 nodes updated".into()),
        ),
        (
            "interrupted after 11s: shutting down: 2/3 nodes updated",
            GateVerdict::Interrupted("after 11s: shutting down: 2/3 nodes updated".into()),
        ),
        // The first releases stored the gate's summary line, naming the object.
        (
            "DaemonSet web/agent: healthy: 3/3 nodes updated and available",
            GateVerdict::Passed(
                "DaemonSet web/agent: healthy: 3/3 nodes updated and available".into(),
            ),
        ),
        (
            "failed: DaemonSet web/agent: failed: ImagePullBackOff",
            GateVerdict::Failed("DaemonSet web/agent: failed: ImagePullBackOff".into()),
        ),
    ];
    for (text, verdict) in cases {
        let json = serde_json::Value::String(text.into());
        let read: GateVerdict = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(read, verdict, "{text}");
        assert_eq!(read.to_string(), text);
        assert_eq!(serde_json::to_value(&read).unwrap(), json);
    }
}
