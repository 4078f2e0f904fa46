use super::*;

fn later(sha: &str, reverts: &[&str]) -> LaterCommit {
    LaterCommit {
        sha: sha.into(),
        reverts: reverts
            .iter()
            .map(std::string::ToString::to_string)
            .collect(),
    }
}

#[test]
fn a_reverted_change_is_undone_unless_its_revert_was_reverted() {
    let bad = "b".repeat(40);
    let revert = "c".repeat(40);
    let reapply = "d".repeat(40);
    assert_eq!(undone_by(&bad, &[]), None);
    let once = [later(&revert, &[&bad[..7]])];
    assert_eq!(undone_by(&bad, &once).as_deref(), Some(revert.as_str()));
    let twice = [later(&reapply, &[&revert]), later(&revert, &[&bad])];
    assert_eq!(undone_by(&bad, &twice), None, "the revert was reverted");
    let range = [later(&revert, &["a".repeat(40).as_str(), &bad])];
    assert!(
        undone_by(&bad, &range).is_some(),
        "a --to revert names several"
    );
}

#[test]
fn reverts_invalid_syncs_and_fallbacks_are_not_changes() {
    let record = |trigger: &str, reverts: Option<&str>, outcome: serde_json::Value| {
        serde_json::from_value::<SyncRecord>(serde_json::json!({
            "app": "a", "seq": 1, "trigger": trigger, "startedAt": "2026-01-01T00:00:00Z",
            "outcome": outcome,
            "commit": {"sha": "b".repeat(40), "shortSha": "bbbbbbb", "author": "x",
                "email": "x@y", "time": "2026-01-01T00:00:00Z", "subject": "s",
                "reverts": reverts},
        }))
        .unwrap()
    };
    let ok = serde_json::json!({"status": "succeeded"});
    let failed = serde_json::json!({"status": "gateFailed", "object": "o", "reason": "r"});
    let invalid = serde_json::json!({"status": "invalid", "reason": "r"});
    assert!(is_change(&record("manual", None, ok.clone())));
    assert!(is_change(&record("poll", None, failed)));
    assert!(!is_change(&record("manual", None, invalid)));
    assert!(!is_change(&record("rollback", Some("abcdef0"), ok.clone())));
    assert!(!is_change(&record("revert-fallback", None, ok)));
}
