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
mod tests {
    use super::*;
    use serde_json::json;

    fn items(v: Value) -> Vec<Value> {
        match v {
            Value::Array(a) => a,
            _ => Vec::new(),
        }
    }

    #[test]
    fn prefers_name_then_falls_back() {
        let a = items(json!([{"name": "a", "port": 1}, {"name": "b", "port": 2}]));
        let key = choose_key(&[&a, &a]);
        assert_eq!(key.map(|k| k.field), Some("name"));

        let b = items(json!([{"port": 1}, {"name": "b", "port": 2}]));
        assert_eq!(choose_key(&[&a, &b]).map(|k| k.field), Some("port"));

        let dup = items(json!([{"x": 1}, {"x": 1}]));
        assert_eq!(choose_key(&[&dup, &dup]), None);
        let scalars = items(json!(["a", "b"]));
        assert_eq!(choose_key(&[&scalars, &scalars]), None);
    }

    #[test]
    fn container_ports_use_protocol_only_when_needed() {
        let tcp_only = items(json!([{"containerPort": 80}, {"containerPort": 443}]));
        let k = choose_key(&[&tcp_only, &tcp_only]);
        assert_eq!(k.map(|k| k.with_protocol), Some(false));

        let dns = items(json!([
            {"containerPort": 53, "protocol": "UDP"},
            {"containerPort": 53}
        ]));
        let k = choose_key(&[&dns, &dns]);
        assert_eq!(
            k.map(|k| (k.field, k.with_protocol)),
            Some(("containerPort", true))
        );
        let rendered = k.map(|k| k.of(&dns[1]));
        assert_eq!(
            rendered,
            Some(vec![
                ("containerPort".to_string(), json!(53)),
                ("protocol".to_string(), json!("TCP"))
            ])
        );
    }

    #[test]
    fn numbers_compare_numerically() {
        let p = FieldPath::root().field("x");
        assert!(scalars_equal(&p, &json!(1), &json!(1.0)));
        assert!(!scalars_equal(&p, &json!(1), &json!(1.5)));
        assert!(!scalars_equal(&p, &json!(1), &json!("1")));
        assert!(!scalars_equal(&p, &json!("500m"), &json!(0.5)));
        let q = FieldPath::root().field("limits").field("cpu");
        assert!(scalars_equal(&q, &json!("500m"), &json!(0.5)));
        assert!(!scalars_equal(&q, &json!("1Gi"), &json!("1G")));
        assert!(scalars_equal(&q, &json!("abc"), &json!("abc")));
    }
}
