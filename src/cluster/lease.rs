//! Reading and writing Leases (the leader Lease, and the shard and replica Leases of
//! `--shards`) (coordination.k8s.io/v1). Writes carry the
//! resourceVersion read, so two contenders can never both win (the loser gets 409 Conflict,
//! returned here as `Ok(None)`). What the Lease means is decided in [`super::leader`].

use k8s_openapi::api::coordination::v1::Lease;
use kube::api::{Api, DeleteParams, ListParams, PostParams, Preconditions};

use super::{Cluster, ClusterError};

impl Cluster {
    fn leases(&self, namespace: &str) -> Api<Lease> {
        Api::namespaced(self.client.clone(), namespace)
    }

    /// Reads the Lease `namespace/name`; `Ok(None)` when it does not exist.
    pub(crate) async fn get_lease(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Lease>, ClusterError> {
        self.counters.read();
        self.leases(namespace)
            .get_opt(name)
            .await
            .map_err(|e| ClusterError::from_kube(format!("reading lease {namespace}/{name}"), e))
    }

    /// Creates a Lease; `Ok(None)` when one of that name appeared meanwhile.
    pub(crate) async fn create_lease(
        &self,
        namespace: &str,
        lease: &Lease,
    ) -> Result<Option<Lease>, ClusterError> {
        self.counters.write();
        let name = lease.metadata.name.clone().unwrap_or_default();
        match self
            .leases(namespace)
            .create(&PostParams::default(), lease)
            .await
        {
            Ok(created) => Ok(Some(created)),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(None),
            Err(e) => Err(ClusterError::from_kube(
                format!("creating lease {namespace}/{name}"),
                e,
            )),
        }
    }

    /// Replaces a Lease read earlier (its resourceVersion is the precondition); `Ok(None)`
    /// when it changed meanwhile.
    pub(crate) async fn replace_lease(
        &self,
        namespace: &str,
        lease: &Lease,
    ) -> Result<Option<Lease>, ClusterError> {
        self.counters.write();
        let name = lease.metadata.name.clone().unwrap_or_default();
        match self
            .leases(namespace)
            .replace(&name, &PostParams::default(), lease)
            .await
        {
            Ok(replaced) => Ok(Some(replaced)),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(None),
            Err(e) => Err(ClusterError::from_kube(
                format!("renewing lease {namespace}/{name}"),
                e,
            )),
        }
    }

    /// Lists the Leases of `namespace` matching the label `selector`.
    pub(crate) async fn list_leases(
        &self,
        namespace: &str,
        selector: &str,
    ) -> Result<Vec<Lease>, ClusterError> {
        self.counters.read();
        self.leases(namespace)
            .list(&ListParams::default().labels(selector))
            .await
            .map(|list| list.items)
            .map_err(|e| {
                ClusterError::from_kube(format!("listing leases in {namespace} with {selector}"), e)
            })
    }

    /// Deletes the Lease `namespace/name` if it still has `resource_version`; `Ok(false)` when
    /// it changed meanwhile or is already gone.
    pub(crate) async fn delete_lease_if(
        &self,
        namespace: &str,
        name: &str,
        resource_version: &str,
    ) -> Result<bool, ClusterError> {
        self.counters.write();
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                resource_version: Some(resource_version.to_string()),
                uid: None,
            }),
            ..Default::default()
        };
        match self.leases(namespace).delete(name, &params).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => Ok(false),
            Err(e) => Err(ClusterError::from_kube(
                format!("deleting lease {namespace}/{name}"),
                e,
            )),
        }
    }
}
