use super::*;
use k8s_openapi::api::apps::v1::DaemonSet;
use serde_json::json;

#[test]
fn selector_renders_labels_and_expressions() {
    let ds: DaemonSet = serde_json::from_value(json!({"spec": {"selector": {
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["a", "b"]},
            {"key": "canary", "operator": "DoesNotExist"}
        ]
    }}}))
    .unwrap();
    let selector = ds.spec.as_ref().map(|s| &s.selector);
    assert_eq!(
        selector_string(selector).as_deref(),
        Some("app=web,tier in (a,b),!canary")
    );
    assert_eq!(selector_string(Some(&LabelSelector::default())), None);
    assert_eq!(selector_string(None), None);
}

#[test]
fn missing_counts_read_as_zero() {
    assert_eq!(count(Some(2)), 2);
    assert_eq!(count(None), 0);
}

#[test]
fn an_object_that_does_not_parse_is_an_error_naming_it() {
    let err = decode::<DaemonSet>(
        "DaemonSet logging/fluentd",
        json!({"kind": "DaemonSet", "status": {"numberReady": "three"}}),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("DaemonSet logging/fluentd"), "{err}");
    assert!(err.contains("three"), "{err}");
}
