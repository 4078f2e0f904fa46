use super::*;
use serde_json::json;

#[test]
fn selector_renders_labels_and_expressions() {
    let ds = json!({"spec": {"selector": {
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["a", "b"]},
            {"key": "canary", "operator": "DoesNotExist"}
        ]
    }}});
    assert_eq!(
        selector_string(&ds).as_deref(),
        Some("app=web,tier in (a,b),!canary")
    );
    assert_eq!(selector_string(&json!({"spec": {"selector": {}}})), None);
}

#[test]
fn missing_counts_read_as_zero() {
    let ds = json!({"status": {"numberReady": 2}});
    assert_eq!(int(&ds, "status.numberReady"), 2);
    assert_eq!(int(&ds, "status.numberUnavailable"), 0);
    assert_eq!(opt_int(&ds, "status.numberUnavailable"), None);
}
