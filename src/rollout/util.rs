//! Small readers for typed Kubernetes objects, shared by the evaluators, and the one place
//! where the cluster's JSON becomes typed objects ([`decode`]).

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::RolloutError;

/// Decodes one object the cluster returned as JSON into its `k8s_openapi` type; `what` names
/// it in the error ("DaemonSet logging/fluentd", "pods of StatefulSet db/web").
pub(crate) fn decode<T: DeserializeOwned>(what: &str, value: Value) -> Result<T, RolloutError> {
    serde_json::from_value(value).map_err(|source| RolloutError::Decode {
        what: what.to_string(),
        source,
    })
}

/// [`decode`] for every object of a list.
pub(crate) fn decode_all<T: DeserializeOwned>(
    what: &str,
    values: Vec<Value>,
) -> Result<Vec<T>, RolloutError> {
    values.into_iter().map(|v| decode(what, v)).collect()
}

/// A status count; missing (Kubernetes omits zero counts) reads as 0.
pub(crate) fn count(value: Option<i32>) -> i64 {
    value.map_or(0, i64::from)
}

/// `metadata.name`, or "" when missing.
pub(crate) fn name(meta: &ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or("")
}

/// `metadata.uid`, or "" when missing.
pub(crate) fn uid(meta: &ObjectMeta) -> &str {
    meta.uid.as_deref().unwrap_or("")
}

/// `metadata.generation`, 0 when missing.
pub(crate) fn generation(meta: &ObjectMeta) -> i64 {
    meta.generation.unwrap_or(0)
}

/// One label's value.
pub(crate) fn label<'a>(meta: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    meta.labels.as_ref()?.get(key).map(String::as_str)
}

/// One annotation's value.
pub(crate) fn annotation<'a>(meta: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    meta.annotations.as_ref()?.get(key).map(String::as_str)
}

/// True when one of the object's ownerReferences has this uid.
pub(crate) fn owned_by(meta: &ObjectMeta, owner_uid: &str) -> bool {
    meta.owner_references
        .iter()
        .flatten()
        .any(|r| r.uid == owner_uid)
}

/// True for an object being deleted (`metadata.deletionTimestamp` set).
pub(crate) fn terminating(meta: &ObjectMeta) -> bool {
    meta.deletion_timestamp.is_some()
}

/// True when the pod's Ready condition is True.
pub(crate) fn pod_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
        .is_some_and(|c| c.status == "True")
}

/// The node a pod runs on (`spec.nodeName`).
pub(crate) fn node_of(pod: &Pod) -> Option<&str> {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .filter(|n| !n.is_empty())
}

/// Renders a `spec.selector` (matchLabels + matchExpressions) as a label selector string.
/// `None` for a missing or empty selector (which would select everything).
pub(crate) fn selector_string(selector: Option<&LabelSelector>) -> Option<String> {
    let selector = selector?;
    let mut parts = Vec::new();
    for (k, v) in selector.match_labels.iter().flatten() {
        parts.push(format!("{k}={v}"));
    }
    for e in selector.match_expressions.iter().flatten() {
        let key = &e.key;
        let values = e.values.as_deref().unwrap_or_default().join(",");
        match e.operator.as_str() {
            "In" => parts.push(format!("{key} in ({values})")),
            "NotIn" => parts.push(format!("{key} notin ({values})")),
            "Exists" => parts.push(key.clone()),
            "DoesNotExist" => parts.push(format!("!{key}")),
            _ => {}
        }
    }
    (!parts.is_empty()).then(|| parts.join(","))
}

#[cfg(test)]
#[path = "util_tests.rs"]
mod tests;
