//! What lives in a namespace: every object of every listable namespaced kind, so a Namespace
//! is never pruned while it holds objects ferry does not manage (deleting a Namespace deletes
//! everything in it, PersistentVolumeClaims included).

use kube::api::{Api, DynamicObject, ListParams};
use kube::discovery::{verbs, Discovery, Scope};

use super::{Cluster, ClusterError, APP_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE};

/// Kinds whose objects are derived from others or are records, never anybody's data:
/// events, and the endpoints the control plane keeps for Services.
const DERIVED_KINDS: [(&str, &str); 4] = [
    ("", "Event"),
    ("events.k8s.io", "Event"),
    ("", "Endpoints"),
    ("discovery.k8s.io", "EndpointSlice"),
];

/// Objects Kubernetes creates in every namespace by itself.
const AUTOMATIC_OBJECTS: [(&str, &str); 2] = [
    ("ServiceAccount", "default"),
    ("ConfigMap", "kube-root-ca.crt"),
];

/// An object in a namespace that the asking app does not manage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resident {
    /// Its kind.
    pub kind: String,
    /// Its name.
    pub name: String,
}

impl std::fmt::Display for Resident {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind, self.name)
    }
}

impl Cluster {
    /// Up to `limit` objects in `namespace` that app `app` does not manage: not labelled for
    /// it, not owned by another object (those go with their owner), not created by Kubernetes
    /// in every namespace, and not events or endpoints. Lists every namespaced kind the
    /// server serves (one discovery pass and one LIST per kind): used only before pruning a
    /// Namespace.
    pub async fn foreign_residents(
        &self,
        namespace: &str,
        app: &str,
        limit: usize,
    ) -> Result<Vec<Resident>, ClusterError> {
        self.counters.read();
        let discovery = Discovery::new(self.client.clone())
            .run()
            .await
            .map_err(|e| ClusterError::from_kube("discovering every served kind", e))?;
        let mut found = Vec::new();
        for group in discovery.groups() {
            for (resource, caps) in group.recommended_resources() {
                let derived = DERIVED_KINDS
                    .iter()
                    .any(|(g, k)| *g == resource.group && *k == resource.kind);
                if caps.scope != Scope::Namespaced
                    || !caps.supports_operation(verbs::LIST)
                    || derived
                {
                    continue;
                }
                self.counters.read();
                let api: Api<DynamicObject> =
                    Api::namespaced_with(self.client.clone(), namespace, &resource);
                let list = match api.list(&ListParams::default()).await {
                    Ok(list) => list,
                    // Not allowed to look: ferry cannot prove the namespace holds nothing
                    // else, so it counts as holding something.
                    Err(kube::Error::Api(status)) if status.code == 403 => {
                        found.push(Resident {
                            kind: resource.kind.clone(),
                            name: "(any: ferry may not list them)".into(),
                        });
                        continue;
                    }
                    Err(e) => {
                        return Err(ClusterError::from_kube(
                            format!("listing {} in namespace {namespace}", resource.plural),
                            e,
                        ))
                    }
                };
                for object in list.items {
                    let meta = &object.metadata;
                    let labels = meta.labels.clone().unwrap_or_default();
                    let ours = labels.get(MANAGED_BY_LABEL).map(String::as_str)
                        == Some(MANAGED_BY_VALUE)
                        && labels.get(APP_LABEL).map(String::as_str) == Some(app);
                    let owned = meta
                        .owner_references
                        .as_ref()
                        .is_some_and(|o| !o.is_empty());
                    let name = meta.name.clone().unwrap_or_default();
                    let automatic = AUTOMATIC_OBJECTS
                        .iter()
                        .any(|(k, n)| *k == resource.kind && *n == name);
                    if !ours && !owned && !automatic {
                        found.push(Resident {
                            kind: resource.kind.clone(),
                            name,
                        });
                        if found.len() >= limit {
                            return Ok(found);
                        }
                    }
                }
            }
        }
        Ok(found)
    }
}
