//! How list items are matched (merge keys) and how scalars compare (numbers numerically,
//! resource quantities exactly). Shared by the structured diff and the subset check.

use serde_json::Value;

use super::path::FieldPath;
use super::quantity;

/// Merge-key fields tried in order; `true` means "plus `protocol` (default `TCP`) when the
/// field alone is not unique".
const CANDIDATES: &[(&str, bool)] = &[
    ("name", false),
    ("containerPort", true),
    ("mountPath", false),
    ("devicePath", false),
    ("port", true),
    ("ip", false),
    ("type", false),
    ("topologyKey", false),
];

/// The key chosen to match the items of a list of objects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ListKey {
    field: &'static str,
    with_protocol: bool,
}

impl ListKey {
    /// The key fields of `item` (`protocol` defaults to `TCP`, as the API server does).
    pub(crate) fn of(&self, item: &Value) -> Vec<(String, Value)> {
        let mut key = vec![(
            self.field.to_string(),
            item.get(self.field).cloned().unwrap_or(Value::Null),
        )];
        if self.with_protocol {
            let proto = item
                .get("protocol")
                .filter(|v| !v.is_null())
                .cloned()
                .unwrap_or_else(|| Value::String("TCP".into()));
            key.push(("protocol".into(), proto));
        }
        key
    }
}

/// True when two item keys are equal (numbers compared numerically).
pub(crate) fn keys_equal(a: &[(String, Value)], b: &[(String, Value)]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|((ka, va), (kb, vb))| ka == kb && json_scalar_equal(va, vb))
}

/// True when every element of every list is a JSON object.
pub(crate) fn all_objects(lists: &[&[Value]]) -> bool {
    lists.iter().all(|l| l.iter().all(Value::is_object))
}

/// Picks the merge key for lists of objects: the first candidate that every item of every
/// list carries and whose values are unique within each list. `None` means positional.
pub(crate) fn choose_key(lists: &[&[Value]]) -> Option<ListKey> {
    if !all_objects(lists) {
        return None;
    }
    for &(field, protocol_variant) in CANDIDATES {
        let present = lists.iter().all(|l| {
            l.iter()
                .all(|item| item.get(field).is_some_and(|v| !v.is_null()))
        });
        if !present {
            continue;
        }
        let variants: &[bool] = if protocol_variant {
            &[false, true]
        } else {
            &[false]
        };
        for &with_protocol in variants {
            let key = ListKey {
                field,
                with_protocol,
            };
            if lists.iter().all(|l| unique(l, &key)) {
                return Some(key);
            }
        }
    }
    None
}

fn unique(items: &[Value], key: &ListKey) -> bool {
    let keys: Vec<_> = items.iter().map(|i| key.of(i)).collect();
    keys.iter()
        .enumerate()
        .all(|(i, k)| keys[..i].iter().all(|other| !keys_equal(k, other)))
}

/// Equality of two JSON values that are not both objects or both arrays: numbers compare
/// numerically (`1 == 1.0`) and, under a resource-quantity path, values compare as
/// quantities (`0.5 == "500m"`).
pub(crate) fn scalars_equal(path: &FieldPath, a: &Value, b: &Value) -> bool {
    if path.is_quantity() {
        if let Some(eq) = quantity::values_equal(a, b) {
            return eq;
        }
    }
    json_scalar_equal(a, b)
}

/// `==` on JSON values, except that numbers compare by value exactly (`1 == 1.0`).
pub(crate) fn json_scalar_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            match (
                quantity::parse(&x.to_string()),
                quantity::parse(&y.to_string()),
            ) {
                (Some(qx), Some(qy)) => qx == qy,
                _ => x.as_f64() == y.as_f64(),
            }
        }
        _ => a == b,
    }
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
