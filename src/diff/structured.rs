//! Field-level structured diff: which paths were added, removed or changed.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::keys::{all_objects, choose_key, keys_equal, scalars_equal};
use super::path::{FieldPath, Segment};

/// What happened to one path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Only in `after`.
    Added,
    /// Only in `before`.
    Removed,
    /// In both, with different values.
    Changed,
}

/// One difference between two objects. Rendered (via `Display`) as
/// `spec.template.spec.containers[name=nginx].image: nginx:1.18.0 → nginx:latest`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Where, e.g. `spec.template.spec.containers[name=nginx].image`.
    pub path: String,
    /// Added, removed or changed.
    pub kind: ChangeKind,
    /// The value before (`None` when added).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The value after (`None` when removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

/// Field-level structured diff between two (already normalised) objects.
///
/// Order is stable: map keys sorted, list items in `before` order, then items only in `after`.
/// Lists of objects with a merge key (`name`, `containerPort`, `mountPath`…) are matched by key
/// so reordering is no change; an item only on one side is one Added/Removed change. Lists of
/// scalars are compared whole. `null` in a map counts as absent. Numbers compare numerically
/// and resource quantities as quantities.
pub fn field_changes(before: &Value, after: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk(&FieldPath::root(), before, after, &mut out);
    out
}

/// Deep equality with the same rules as [`field_changes`], at `path` (which decides whether
/// quantity comparison applies).
pub(crate) fn equal_at(path: &FieldPath, a: &Value, b: &Value) -> bool {
    let mut out = Vec::new();
    walk(path, a, b, &mut out);
    out.is_empty()
}

fn change(
    path: &FieldPath,
    kind: ChangeKind,
    before: Option<&Value>,
    after: Option<&Value>,
) -> FieldChange {
    FieldChange {
        path: path.to_string(),
        kind,
        before: before.cloned(),
        after: after.cloned(),
    }
}

fn non_null(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

fn walk(path: &FieldPath, before: &Value, after: &Value, out: &mut Vec<FieldChange>) {
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = path.field(k);
                match (non_null(b.get(k)), non_null(a.get(k))) {
                    (Some(x), Some(y)) => walk(&p, x, y, out),
                    (Some(x), None) => out.push(change(&p, ChangeKind::Removed, Some(x), None)),
                    (None, Some(y)) => out.push(change(&p, ChangeKind::Added, None, Some(y))),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(b), Value::Array(a)) => walk_list(path, b, a, out),
        _ => {
            if !scalars_equal(path, before, after) {
                out.push(change(path, ChangeKind::Changed, Some(before), Some(after)));
            }
        }
    }
}

fn walk_list(path: &FieldPath, before: &[Value], after: &[Value], out: &mut Vec<FieldChange>) {
    if !all_objects(&[before, after]) {
        let same = before.len() == after.len()
            && before.iter().zip(after).all(|(x, y)| equal_at(path, x, y));
        if !same {
            out.push(FieldChange {
                path: path.to_string(),
                kind: ChangeKind::Changed,
                before: Some(Value::Array(before.to_vec())),
                after: Some(Value::Array(after.to_vec())),
            });
        }
        return;
    }
    match choose_key(&[before, after]) {
        Some(key) => {
            let after_keys: Vec<_> = after.iter().map(|i| key.of(i)).collect();
            let mut used = vec![false; after.len()];
            for item in before {
                let k = key.of(item);
                let found = after_keys
                    .iter()
                    .enumerate()
                    .find(|(i, ak)| !used[*i] && keys_equal(&k, ak));
                let p = path.child(Segment::Key(k.clone()));
                match found {
                    Some((i, _)) => {
                        used[i] = true;
                        walk(&p, item, &after[i], out);
                    }
                    None => out.push(change(&p, ChangeKind::Removed, Some(item), None)),
                }
            }
            for (i, item) in after.iter().enumerate() {
                if !used[i] {
                    let p = path.child(Segment::Key(after_keys[i].clone()));
                    out.push(change(&p, ChangeKind::Added, None, Some(item)));
                }
            }
        }
        None => {
            for i in 0..before.len().max(after.len()) {
                let p = path.child(Segment::Index(i));
                match (before.get(i), after.get(i)) {
                    (Some(x), Some(y)) => walk(&p, x, y, out),
                    (Some(x), None) => out.push(change(&p, ChangeKind::Removed, Some(x), None)),
                    (None, Some(y)) => out.push(change(&p, ChangeKind::Added, None, Some(y))),
                    (None, None) => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
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
        let a = json!({"spec": {"replicas": 1, "resources": {"limits": {"cpu": 0.5, "memory": "1000M"}}}});
        let b = json!({"spec": {"replicas": 1.0, "resources": {"limits": {"cpu": "500m", "memory": "1G"}}}});
        assert!(field_changes(&a, &b).is_empty());
        let c = json!({"spec": {"replicas": 2, "resources": {"limits": {"cpu": 0.5, "memory": "1Gi"}}}});
        let paths: Vec<_> = field_changes(&a, &c).into_iter().map(|c| c.path).collect();
        assert_eq!(paths, vec!["spec.replicas", "spec.resources.limits.memory"]);
    }

    #[test]
    fn scalar_lists_compare_whole_and_positional_fallback() {
        let a = json!({"args": ["a", "b"], "tolerations": [{"key": "k", "effect": "NoSchedule"}]});
        let b = json!({"args": ["a", "c"], "tolerations": [{"key": "k", "effect": "NoExecute"}, {"key": "z"}]});
        let changes = field_changes(&a, &b);
        let rendered: Vec<_> = changes.iter().map(|c| c.to_string()).collect();
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
}
