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
    d["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = json!("1Gi");
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
