use super::*;
use serde_json::{json, Value};

/// The metadata of a live object with these annotations.
fn object(annotations: Value) -> ObjectMeta {
    serde_json::from_value(json!({"name": "web", "annotations": annotations})).unwrap()
}

#[test]
fn defaults() {
    let c = GateConfig::default();
    assert_eq!(c.timeout, Duration::from_secs(300));
    assert_eq!(c.grace, Duration::from_secs(20));
    assert_eq!(c.failures_allowed, 0);
    assert_eq!(c.on_delete, OnDeletePolicy::Skip);
    assert_eq!(c.poll_interval, Duration::from_secs(1));
}

#[test]
fn annotations_override_defaults() {
    let c = GateConfig::default()
        .for_object(&object(json!({
            "ferry.dev/timeout": "1h30m",
            "ferry.dev/failures-allowed": "2",
            "ferry.dev/on-delete": "restart-pods"
        })))
        .unwrap();
    assert_eq!(c.timeout, Duration::from_secs(5400));
    assert_eq!(c.failures_allowed, 2);
    assert_eq!(c.on_delete, OnDeletePolicy::RestartPods);
    let plain = GateConfig::default()
        .for_object(&ObjectMeta {
            name: Some("x".into()),
            ..ObjectMeta::default()
        })
        .unwrap();
    assert_eq!(plain, GateConfig::default());
}

#[test]
fn bad_annotations_name_annotation_and_value() {
    let cases = [
        ("ferry.dev/timeout", "soon"),
        ("ferry.dev/failures-allowed", "-1"),
        ("ferry.dev/on-delete", "restart"),
    ];
    for (key, value) in cases {
        let err = GateConfig::default()
            .for_object(&object(json!({ key: value })))
            .unwrap_err()
            .to_string();
        assert!(err.contains(key) && err.contains(value), "{err}");
    }
}
