//! Discovery: which group/version/kinds the server serves, and whether they are namespaced.
//! One request per group/version, cached for the life of the [`Cluster`] handle. A miss (group
//! or kind not served) is re-checked after [`MISS_TTL`], so a long-running `ferry serve` sees
//! CRDs installed after it started.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use kube::discovery::ApiResource;
use tokio::sync::Mutex;

use super::{Cluster, ClusterError};
use crate::manifest::Gvk;

/// A kind the server serves.
#[derive(Debug, Clone)]
pub struct ServedKind {
    /// The resource as kube addresses it (group, version, kind, plural).
    pub resource: ApiResource,
    /// True for namespaced kinds.
    pub namespaced: bool,
}

impl ServedKind {
    /// A served kind from its parts, as discovery reports it (plan fixtures build them too).
    pub fn new(gvk: &Gvk, plural: &str, namespaced: bool) -> ServedKind {
        ServedKind {
            resource: ApiResource {
                group: gvk.group.clone(),
                version: gvk.version.clone(),
                api_version: gvk.api_version(),
                kind: gvk.kind.clone(),
                plural: plural.to_string(),
            },
            namespaced,
        }
    }
}

/// How long a lookup that found nothing is trusted before discovery is asked again.
pub const MISS_TTL: Duration = Duration::from_secs(10);

/// kind → served kind, per "group/version" (`None` when the group/version is not served), with
/// when it was fetched.
type GroupVersionKinds = (Instant, Option<HashMap<String, ServedKind>>);

/// The discovery cache of one [`Cluster`] handle.
#[derive(Default)]
pub(crate) struct DiscoveryCache {
    by_group_version: Mutex<HashMap<String, GroupVersionKinds>>,
}

impl Cluster {
    /// Looks up a kind; `Ok(None)` when the server does not serve it.
    pub async fn served_kind(
        &self,
        group: &str,
        version: &str,
        kind: &str,
    ) -> Result<Option<ServedKind>, ClusterError> {
        self.lookup(group, version, kind, MISS_TTL).await
    }

    /// Like [`Cluster::served_kind`], but a miss is always re-checked with the server (used
    /// right after a CustomResourceDefinition was applied).
    pub async fn served_kind_now(
        &self,
        group: &str,
        version: &str,
        kind: &str,
    ) -> Result<Option<ServedKind>, ClusterError> {
        self.lookup(group, version, kind, Duration::ZERO).await
    }

    async fn lookup(
        &self,
        group: &str,
        version: &str,
        kind: &str,
        miss_ttl: Duration,
    ) -> Result<Option<ServedKind>, ClusterError> {
        let api_version = &if group.is_empty() {
            version.to_string()
        } else {
            format!("{group}/{version}")
        };
        let mut cache = self.discovery.by_group_version.lock().await;
        let found = |cache: &HashMap<String, GroupVersionKinds>| {
            cache
                .get(api_version)
                .and_then(|(_, kinds)| kinds.as_ref())
                .and_then(|kinds| kinds.get(kind))
                .cloned()
        };
        if let Some(served) = found(&cache) {
            return Ok(Some(served));
        }
        let fresh = cache
            .get(api_version)
            .is_some_and(|(at, _)| at.elapsed() < miss_ttl);
        if !fresh {
            let kinds = self
                .fetch_group_version(group, version, api_version)
                .await?;
            cache.insert(api_version.clone(), (Instant::now(), kinds));
        }
        Ok(found(&cache))
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
