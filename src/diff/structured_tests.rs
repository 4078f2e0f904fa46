use super::*;
use serde_json::json;

fn ds(containers: Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "web"},
        "spec": {"template": {"spec": {"containers": containers}}}
    })
}

#[test]
fn image_change_is_one_field_change() {
    let before = ds(json!([
        {"name": "sidecar", "image": "busybox"},
        {"name": "nginx", "image": "nginx:1.18.0", "ports": [{"containerPort": 80}]}
    ]));
    let after = ds(json!([
        {"name": "sidecar", "image": "busybox"},
        {"name": "nginx", "image": "nginx:latest", "ports": [{"containerPort": 80}]}
    ]));
    let changes = field_changes(&before, &after);
    assert_eq!(
        changes,
        vec![FieldChange {
            path: "spec.template.spec.containers[name=nginx].image".into(),
            kind: ChangeKind::Changed,
            before: Some(json!("nginx:1.18.0")),
            after: Some(json!("nginx:latest")),
        }]
    );
    assert_eq!(
        changes[0].to_string(),
        "spec.template.spec.containers[name=nginx].image: nginx:1.18.0 → nginx:latest"
    );
}

#[test]
fn reordered_containers_are_no_change() {
    let a = ds(json!([{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]));
    let b = ds(json!([{"name": "b", "image": "y"}, {"name": "a", "image": "x"}]));
    assert!(field_changes(&a, &b).is_empty());
}

#[test]
fn added_and_removed_containers_are_whole_items() {
    let a = ds(json!([{"name": "a", "image": "x"}, {"name": "old", "image": "o"}]));
    let b = ds(json!([{"name": "a", "image": "x"}, {"name": "new", "image": "n"}]));
    let changes = field_changes(&a, &b);
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0].path, "spec.template.spec.containers[name=old]");
    assert_eq!(changes[0].kind, ChangeKind::Removed);
    assert_eq!(
        changes[0].before,
        Some(json!({"name": "old", "image": "o"}))
    );
    assert_eq!(changes[1].path, "spec.template.spec.containers[name=new]");
    assert_eq!(changes[1].kind, ChangeKind::Added);
    assert_eq!(
        changes[1].to_string(),
        r#"spec.template.spec.containers[name=new]: + {"image":"n","name":"new"}"#
    );
}

#[test]
fn label_keys_with_dots_are_quoted() {
    let a = json!({"metadata": {"labels": {"app.kubernetes.io/name": "web"}}});
    let b = json!({"metadata": {"labels": {"app.kubernetes.io/name": "api", "tier": "x"}}});
    let paths: Vec<_> = field_changes(&a, &b)
        .into_iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        paths,
        vec![
            r#"metadata.labels["app.kubernetes.io/name"]: web → api"#.to_string(),
            "metadata.labels.tier: + x".to_string(),
        ]
    );
}

#[test]
fn numbers_and_quantities_compare_by_value() {
    let a =
        json!({"spec": {"replicas": 1, "resources": {"limits": {"cpu": 0.5, "memory": "1000M"}}}});
    let b = json!({"spec": {"replicas": 1.0, "resources": {"limits": {"cpu": "500m", "memory": "1G"}}}});
    assert!(field_changes(&a, &b).is_empty());
    let c =
        json!({"spec": {"replicas": 2, "resources": {"limits": {"cpu": 0.5, "memory": "1Gi"}}}});
    let paths: Vec<_> = field_changes(&a, &c).into_iter().map(|c| c.path).collect();
    assert_eq!(paths, vec!["spec.replicas", "spec.resources.limits.memory"]);
}

#[test]
fn scalar_lists_compare_whole_and_positional_fallback() {
    let a = json!({"args": ["a", "b"], "tolerations": [{"key": "k", "effect": "NoSchedule"}]});
    let b = json!({"args": ["a", "c"], "tolerations": [{"key": "k", "effect": "NoExecute"}, {"key": "z"}]});
    let changes = field_changes(&a, &b);
    let rendered: Vec<_> = changes
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    assert_eq!(
        rendered,
        vec![
            r#"args: ["a","b"] → ["a","c"]"#.to_string(),
            "tolerations[0].effect: NoSchedule → NoExecute".to_string(),
            r#"tolerations[1]: + {"key":"z"}"#.to_string(),
        ]
    );
    assert!(field_changes(&json!({"a": ["x", 1]}), &json!({"a": ["x", 1.0]})).is_empty());
}

#[test]
fn nulls_and_type_changes() {
    assert!(field_changes(&json!({"a": null}), &json!({})).is_empty());
    let c = field_changes(&json!({"a": {"b": 1}}), &json!({"a": "x"}));
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].to_string(), r#"a: {"b":1} → x"#);
    assert_eq!(field_changes(&json!(1), &json!(2))[0].path, "");
}
