use super::*;
use serde_json::json;

#[test]
fn display_forms() {
    let c = FieldChange {
        path: "spec.replicas".into(),
        kind: ChangeKind::Changed,
        before: Some(json!(1)),
        after: Some(json!(3)),
    };
    assert_eq!(c.to_string(), "spec.replicas: 1 → 3");
    let c = FieldChange {
        path: "spec.paused".into(),
        kind: ChangeKind::Removed,
        before: Some(json!(true)),
        after: None,
    };
    assert_eq!(c.to_string(), "spec.paused: - true");
    let c = FieldChange {
        path: "spec.args".into(),
        kind: ChangeKind::Added,
        before: None,
        after: Some(json!(["a", "b"])),
    };
    assert_eq!(c.to_string(), r#"spec.args: + ["a","b"]"#);
    let c = FieldChange {
        path: "data[\"nginx.conf\"]".into(),
        kind: ChangeKind::Changed,
        before: Some(json!("a\nb")),
        after: Some(json!("a\nc")),
    };
    assert_eq!(c.to_string(), r#"data["nginx.conf"]: "a\nb" → "a\nc""#);
    let json = serde_json::to_value(&c).unwrap_or_default();
    assert_eq!(json["kind"], json!("changed"));
    let back: Result<FieldChange, _> =
        serde_json::from_value(json!({"path": "x", "kind": "added", "after": 1}));
    assert_eq!(back.ok().map(|c| c.to_string()), Some("x: + 1".to_string()));
}

#[test]
fn unified_diff_plain_and_coloured() {
    let a = json!({"metadata": {"name": "web"}, "spec": {"image": "nginx:1.18.0", "replicas": 1}});
    let b = json!({"metadata": {"name": "web"}, "spec": {"image": "nginx:latest", "replicas": 1}});
    let plain = unified_yaml_diff(&a, &b, "live", "git", false);
    assert!(plain.starts_with("--- live\n+++ git\n@@"), "{plain}");
    assert!(plain.contains("\n-  image: nginx:1.18.0\n"), "{plain}");
    assert!(plain.contains("\n+  image: nginx:latest\n"), "{plain}");
    assert!(plain.contains("\n   replicas: 1\n"), "{plain}");
    assert!(!plain.contains('\x1b'));

    let coloured = unified_yaml_diff(&a, &b, "live", "git", true);
    assert!(
        coloured.contains("\x1b[31m-  image: nginx:1.18.0\x1b[0m\n"),
        "{coloured}"
    );
    assert!(
        coloured.contains("\x1b[32m+  image: nginx:latest\x1b[0m\n"),
        "{coloured}"
    );
    assert!(coloured.contains("\n   replicas: 1\n"), "{coloured}");
}

#[test]
fn equal_objects_give_empty_diff() {
    let a = json!({"b": 1, "a": [1, 2]});
    assert_eq!(unified_yaml_diff(&a, &a.clone(), "x", "y", true), "");
}
