//! Discovery: which group/version/kinds the server serves, and whether they are namespaced.
//! One request per group/version, cached for the life of the [`Cluster`] handle.

use std::collections::HashMap;

use kube::discovery::ApiResource;
use tokio::sync::Mutex;

use super::{Cluster, ClusterError};

/// A kind the server serves.
#[derive(Debug, Clone)]
pub struct ServedKind {
    /// The resource as kube addresses it (group, version, kind, plural).
    pub resource: ApiResource,
    /// True for namespaced kinds.
    pub namespaced: bool,
}

/// kind → served kind, per "group/version"; `None` when the group/version is not served.
#[derive(Default)]
pub(crate) struct DiscoveryCache {
    by_group_version: Mutex<HashMap<String, Option<HashMap<String, ServedKind>>>>,
}

impl Cluster {
    /// Looks up a kind; `Ok(None)` when the server does not serve it.
    pub async fn served_kind(
        &self,
        group: &str,
        version: &str,
        kind: &str,
    ) -> Result<Option<ServedKind>, ClusterError> {
        let api_version = if group.is_empty() {
            version.to_string()
        } else {
            format!("{group}/{version}")
        };
        let mut cache = self.discovery.by_group_version.lock().await;
        if !cache.contains_key(&api_version) {
            let kinds = self
                .fetch_group_version(group, version, &api_version)
                .await?;
            cache.insert(api_version.clone(), kinds);
        }
        Ok(cache
            .get(&api_version)
            .and_then(|kinds| kinds.as_ref())
            .and_then(|kinds| kinds.get(kind))
            .cloned())
    }

    async fn fetch_group_version(
        &self,
        group: &str,
        version: &str,
        api_version: &str,
    ) -> Result<Option<HashMap<String, ServedKind>>, ClusterError> {
        self.counters.read();
        let action = format!("discovering {api_version}");
        let result = if group.is_empty() {
            self.client.list_core_api_resources(version).await
        } else {
            self.client.list_api_group_resources(api_version).await
        };
        let list = match result {
            Ok(list) => list,
            Err(kube::Error::Api(status)) if status.code == 404 => return Ok(None),
            Err(e) => return Err(ClusterError::from_kube(action, e)),
        };
        let mut kinds = HashMap::new();
        for r in list.resources {
            // Subresources (pods/status, deployments/scale) are not kinds you write directly.
            if r.name.contains('/') {
                continue;
            }
            kinds.insert(
                r.kind.clone(),
                ServedKind {
                    resource: ApiResource {
                        group: group.to_string(),
                        version: version.to_string(),
                        api_version: api_version.to_string(),
                        kind: r.kind.clone(),
                        plural: r.name.clone(),
                    },
                    namespaced: r.namespaced,
                },
            );
        }
        Ok(Some(kinds))
    }
}
