//! Applying discovery knowledge to a parsed bundle: scopes and namespaces.

use std::collections::HashMap;

use serde_json::Value;

use super::parse::identity;
use super::{Bundle, Gvk, ManifestError, ObjectKey, Problem, Resource, Scope};

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
        let scope = scope_of(&r.key).or_else(|| crds.get(&r.key.gvk()).copied());
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

/// Kind → scope for every served version of every CRD in the bundle.
pub fn kinds_defined_in_bundle(bundle: &Bundle) -> HashMap<Gvk, Scope> {
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
                out.insert(Gvk::new(group, name, kind), scope);
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "resolve_tests.rs"]
mod tests;
