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
#[path = "structured_tests.rs"]
mod tests;
