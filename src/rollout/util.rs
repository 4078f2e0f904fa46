//! Small readers for Kubernetes JSON objects, shared by the evaluators.

use serde_json::Value;

/// The value at a dotted path (`status.observedGeneration`), if any.
pub(crate) fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |cur, key| cur.get(key))
}

/// An integer at a path; missing (Kubernetes omits zero counts) reads as 0.
pub(crate) fn int(v: &Value, path: &str) -> i64 {
    at(v, path).and_then(Value::as_i64).unwrap_or(0)
}

/// An optional integer at a path.
pub(crate) fn opt_int(v: &Value, path: &str) -> Option<i64> {
    at(v, path).and_then(Value::as_i64)
}

/// A string at a path.
pub(crate) fn str_at<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    at(v, path).and_then(Value::as_str)
}

/// `metadata.name`, or "" when missing.
pub(crate) fn name(v: &Value) -> &str {
    str_at(v, "metadata.name").unwrap_or("")
}

/// `metadata.uid`, or "" when missing.
pub(crate) fn uid(v: &Value) -> &str {
    str_at(v, "metadata.uid").unwrap_or("")
}

/// One label's value.
pub(crate) fn label<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get("metadata")?.get("labels")?.get(key)?.as_str()
}

/// One annotation's value.
pub(crate) fn annotation<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get("metadata")?.get("annotations")?.get(key)?.as_str()
}

/// The status condition of a type (`status.conditions[type=...]`).
pub(crate) fn condition<'a>(v: &'a Value, type_: &str) -> Option<&'a Value> {
    at(v, "status.conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(type_))
}

/// True when the condition of that type has status "True".
pub(crate) fn condition_true(v: &Value, type_: &str) -> bool {
    condition(v, type_).and_then(|c| str_at(c, "status")) == Some("True")
}

/// True when one of the object's ownerReferences has this uid.
pub(crate) fn owned_by(v: &Value, owner_uid: &str) -> bool {
    at(v, "metadata.ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| {
            refs.iter()
                .any(|r| r.get("uid").and_then(Value::as_str) == Some(owner_uid))
        })
}

/// True for an object being deleted (`metadata.deletionTimestamp` set).
pub(crate) fn terminating(v: &Value) -> bool {
    at(v, "metadata.deletionTimestamp").is_some_and(|t| !t.is_null())
}

/// True when the pod's Ready condition is True.
pub(crate) fn pod_ready(pod: &Value) -> bool {
    condition_true(pod, "Ready")
}

/// The node a pod runs on (`spec.nodeName`).
pub(crate) fn node_of(pod: &Value) -> Option<&str> {
    str_at(pod, "spec.nodeName").filter(|n| !n.is_empty())
}

/// Renders a `spec.selector` (matchLabels + matchExpressions) as a label selector string.
/// `None` for a missing or empty selector (which would select everything).
pub(crate) fn selector_string(workload: &Value) -> Option<String> {
    let selector = at(workload, "spec.selector")?;
    let mut parts = Vec::new();
    if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in labels {
            parts.push(format!("{k}={}", v.as_str().unwrap_or_default()));
        }
    }
    if let Some(exprs) = selector.get("matchExpressions").and_then(Value::as_array) {
        for e in exprs {
            let key = e.get("key").and_then(Value::as_str).unwrap_or_default();
            let values: Vec<&str> = e
                .get("values")
                .and_then(Value::as_array)
                .map(|vs| vs.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            match e.get("operator").and_then(Value::as_str) {
                Some("In") => parts.push(format!("{key} in ({})", values.join(","))),
                Some("NotIn") => parts.push(format!("{key} notin ({})", values.join(","))),
                Some("Exists") => parts.push(key.to_string()),
                Some("DoesNotExist") => parts.push(format!("!{key}")),
                _ => {}
            }
        }
    }
    (!parts.is_empty()).then(|| parts.join(","))
}

/// Parses a Kubernetes timestamp (`2026-11-23T09:45:14Z` or with fractional seconds).
pub(crate) fn timestamp(v: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    let s = v.as_str()?;
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

#[cfg(test)]
#[path = "util_tests.rs"]
mod tests;
