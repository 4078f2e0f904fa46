//! The app's inventory record: which kinds it has applied, so objects of a kind that is no
//! longer in git can still be found (by label) and pruned, and which source (repository and
//! path) the app comes from, so two apps that happen to get the same name are told apart. One
//! ConfigMap per app in ferry's namespace; written only when either changes.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ListParams, Patch, PatchParams};

use super::{Cluster, ClusterError, APP_LABEL, FIELD_MANAGER, MANAGED_BY_LABEL};
use crate::manifest::Gvk;

/// ferry's own namespace unless configured otherwise.
pub const DEFAULT_FERRY_NAMESPACE: &str = "ferry-system";
const DATA_KEY: &str = "kinds";
const SOURCE_KEY: &str = "source";

/// What the inventory ConfigMap of one app holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InventoryRecord {
    /// Kinds the app has objects of.
    pub kinds: BTreeSet<Gvk>,
    /// The app's source ("repository path"), absent in records written before ferry kept it.
    pub source: Option<String>,
}

/// The [`MANAGED_BY_LABEL`] value of inventory records.
const INVENTORY_MANAGER: &str = "ferry-system";

/// An inventory ConfigMap's data → the record.
fn parse_record(cm: ConfigMap) -> InventoryRecord {
    let data = cm.data.unwrap_or_default();
    let text = data.get(DATA_KEY).cloned().unwrap_or_default();
    let mut kinds = BTreeSet::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        // Not trim(): the core group is an empty first field.
        let parts: Vec<&str> = line.trim_end_matches('\r').split('\t').collect();
        if let [group, version, kind] = parts[..] {
            kinds.insert(Gvk::new(group, version, kind));
        }
    }
    InventoryRecord {
        kinds,
        source: data.get(SOURCE_KEY).cloned().filter(|s| !s.is_empty()),
    }
}

fn record_name(app: &str) -> String {
    format!("ferry-inventory-{app}")
}

impl Cluster {
    /// Reads the kinds recorded for `app`; empty when there is no record yet.
    pub async fn inventory_kinds(
        &self,
        ferry_namespace: &str,
        app: &str,
    ) -> Result<BTreeSet<Gvk>, ClusterError> {
        Ok(self
            .inventory(ferry_namespace, app)
            .await?
            .map(|record| record.kinds)
            .unwrap_or_default())
    }

    /// Reads every app's inventory record in `ferry_namespace` with one list (not one read
    /// per app), keyed by app name.
    pub async fn inventories(
        &self,
        ferry_namespace: &str,
    ) -> Result<BTreeMap<String, InventoryRecord>, ClusterError> {
        self.counters.read();
        let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), ferry_namespace);
        let selector = format!("{MANAGED_BY_LABEL}={INVENTORY_MANAGER},{APP_LABEL}");
        let list = api
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(|e| {
                ClusterError::from_kube(format!("listing inventories in {ferry_namespace}"), e)
            })?;
        let mut records = BTreeMap::new();
        for cm in list.items {
            let labels = cm.metadata.labels.clone().unwrap_or_default();
            let Some(app) = labels.get(APP_LABEL) else {
                continue;
            };
            // Only ferry's record of that app, not another ConfigMap carrying the labels.
            if cm.metadata.name.as_deref() != Some(record_name(app).as_str()) {
                continue;
            }
            records.insert(app.clone(), parse_record(cm));
        }
        Ok(records)
    }

    /// Reads `app`'s inventory record; `None` when there is none yet.
    pub async fn inventory(
        &self,
        ferry_namespace: &str,
        app: &str,
    ) -> Result<Option<InventoryRecord>, ClusterError> {
        self.counters.read();
        let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), ferry_namespace);
        let name = record_name(app);
        let found = api.get_opt(&name).await.map_err(|e| {
            ClusterError::from_kube(format!("reading inventory {ferry_namespace}/{name}"), e)
        })?;
        Ok(found.map(parse_record))
    }

    /// Records `app`'s inventory, creating ferry's namespace when the write finds it missing.
    pub async fn write_inventory(
        &self,
        ferry_namespace: &str,
        app: &str,
        record: &InventoryRecord,
    ) -> Result<(), ClusterError> {
        let text: String = record
            .kinds
            .iter()
            .map(|k| format!("{}\t{}\t{}\n", k.group, k.version, k.kind))
            .collect();
        let name = record_name(app);
        let body = serde_json::json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": name,
                "namespace": ferry_namespace,
                "labels": { MANAGED_BY_LABEL: INVENTORY_MANAGER, APP_LABEL: app },
            },
            "data": { DATA_KEY: text, SOURCE_KEY: record.source.clone().unwrap_or_default() },
        });
        let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), ferry_namespace);
        let write = || async {
            self.counters.write();
            api.patch(
                &name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(&body),
            )
            .await
            .map_err(|e| {
                ClusterError::from_kube(format!("writing inventory {ferry_namespace}/{name}"), e)
            })
        };
        // Write first and create the namespace only when the server says it is missing: one
        // request per write instead of a namespace read before every one.
        match write().await {
            Err(e) if e.code() == Some(404) => {
                self.ensure_namespace(ferry_namespace).await?;
                write().await?;
            }
            other => {
                other?;
            }
        }
        Ok(())
    }

    /// Creates a namespace if it does not exist (ferry's own bookkeeping namespace).
    pub async fn ensure_namespace(&self, name: &str) -> Result<(), ClusterError> {
        self.counters.read();
        let api: Api<Namespace> = Api::all(self.client.clone());
        let exists = api
            .get_opt(name)
            .await
            .map_err(|e| ClusterError::from_kube(format!("reading namespace {name}"), e))?
            .is_some();
        if exists {
            return Ok(());
        }
        self.counters.write();
        let body = serde_json::json!({
            "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": name }
        });
        api.patch(
            name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&body),
        )
        .await
        .map_err(|e| ClusterError::from_kube(format!("creating namespace {name}"), e))?;
        Ok(())
    }
}
