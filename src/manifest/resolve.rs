//! Applying discovery knowledge to a parsed bundle: scopes and namespaces.

use std::collections::HashMap;

use serde_json::Value;

use super::parse::identity;
use super::{Bundle, ManifestError, ObjectKey, Problem, Resource, Scope};

/// Resolves every resource's scope and namespace.
///
/// `scope_of` answers from discovery: `None` when the cluster does not serve that
/// group/version/kind. A kind the cluster does not serve yet but that a
/// `CustomResourceDefinition` of the same bundle defines (group, kind and a served version)
/// takes its scope from that CRD, so a commit can add a CRD and its first objects together.
///
/// Namespaced objects without a namespace get `default_namespace` (`"default"` when empty),
/// in the key and in `metadata.namespace`. Cluster-scoped objects must not set one. Duplicates
/// are checked again on the resolved identities. All problems are returned together.
pub fn resolve(
    bundle: Bundle,
    scope_of: &dyn Fn(&ObjectKey) -> Option<Scope>,
    default_namespace: &str,
) -> Result<Bundle, ManifestError> {
    let default_namespace = if default_namespace.is_empty() {
        "default"
    } else {
        default_namespace
    };
    let crds = kinds_defined_in_bundle(&bundle);
    let mut problems = Vec::new();
    let mut resources = Vec::with_capacity(bundle.resources.len());
    let mut seen = HashMap::new();
    for mut r in bundle.resources {
        let scope = scope_of(&r.key).or_else(|| {
            let gkv = (
                r.key.group.clone(),
                r.key.kind.clone(),
                r.key.version.clone(),
            );
            crds.get(&gkv).copied()
        });
        match scope {
            None => {
                problems.push(Problem::at(
                    &r.origin,
                    format!(
                        "{} {} is not served by the cluster (check apiVersion/kind)",
                        r.key.api_version(),
                        r.key.kind
                    ),
                ));
                continue;
            }
            Some(Scope::Namespaced) => {
                if r.key.namespace.is_none() {
                    r.key.namespace = Some(default_namespace.to_string());
                }
                if let Some(ns) = &r.key.namespace {
                    set_namespace(&mut r.object, Some(ns));
                }
            }
            Some(Scope::Cluster) => {
                if r.key.namespace.is_some() {
                    problems.push(Problem::at(
                        &r.origin,
                        format!(
                            "{} is cluster-scoped; remove metadata.namespace",
                            r.key.kind
                        ),
                    ));
                    continue;
                }
                set_namespace(&mut r.object, None);
            }
        }
        let id = identity(&r.key);
        if let Some(first) = seen.get(&id).and_then(|&i| resources.get(i)) {
            let first: &Resource = first;
            problems.push(Problem::at(
                &r.origin,
                format!(
                    "duplicate of {} first defined at {}",
                    first.key, first.origin
                ),
            ));
            continue;
        }
        seen.insert(id, resources.len());
        resources.push(r);
    }
    if problems.is_empty() {
        Ok(Bundle { resources })
    } else {
        Err(ManifestError::Invalid(problems))
    }
}

/// Sets `metadata.namespace`, or removes it (an empty or null one) when `ns` is `None`.
fn set_namespace(object: &mut Value, ns: Option<&str>) {
    let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    match ns {
        Some(ns) => {
            metadata.insert("namespace".into(), Value::String(ns.to_string()));
        }
        None => {
            metadata.remove("namespace");
        }
    }
}

/// (group, kind, version) → scope for every served version of every CRD in the bundle.
pub fn kinds_defined_in_bundle(bundle: &Bundle) -> HashMap<(String, String, String), Scope> {
    let mut out = HashMap::new();
    for r in &bundle.resources {
        if r.key.group != "apiextensions.k8s.io" || r.key.kind != "CustomResourceDefinition" {
            continue;
        }
        let spec = &r.object["spec"];
        let (Some(group), Some(kind)) = (spec["group"].as_str(), spec["names"]["kind"].as_str())
        else {
            continue;
        };
        let scope = match spec["scope"].as_str() {
            Some("Namespaced") => Scope::Namespaced,
            Some("Cluster") => Scope::Cluster,
            _ => continue,
        };
        for version in spec["versions"].as_array().into_iter().flatten() {
            if version["served"].as_bool() == Some(false) {
                continue;
            }
            if let Some(name) = version["name"].as_str() {
                out.insert((group.into(), kind.into(), name.into()), scope);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
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
            Err(e) => e.problems().iter().map(|p| p.to_string()).collect(),
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
}
