use super::*;
use serde_json::json;

fn ferry_fields() -> Value {
    json!({
        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
        "f:spec": {
            "f:replicas": {},
            "f:template": {"f:spec": {"f:containers": {
                "k:{\"name\":\"nginx\"}": {
                    ".": {},
                    "f:name": {},
                    "f:image": {},
                    "f:env": {
                        "k:{\"name\":\"FOO\"}": {".": {}, "f:name": {}, "f:value": {}},
                        "k:{\"name\":\"BAR\"}": {".": {}, "f:name": {}, "f:value": {}}
                    },
                    "f:ports": {
                        "k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {
                            ".": {}, "f:containerPort": {}
                        }
                    },
                    "f:args": {}
                },
                "k:{\"name\":\"sidecar\"}": {".": {}, "f:name": {}, "f:image": {}}
            }}},
            "f:finalizers": {"v:\"a\"": {}}
        }
    })
}

fn desired() -> Value {
    json!({
        "metadata": {"labels": {"app": "web"}},
        "spec": {
            "replicas": 3,
            "finalizers": ["a"],
            "template": {"spec": {"containers": [{
                "name": "nginx",
                "image": "nginx:latest",
                "args": ["-g"],
                "ports": [{"containerPort": 80}],
                "env": [{"name": "FOO", "value": "1"}]
            }]}}
        }
    })
}

#[test]
fn reads_managed_entries() {
    let live = json!({"metadata": {"managedFields": [
        {"manager": "ferry", "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {}}},
        {"manager": "kube-controller-manager", "operation": "Update", "subresource": "scale",
         "fieldsV1": {"f:spec": {"f:replicas": {}}}},
        "junk",
        {"operation": "Update"}
    ]}});
    let entries = managed_entries(&live);
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0].manager, "ferry");
    assert_eq!(entries[0].subresource, None);
    assert_eq!(entries[1].subresource.as_deref(), Some("scale"));
    assert_eq!(entries[2].manager, "");
    assert_eq!(entries[2].fields, json!({}));
    assert!(managed_entries(&json!({"metadata": 1})).is_empty());
    assert!(managed_entries(&json!([])).is_empty());
}

#[test]
fn owned_but_absent_finds_removed_container_and_env_var() {
    let absent = owned_but_absent(&ferry_fields(), &desired());
    assert_eq!(
        absent,
        vec![
            "spec.template.spec.containers[name=nginx].env[name=BAR]".to_string(),
            "spec.template.spec.containers[name=sidecar]".to_string(),
        ]
    );
}

#[test]
fn owned_but_absent_sees_removed_scalars_and_list_values() {
    let mut d = desired();
    d["spec"]["replicas"] = Value::Null;
    d["spec"]["finalizers"] = json!(["b"]);
    d["metadata"] = json!({});
    let absent = owned_but_absent(&ferry_fields(), &d);
    assert!(
        absent.contains(&"metadata.labels".to_string()),
        "{absent:?}"
    );
    assert!(absent.contains(&"spec.replicas".to_string()), "{absent:?}");
    assert!(
        absent.contains(&"spec.finalizers[=a]".to_string()),
        "{absent:?}"
    );
    assert!(owned_but_absent(&json!({"f:x": {}}), &json!("odd")).len() == 1);
    assert!(owned_but_absent(&json!("odd"), &desired()).is_empty());
}

#[test]
fn strip_owned_yields_scale_replicas_but_keeps_co_owned_fields() {
    let entries = vec![
        ManagedEntry {
            manager: "ferry".into(),
            operation: "Apply".into(),
            subresource: None,
            fields: json!({
                "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                "f:spec": {"f:template": {"f:spec": {"f:containers": {
                    "k:{\"name\":\"nginx\"}": {".": {}, "f:name": {}, "f:image": {}}
                }}}}
            }),
        },
        ManagedEntry {
            manager: "kube-controller-manager".into(),
            operation: "Update".into(),
            subresource: Some("scale".into()),
            fields: json!({"f:spec": {"f:replicas": {}}}),
        },
        ManagedEntry {
            manager: "kubectl-edit".into(),
            operation: "Update".into(),
            subresource: None,
            fields: json!({
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {"f:template": {"f:spec": {"f:containers": {
                    "k:{\"name\":\"nginx\"}": {"f:image": {}, "f:args": {}}
                }}}}
            }),
        },
    ];
    let mut obj = desired();
    let removed = strip_owned(
        &mut obj,
        &entries,
        &|e: &ManagedEntry| e.manager != "ferry",
        "ferry",
    );
    assert_eq!(
        removed,
        vec![
            "spec.replicas".to_string(),
            "spec.template.spec.containers[name=nginx].args".to_string(),
        ]
    );
    assert!(obj["spec"].get("replicas").is_none());
    let c = &obj["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], json!("nginx:latest"));
    assert!(c.get("args").is_none());
    assert_eq!(obj["metadata"]["labels"]["app"], json!("web"));

    // Only the scale subresource selected: args stay too.
    let mut obj = desired();
    let removed = strip_owned(
        &mut obj,
        &entries,
        &|e: &ManagedEntry| e.subresource.as_deref() == Some("scale"),
        "ferry",
    );
    assert_eq!(removed, vec!["spec.replicas".to_string()]);
    assert!(obj["spec"]["template"]["spec"]["containers"][0]
        .get("args")
        .is_some());
}

#[test]
fn strip_owned_removes_whole_items_and_list_values() {
    let entries = vec![ManagedEntry {
        manager: "injector".into(),
        operation: "Update".into(),
        subresource: None,
        fields: json!({"f:spec": {
            "f:finalizers": {"v:\"a\"": {}},
            "f:template": {"f:spec": {"f:containers": {
                "k:{\"name\":\"nginx\"}": {"f:env": {"k:{\"name\":\"FOO\"}": {".": {}}}}
            }}}
        }}),
    }];
    let mut obj = desired();
    let removed = strip_owned(&mut obj, &entries, &|_: &ManagedEntry| true, "ferry");
    assert_eq!(
        removed,
        vec![
            "spec.finalizers[=a]".to_string(),
            "spec.template.spec.containers[name=nginx].env[name=FOO]".to_string(),
        ]
    );
    assert_eq!(obj["spec"]["finalizers"], json!([]));
    assert_eq!(
        obj["spec"]["template"]["spec"]["containers"][0]["env"],
        json!([])
    );
    let mut odd = json!("odd");
    assert!(strip_owned(&mut odd, &entries, &|_: &ManagedEntry| true, "ferry").is_empty());
}

#[test]
fn odd_fields_v1_keys_are_ignored() {
    let weird = json!({
        "k:notjson": {}, "k:[1]": {}, "x:y": {}, "f": {}, "": {}, "aé": {}, ".": {},
        "i:-1": {}, "f:spec": "not-a-map"
    });
    assert!(owned_but_absent(&weird, &json!({"spec": 1})).is_empty());
    let entries = vec![ManagedEntry {
        manager: "m".into(),
        operation: "Update".into(),
        subresource: None,
        fields: weird,
    }];
    let mut obj = json!({"spec": 1});
    let removed = strip_owned(&mut obj, &entries, &|_: &ManagedEntry| true, "ferry");
    assert_eq!(removed, vec!["spec".to_string()]);
    assert_eq!(obj, json!({}));
}

#[test]
fn atomic_changed_sees_a_key_removed_from_an_atomic_map_but_not_same_values() {
    // A LabelSelector is atomic: ferry's entry owns `f:selector` whole.
    let owned = json!({"f:spec": {"f:selector": {}, "f:replicas": {}}});
    let live =
        json!({"spec": {"selector": {"matchLabels": {"app": "a", "tier": "t"}}, "replicas": 3}});
    let narrowed = json!({"spec": {"selector": {"matchLabels": {"app": "a"}}, "replicas": 3}});
    assert_eq!(atomic_changed(&owned, &narrowed, &live), ["spec.selector"]);
    assert!(atomic_changed(&owned, &live, &live).is_empty());
    let scalar_only =
        json!({"spec": {"selector": {"matchLabels": {"app": "a", "tier": "t"}}, "replicas": 5}});
    assert!(
        atomic_changed(&owned, &scalar_only, &live).is_empty(),
        "scalars are the subset check's business"
    );
}
