//! Reading pods and events of a workload (for rollout gates).
//!
//! Typed `k8s-openapi` requests, returned as JSON values so callers (the pure evaluators in
//! `rollout`) work on the same shapes `kubectl get -o json` prints.

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kube::api::{Api, DeleteParams, EvictParams, ListParams, Preconditions};
use serde::Serialize;
use serde_json::Value;

use super::{Cluster, ClusterError};

impl Cluster {
    /// Lists the pods of a namespace that match a label selector (`app=web,tier in (a,b)`).
    pub async fn list_pods(
        &self,
        namespace: &str,
        selector: &str,
    ) -> Result<Vec<Value>, ClusterError> {
        self.counters.read();
        let action = format!("listing pods in {namespace} with {selector}");
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let list = api
            .list(&ListParams::default().labels(selector))
            .await
            .map_err(|e| ClusterError::from_kube(&action, e))?;
        list.items.iter().map(|p| to_json(&action, p)).collect()
    }

    /// Lists the events about one object (field selector `involvedObject.uid`), oldest first as
    /// the server returns them.
    pub async fn list_events_for(
        &self,
        namespace: &str,
        involved_uid: &str,
    ) -> Result<Vec<Value>, ClusterError> {
        self.counters.read();
        let action = format!("listing events in {namespace} for object {involved_uid}");
        let api: Api<Event> = Api::namespaced(self.client.clone(), namespace);
        let list = api
            .list(&ListParams::default().fields(&format!("involvedObject.uid={involved_uid}")))
            .await
            .map_err(|e| ClusterError::from_kube(&action, e))?;
        list.items.iter().map(|e| to_json(&action, e)).collect()
    }

    /// Lists the events about objects of one kind and name (field selectors
    /// `involvedObject.kind` and `involvedObject.name`), for objects already deleted.
    pub async fn list_events_for_name(
        &self,
        namespace: &str,
        kind: &str,
        name: &str,
    ) -> Result<Vec<Value>, ClusterError> {
        self.counters.read();
        let action = format!("listing events in {namespace} for {kind} {name}");
        let api: Api<Event> = Api::namespaced(self.client.clone(), namespace);
        let fields = format!("involvedObject.kind={kind},involvedObject.name={name}");
        let list = api
            .list(&ListParams::default().fields(&fields))
            .await
            .map_err(|e| ClusterError::from_kube(&action, e))?;
        list.items.iter().map(|e| to_json(&action, e)).collect()
    }

    /// Lists the ControllerRevisions of a namespace that match a label selector (a DaemonSet's
    /// or StatefulSet's own selector finds its revisions: they carry the template's labels).
    pub async fn list_controller_revisions(
        &self,
        namespace: &str,
        selector: &str,
    ) -> Result<Vec<Value>, ClusterError> {
        self.counters.read();
        let action = format!("listing controllerrevisions in {namespace} with {selector}");
        let api: Api<ControllerRevision> = Api::namespaced(self.client.clone(), namespace);
        let list = api
            .list(&ListParams::default().labels(selector))
            .await
            .map_err(|e| ClusterError::from_kube(&action, e))?;
        list.items.iter().map(|r| to_json(&action, r)).collect()
    }

    /// Deletes one pod (its controller replaces it). With `uid`, only that incarnation of the
    /// pod is deleted (a StatefulSet's replacement keeps the name). A missing pod, or one whose
    /// uid no longer matches, is not an error: returns false.
    pub async fn delete_pod(
        &self,
        namespace: &str,
        name: &str,
        uid: Option<&str>,
    ) -> Result<bool, ClusterError> {
        self.counters.write();
        let action = format!("deleting pod {namespace}/{name}");
        let params = DeleteParams {
            preconditions: uid.map(|uid| Preconditions {
                uid: Some(uid.to_string()),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        match api.delete(name, &params).await {
            Ok(_) => Ok(true),
            // 404: already gone; 409: the uid precondition failed (already replaced).
            Err(kube::Error::Api(status)) if status.code == 404 || status.code == 409 => Ok(false),
            Err(e) => Err(ClusterError::from_kube(action, e)),
        }
    }
}

/// How an eviction request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Eviction {
    /// The pod is being deleted (its grace period runs).
    Evicted,
    /// The API server refused for now (429): a PodDisruptionBudget forbids it; its message.
    Blocked(String),
    /// The pod (that incarnation of it) no longer exists.
    Gone,
}

impl Cluster {
    /// Evicts one pod through the Eviction API, so PodDisruptionBudgets are honoured; with
    /// `uid`, only that incarnation.
    pub async fn evict_pod(
        &self,
        namespace: &str,
        name: &str,
        uid: Option<&str>,
    ) -> Result<Eviction, ClusterError> {
        self.counters.write();
        let action = format!("evicting pod {namespace}/{name}");
        let params = EvictParams {
            delete_options: Some(DeleteParams {
                preconditions: uid.map(|uid| Preconditions {
                    uid: Some(uid.to_string()),
                    resource_version: None,
                }),
                ..DeleteParams::default()
            }),
            ..EvictParams::default()
        };
        let api: Api<Pod> = Api::namespaced(self.answer_429.clone(), namespace);
        match api.evict(name, &params).await {
            Ok(_) => Ok(Eviction::Evicted),
            Err(kube::Error::Api(status)) if status.code == 429 => {
                Ok(Eviction::Blocked(status.message.clone()))
            }
            // 404: already gone; 409: the uid precondition failed (already replaced).
            Err(kube::Error::Api(status)) if status.code == 404 || status.code == 409 => {
                Ok(Eviction::Gone)
            }
            Err(e) => Err(ClusterError::from_kube(action, e)),
        }
    }

    /// The names of the nodes matching a label selector, sorted.
    pub async fn node_names(&self, selector: &str) -> Result<Vec<String>, ClusterError> {
        self.counters.read();
        let action = format!("listing nodes with {selector}");
        let api: Api<Node> = Api::all(self.client.clone());
        let list = api
            .list(&ListParams::default().labels(selector))
            .await
            .map_err(|e| ClusterError::from_kube(&action, e))?;
        let mut names: Vec<String> = list
            .items
            .into_iter()
            .filter_map(|n| n.metadata.name)
            .collect();
        names.sort();
        Ok(names)
    }
}

fn to_json<T: Serialize>(action: &str, object: &T) -> Result<Value, ClusterError> {
    serde_json::to_value(object).map_err(|source| ClusterError::Decode {
        action: action.to_string(),
        source,
    })
}
