//! Watching the objects of one kind that carry a label selector, metadata only.
//!
//! Drift detection needs to know *that* a managed object changed, not its contents: a metadata
//! watch (`PartialObjectMetadata`) is a fraction of the traffic and memory of a full watch, and
//! a label selector keeps it to ferry's own objects instead of the whole cluster.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use futures::stream::BoxStream;
use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DynamicObject};
use kube::core::PartialObjectMeta;
use kube::runtime::watcher::{self, watcher, Event};
use kube::runtime::WatchStreamExt;

use super::{Cluster, ClusterError, ServedKind};

/// One object as a watch saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenObject {
    /// `Kind ns/name` (or `Kind name` when cluster-scoped).
    pub object: String,
    /// `metadata.uid`.
    pub uid: String,
    /// The value of the object's app label ([`super::APP_LABEL`]), when it has one: which
    /// app a watch shared by every app dispatches the event to.
    pub app: Option<String>,
    /// Changes whenever the object changes in a way that can be drift: for kinds with
    /// `metadata.generation` (bumped by spec changes) a hash of generation, labels and
    /// annotations, so status-only writes by controllers keep it; for kinds without one
    /// (ConfigMap, Secret, Service…) the resourceVersion.
    pub fingerprint: u64,
    /// The field managers of the most recent write (the newest `managedFields` entries).
    pub last_writers: Vec<String>,
}

/// What a label-filtered watch reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveEvent {
    /// A (re)list starts: the objects that follow as [`LiveEvent::Listed`] are the complete
    /// current set once [`LiveEvent::ListDone`] arrives.
    Relisting,
    /// An object present during a (re)list.
    Listed(SeenObject),
    /// The (re)list is complete; objects not listed since [`LiveEvent::Relisting`] are gone.
    ListDone,
    /// An object was created or modified.
    Changed(SeenObject),
    /// An object was deleted.
    Deleted(SeenObject),
}

impl Cluster {
    /// Watches the metadata of every `kind` object (all namespaces) matching `selector`.
    /// The stream never ends on its own: after an error (reported as an item) it retries
    /// with the watcher's default backoff, re-listing when the server asks for it.
    pub fn watch_labelled(
        &self,
        kind: &ServedKind,
        selector: &str,
    ) -> BoxStream<'static, Result<LiveEvent, ClusterError>> {
        // PartialObjectMeta makes every list and watch a metadata-only request.
        let api =
            Api::<PartialObjectMeta<DynamicObject>>::all_with(self.client.clone(), &kind.resource);
        let kind_name = kind.resource.kind.clone();
        let action = format!("watching {} with {selector}", kind.resource.plural);
        let config = watcher::Config::default().labels(selector);
        watcher(api, config)
            .default_backoff()
            .map(move |event| {
                let seen = |meta: &ObjectMeta| seen_object(&kind_name, meta);
                match event {
                    Ok(Event::Init) => Ok(LiveEvent::Relisting),
                    Ok(Event::InitApply(o)) => Ok(LiveEvent::Listed(seen(&o.metadata))),
                    Ok(Event::InitDone) => Ok(LiveEvent::ListDone),
                    Ok(Event::Apply(o)) => Ok(LiveEvent::Changed(seen(&o.metadata))),
                    Ok(Event::Delete(o)) => Ok(LiveEvent::Deleted(seen(&o.metadata))),
                    Err(source) => Err(ClusterError::Watch {
                        action: action.clone(),
                        source,
                    }),
                }
            })
            .boxed()
    }
}

fn seen_object(kind: &str, meta: &ObjectMeta) -> SeenObject {
    let name = meta.name.as_deref().unwrap_or_default();
    let object = super::objects::object_name(kind, meta.namespace.as_deref(), name);
    SeenObject {
        object,
        uid: meta.uid.clone().unwrap_or_default(),
        app: meta
            .labels
            .as_ref()
            .and_then(|labels| labels.get(super::APP_LABEL))
            .cloned(),
        fingerprint: fingerprint(meta),
        last_writers: last_writers(meta),
    }
}

/// See [`SeenObject::fingerprint`].
pub fn fingerprint(meta: &ObjectMeta) -> u64 {
    let mut hasher = DefaultHasher::new();
    match meta.generation {
        Some(generation) => {
            generation.hash(&mut hasher);
            meta.labels.hash(&mut hasher);
            meta.annotations.hash(&mut hasher);
        }
        None => meta.resource_version.hash(&mut hasher),
    }
    hasher.finish()
}

/// The managers of the `managedFields` entries with the newest timestamp (second precision,
/// so a write and a controller's status update in the same second both count).
pub fn last_writers(meta: &ObjectMeta) -> Vec<String> {
    let entries = meta.managed_fields.as_deref().unwrap_or_default();
    let newest = entries.iter().filter_map(|e| e.time.as_ref()).max();
    let mut writers: Vec<String> = entries
        .iter()
        .filter(|e| e.time.as_ref() == newest)
        .filter_map(|e| e.manager.clone())
        .collect();
    writers.sort();
    writers.dedup();
    writers
}

#[cfg(test)]
#[path = "watch_tests.rs"]
mod tests;
