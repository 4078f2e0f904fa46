use super::*;
use crate::manifest::{parse_bundle, Limits, SourceFile};

fn bundle(text: &str) -> Bundle {
    let file = SourceFile {
        path: "m.yaml".into(),
        contents: text.as_bytes().to_vec(),
    };
    parse_bundle(&[file], &Limits::default()).unwrap()
}

fn builtin(key: &ObjectKey) -> Option<Scope> {
    match (key.group.as_str(), key.version.as_str(), key.kind.as_str()) {
        ("", "v1", "Namespace") => Some(Scope::Cluster),
        ("rbac.authorization.k8s.io", "v1", "ClusterRole") => Some(Scope::Cluster),
        ("apiextensions.k8s.io", "v1", "CustomResourceDefinition") => Some(Scope::Cluster),
        ("", "v1", "ConfigMap") | ("apps", "v1", "DaemonSet") => Some(Scope::Namespaced),
        _ => None,
    }
}

fn problems(result: Result<Bundle, ManifestError>) -> Vec<String> {
    match result {
        Ok(_) => panic!("expected problems"),
        Err(e) => e
            .problems()
            .iter()
            .map(std::string::ToString::to_string)
            .collect(),
    }
}

#[test]
fn namespaced_objects_get_the_default_namespace() {
    let b = bundle(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n\
         apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d, namespace: logging}\n---\n\
         apiVersion: v1\nkind: Namespace\nmetadata: {name: logging}\n",
    );
    let b = resolve(b, &builtin, "apps").unwrap();
    let r = &b.resources;
    assert_eq!(r[0].key.namespace.as_deref(), Some("apps"));
    assert_eq!(r[0].object["metadata"]["namespace"], "apps");
    assert_eq!(r[0].key.to_string(), "ConfigMap apps/a");
    assert_eq!(r[1].key.namespace.as_deref(), Some("logging"));
    assert_eq!(r[1].object["metadata"]["namespace"], "logging");
    assert_eq!(r[2].key.namespace, None);
    assert!(r[2].object["metadata"].get("namespace").is_none());
    // An empty default means "default".
    let b = bundle("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n");
    assert_eq!(
        resolve(b, &builtin, "").unwrap().resources[0]
            .key
            .namespace
            .as_deref(),
        Some("default")
    );
}

#[test]
fn cluster_scoped_with_namespace_and_unknown_kinds() {
    let b = bundle(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: logging, namespace: x}\n---\n\
         apiVersion: apps/v1\nkind: DeploymentX\nmetadata: {name: d}\n---\n\
         apiVersion: apps/v2\nkind: DaemonSet\nmetadata: {name: d}\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r, namespace: \"\"}\n",
    );
    assert_eq!(
        problems(resolve(b, &builtin, "default")),
        [
            "m.yaml:1: Namespace is cluster-scoped; remove metadata.namespace",
            "m.yaml:5: apps/v1 DeploymentX is not served by the cluster (check apiVersion/kind)",
            "m.yaml:9: apps/v2 DaemonSet is not served by the cluster (check apiVersion/kind)",
        ]
    );
}

#[test]
fn duplicates_after_defaulting() {
    let b = bundle(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n\
         apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: apps}\n---\n\
         apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: other}\n",
    );
    assert_eq!(b.len(), 3);
    assert_eq!(
        problems(resolve(b, &builtin, "apps")),
        ["m.yaml:5: duplicate of ConfigMap apps/a first defined at m.yaml:1"]
    );
}

#[test]
fn custom_resources_of_a_bundled_crd() {
    let b = bundle(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n\
         metadata: {name: widgets.example.com}\n\
         spec:\n  group: example.com\n  scope: Namespaced\n  names: {kind: Widget, plural: widgets}\n\
         \x20 versions:\n  - {name: v1, served: true, storage: true}\n  - {name: v0, served: false}\n---\n\
         apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n---\n\
         apiVersion: example.com/v0\nkind: Widget\nmetadata: {name: old}\n",
    );
    assert_eq!(
        problems(resolve(b.clone(), &builtin, "apps")),
        ["m.yaml:16: example.com/v0 Widget is not served by the cluster (check apiVersion/kind)"]
    );
    let mut ok = b;
    ok.resources.pop();
    let r = resolve(ok, &builtin, "apps").unwrap();
    assert_eq!(r.resources[1].key.to_string(), "Widget apps/w");
    assert_eq!(r.resources[0].key.namespace, None);
}
