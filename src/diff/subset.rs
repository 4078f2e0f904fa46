//! "Does the live object already have everything git asks for?" — a cheap local check that lets
//! the planner skip a server dry-run. It errs towards `false` (a needless dry-run), never
//! towards a missed change.

use serde_json::Value;

use super::keys::{all_objects, choose_key, keys_equal, scalars_equal};
use super::path::{FieldPath, Segment};
use super::structured::equal_at;

/// True when every field set in `desired` is present with an equal value in `live`; `live` may
/// have more (server defaults, injected sidecars, extra labels).
///
/// Maps: each desired key must be in live with a subset value; a desired `null` requires the
/// field to be absent (or `null`) live. Lists of objects with a merge key: each desired item
/// must match (by key) a live item it is a subset of; extra live items are allowed. Other
/// lists of objects: same length, pairwise subset. Lists of scalars: equal. An empty desired
/// list matches an absent live one (the server drops empty lists); an empty desired map does
/// not (it may be a meaningful struct such as `emptyDir: {}`). Numbers compare numerically,
/// resource quantities as quantities.
pub fn is_subset(desired: &Value, live: &Value) -> bool {
    subset(&FieldPath::root(), desired, Some(live))
}

fn subset(path: &FieldPath, desired: &Value, live: Option<&Value>) -> bool {
    let live = live.filter(|v| !v.is_null());
    match desired {
        Value::Null => live.is_none(),
        Value::Object(d) => match live {
            Some(Value::Object(l)) => d.iter().all(|(k, dv)| subset(&path.field(k), dv, l.get(k))),
            _ => false,
        },
        Value::Array(d) => match live {
            None => d.is_empty(),
            Some(Value::Array(l)) => list_subset(path, d, l),
            Some(_) => false,
        },
        scalar => live.is_some_and(|l| scalars_equal(path, scalar, l)),
    }
}

fn list_subset(path: &FieldPath, desired: &[Value], live: &[Value]) -> bool {
    if !all_objects(&[desired, live]) {
        return desired.len() == live.len()
            && desired.iter().zip(live).all(|(d, l)| equal_at(path, d, l));
    }
    match choose_key(&[desired, live]) {
        Some(key) => desired.iter().all(|d| {
            let k = key.of(d);
            let p = path.child(Segment::Key(k.clone()));
            live.iter()
                .find(|l| keys_equal(&k, &key.of(l)))
                .is_some_and(|l| subset(&p, d, Some(l)))
        }),
        None => {
            desired.len() == live.len()
                && desired
                    .iter()
                    .zip(live)
                    .enumerate()
                    .all(|(i, (d, l))| subset(&path.child(Segment::Index(i)), d, Some(l)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn desired() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "agent", "labels": {"app": "agent"}},
            "spec": {
                "selector": {"matchLabels": {"app": "agent"}},
                "template": {
                    "metadata": {"labels": {"app": "agent"}},
                    "spec": {
                        "containers": [{
                            "name": "agent",
                            "image": "agent:1",
                            "args": ["--v=2"],
                            "ports": [{"containerPort": 9100}],
                            "resources": {"limits": {"cpu": 0.5, "memory": "1000M"}}
                        }]
                    }
                }
            }
        })
    }

    fn live() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {
                "name": "agent",
                "namespace": "default",
                "labels": {"app": "agent", "app.kubernetes.io/managed-by": "ferry"},
                "annotations": {"deprecated.daemonset.template.generation": "1"}
            },
            "spec": {
                "revisionHistoryLimit": 10,
                "selector": {"matchLabels": {"app": "agent"}},
                "updateStrategy": {"type": "RollingUpdate"},
                "template": {
                    "metadata": {"labels": {"app": "agent"}},
                    "spec": {
                        "dnsPolicy": "ClusterFirst",
                        "restartPolicy": "Always",
                        "containers": [
                            {
                                "name": "istio-proxy",
                                "image": "proxy:1"
                            },
                            {
                                "name": "agent",
                                "image": "agent:1",
                                "args": ["--v=2"],
                                "imagePullPolicy": "IfNotPresent",
                                "terminationMessagePath": "/dev/termination-log",
                                "ports": [{"containerPort": 9100, "protocol": "TCP"}],
                                "resources": {"limits": {"cpu": "500m", "memory": "1G"}}
                            }
                        ]
                    }
                }
            },
            "status": {"numberReady": 1}
        })
    }

    #[test]
    fn defaults_and_injected_sidecar_are_fine() {
        assert!(is_subset(&desired(), &live()));
    }

    #[test]
    fn differing_value_is_not_subset() {
        let mut d = desired();
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("agent:2");
        assert!(!is_subset(&d, &live()));

        let mut d = desired();
        d["spec"]["template"]["spec"]["containers"][0]["args"] = json!(["--v=3"]);
        assert!(!is_subset(&d, &live()));

        let mut d = desired();
        d["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] =
            json!("1Gi");
        assert!(!is_subset(&d, &live()));

        let mut d = desired();
        d["spec"]["template"]["spec"]["containers"][0]["name"] = json!("other");
        assert!(!is_subset(&d, &live()));

        let mut d = desired();
        d["metadata"]["labels"]["tier"] = json!("x");
        assert!(!is_subset(&d, &live()));
    }

    #[test]
    fn nulls_empties_and_positional_lists() {
        assert!(is_subset(&json!({"a": null}), &json!({})));
        assert!(!is_subset(&json!({"a": null}), &json!({"a": 1})));
        assert!(is_subset(&json!({"a": []}), &json!({})));
        assert!(!is_subset(&json!({"a": {}}), &json!({})));
        assert!(is_subset(&json!({"a": {}}), &json!({"a": {"b": 1}})));
        assert!(is_subset(&json!({"n": 1}), &json!({"n": 1.0})));
        let d = json!({"t": [{"key": "a"}, {"key": "b"}]});
        assert!(is_subset(
            &d,
            &json!({"t": [{"key": "a", "op": "Exists"}, {"key": "b"}]})
        ));
        assert!(!is_subset(&d, &json!({"t": [{"key": "b"}, {"key": "a"}]})));
        assert!(!is_subset(&d, &json!({"t": [{"key": "a"}]})));
        assert!(!is_subset(&json!({"a": 1}), &json!("x")));
    }
}
