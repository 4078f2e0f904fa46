//! ConfigMaps as ferry's own records (sync history) in ferry's namespace: list by label, read,
//! create (refusing to overwrite), overwrite with server-side apply, delete. Callers decide
//! names, labels and contents; nothing here knows what a record means.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};

use super::{Cluster, ClusterError, FIELD_MANAGER};

impl Cluster {
    fn config_maps(&self, namespace: &str) -> Api<ConfigMap> {
        Api::namespaced(self.client.clone(), namespace)
    }

    /// Lists the ConfigMaps of `namespace` that match the label `selector`. A namespace that
    /// does not exist has none (the API server answers with an empty list).
    pub async fn list_config_maps(
        &self,
        namespace: &str,
        selector: &str,
    ) -> Result<Vec<ConfigMap>, ClusterError> {
        self.counters.read();
        let list = self
            .config_maps(namespace)
            .list(&ListParams::default().labels(selector))
            .await
            .map_err(|e| {
                ClusterError::from_kube(
                    format!("listing configmaps in {namespace} with {selector}"),
                    e,
                )
            })?;
        Ok(list.items)
    }

    /// Reads one ConfigMap; `Ok(None)` when it (or its namespace) does not exist.
    pub async fn get_config_map(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<ConfigMap>, ClusterError> {
        self.counters.read();
        self.config_maps(namespace)
            .get_opt(name)
            .await
            .map_err(|e| {
                ClusterError::from_kube(format!("reading configmap {namespace}/{name}"), e)
            })
    }

    /// Creates a ConfigMap. Returns `Ok(false)` without writing when one of that name already
    /// exists (so concurrent writers never overwrite each other). A missing namespace is an
    /// `Api` error with code 404.
    pub async fn create_config_map(
        &self,
        namespace: &str,
        config_map: &ConfigMap,
    ) -> Result<bool, ClusterError> {
        self.counters.write();
        let name = config_map.metadata.name.clone().unwrap_or_default();
        match self
            .config_maps(namespace)
            .create(&PostParams::default(), config_map)
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
            Err(e) => Err(ClusterError::from_kube(
                format!("creating configmap {namespace}/{name}"),
                e,
            )),
        }
    }

    /// Creates or overwrites a ConfigMap with server-side apply (field manager `ferry`,
    /// forced). A missing namespace is an `Api` error with code 404.
    pub async fn apply_config_map(
        &self,
        namespace: &str,
        config_map: &ConfigMap,
    ) -> Result<(), ClusterError> {
        self.counters.write();
        let name = config_map.metadata.name.clone().unwrap_or_default();
        self.config_maps(namespace)
            .patch(
                &name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(config_map),
            )
            .await
            .map_err(|e| {
                ClusterError::from_kube(format!("writing configmap {namespace}/{name}"), e)
            })?;
        Ok(())
    }

    /// Sets one annotation of a ConfigMap with a merge patch (field manager `manager`), leaving
    /// everything else alone. Returns false when the ConfigMap does not exist.
    pub async fn annotate_config_map(
        &self,
        namespace: &str,
        name: &str,
        manager: &str,
        key: &str,
        value: &str,
    ) -> Result<bool, ClusterError> {
        self.counters.write();
        let patch = serde_json::json!({ "metadata": { "annotations": { key: value } } });
        let params = PatchParams {
            field_manager: Some(manager.to_string()),
            ..Default::default()
        };
        match self
            .config_maps(namespace)
            .patch(name, &params, &Patch::Merge(&patch))
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
            Err(e) => Err(ClusterError::from_kube(
                format!("annotating configmap {namespace}/{name}"),
                e,
            )),
        }
    }

    /// Deletes a ConfigMap; a missing one is not an error (returns false).
    pub async fn delete_config_map(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<bool, ClusterError> {
        self.counters.write();
        match self
            .config_maps(namespace)
            .delete(name, &DeleteParams::default())
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
            Err(e) => Err(ClusterError::from_kube(
                format!("deleting configmap {namespace}/{name}"),
                e,
            )),
        }
    }
}
