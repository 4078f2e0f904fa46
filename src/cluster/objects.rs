//! Reading and writing objects: get, list by label, server-side apply (real or dry-run), delete.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, Preconditions};
use serde_json::Value;

use super::{Cluster, ClusterError, ServedKind, FIELD_MANAGER};

/// How many API calls of each sort went through one [`Cluster`] handle.
#[derive(Debug, Default)]
pub struct ApiCounters {
    reads: AtomicU64,
    dry_runs: AtomicU64,
    writes: AtomicU64,
}

impl ApiCounters {
    pub(crate) fn read(&self) {
        self.reads.fetch_add(1, Ordering::Relaxed);
    }
    fn dry_run(&self) {
        self.dry_runs.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn write(&self) {
        self.writes.fetch_add(1, Ordering::Relaxed);
    }
    /// GET/LIST and discovery requests.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }
    /// Server-side dry-run applies.
    pub fn dry_runs(&self) -> u64 {
        self.dry_runs.load(Ordering::Relaxed)
    }
    /// Requests that change cluster state (apply, delete).
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }
}

/// What a delete of one exact object found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// The object was deleted.
    Deleted,
    /// It was already gone.
    Gone,
    /// An object of that name exists but is not the one read (its uid differs: it was
    /// deleted and created again since); it was left alone.
    Replaced,
}

/// How a delete cascades to dependents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// Dependents are deleted first; the object disappears last (used to recreate Jobs).
    Foreground,
    /// The object goes now; the garbage collector removes dependents afterwards.
    Background,
    /// The object goes once the garbage collector has removed its dependents' owner
    /// references; the dependents (a DaemonSet's pods) keep running, unowned.
    Orphan,
}

impl Propagation {
    fn params(self) -> DeleteParams {
        match self {
            Propagation::Foreground => DeleteParams::foreground(),
            Propagation::Background => DeleteParams::background(),
            Propagation::Orphan => DeleteParams::orphan(),
        }
    }
}

fn display(kind: &ServedKind, namespace: Option<&str>, name: &str) -> String {
    object_name(&kind.resource.kind, namespace, name)
}

/// `Kind ns/name` (`Kind name` when cluster-scoped): the same words as the manifest's
/// `ObjectKey` display, kept here because `cluster` imports no other stage.
pub(super) fn object_name(kind: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

impl Cluster {
    fn api(&self, kind: &ServedKind, namespace: Option<&str>) -> Api<DynamicObject> {
        match (kind.namespaced, namespace) {
            (true, Some(ns)) => Api::namespaced_with(self.client.clone(), ns, &kind.resource),
            _ => Api::all_with(self.client.clone(), &kind.resource),
        }
    }

    /// Reads one object; `Ok(None)` when it does not exist.
    pub async fn get(
        &self,
        kind: &ServedKind,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Value>, ClusterError> {
        self.counters.read();
        let action = format!("reading {}", display(kind, namespace, name));
        let found = self
            .api(kind, namespace)
            .get_opt(name)
            .await
            .map_err(|e| ClusterError::from_kube(&action, e))?;
        found.map(|o| to_value(kind, &action, &o)).transpose()
    }

    /// Lists all objects of a kind (in every namespace) that carry the label selector.
    pub async fn list_labelled(
        &self,
        kind: &ServedKind,
        selector: &str,
    ) -> Result<Vec<Value>, ClusterError> {
        self.counters.read();
        let action = format!("listing {} with {selector}", kind.resource.plural);
        let list = Api::<DynamicObject>::all_with(self.client.clone(), &kind.resource)
            .list(&ListParams::default().labels(selector))
            .await
            .map_err(|e| ClusterError::from_kube(&action, e))?;
        list.items
            .iter()
            .map(|o| to_value(kind, &action, o))
            .collect()
    }

    /// Server-side applies `object` as field manager `ferry`, taking ownership of conflicting
    /// fields (`force`). With `dry_run` nothing is persisted and the server returns the object
    /// as it would be after the apply (defaulted, validated, admitted).
    pub async fn apply(
        &self,
        kind: &ServedKind,
        namespace: Option<&str>,
        name: &str,
        object: &Value,
        dry_run: bool,
    ) -> Result<Value, ClusterError> {
        self.apply_as(FIELD_MANAGER, kind, namespace, name, object, dry_run)
            .await
    }

    /// [`Cluster::apply`] as another field manager (a staged rollout's hold is applied as
    /// its own manager, so it never shows as, or fights, what ferry applies from git).
    pub async fn apply_as(
        &self,
        manager: &str,
        kind: &ServedKind,
        namespace: Option<&str>,
        name: &str,
        object: &Value,
        dry_run: bool,
    ) -> Result<Value, ClusterError> {
        let mut params = PatchParams::apply(manager).force();
        if dry_run {
            params = params.dry_run();
            self.counters.dry_run();
        } else {
            self.counters.write();
        }
        let verb = if dry_run {
            "dry-run applying"
        } else {
            "applying"
        };
        let action = format!("{verb} {}", display(kind, namespace, name));
        let applied = self
            .api(kind, namespace)
            .patch(name, &params, &Patch::Apply(object))
            .await
            .map_err(|e| ClusterError::from_kube(&action, e))?;
        to_value(kind, &action, &applied)
    }

    /// Applies an object naming only itself as field manager `manager`: every field that
    /// manager held is released (removed where nobody else owns it, so the server's default
    /// or another manager's value applies).
    pub async fn release_fields(
        &self,
        manager: &str,
        kind: &ServedKind,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Value, ClusterError> {
        let mut metadata = serde_json::Map::new();
        metadata.insert("name".into(), Value::from(name));
        if let Some(ns) = namespace {
            metadata.insert("namespace".into(), Value::from(ns));
        }
        let empty = serde_json::json!({
            "apiVersion": kind.resource.api_version,
            "kind": kind.resource.kind,
            "metadata": metadata,
        });
        self.apply_as(manager, kind, namespace, name, &empty, false)
            .await
    }

    /// Deletes an object; a missing object is not an error (returns false).
    pub async fn delete(
        &self,
        kind: &ServedKind,
        namespace: Option<&str>,
        name: &str,
        propagation: Propagation,
    ) -> Result<bool, ClusterError> {
        self.counters.write();
        let params = propagation.params();
        let action = format!("deleting {}", display(kind, namespace, name));
        match self.api(kind, namespace).delete(name, &params).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
            Err(e) => Err(ClusterError::from_kube(action, e)),
        }
    }

    /// Deletes exactly the object with `uid` (a delete precondition): an object of the same
    /// name created since it was read is left alone and reported as [`DeleteOutcome::Replaced`].
    pub async fn delete_exact(
        &self,
        kind: &ServedKind,
        namespace: Option<&str>,
        name: &str,
        uid: &str,
        propagation: Propagation,
    ) -> Result<DeleteOutcome, ClusterError> {
        self.counters.write();
        let mut params = propagation.params();
        params.preconditions = Some(Preconditions {
            uid: Some(uid.to_string()),
            resource_version: None,
        });
        let action = format!("deleting {}", display(kind, namespace, name));
        match self.api(kind, namespace).delete(name, &params).await {
            Ok(_) => Ok(DeleteOutcome::Deleted),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(DeleteOutcome::Gone),
            // "Precondition failed: UID in precondition: …, UID in object meta: …"
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(DeleteOutcome::Replaced),
            Err(e) => Err(ClusterError::from_kube(action, e)),
        }
    }

    /// Waits until an object is gone (after a foreground delete), polling every 250 ms.
    pub async fn wait_gone(
        &self,
        kind: &ServedKind,
        namespace: Option<&str>,
        name: &str,
        timeout: Duration,
    ) -> Result<(), ClusterError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.get(kind, namespace, name).await?.is_none() {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ClusterError::Timeout {
                    waited_for: format!("{} to be deleted", display(kind, namespace, name)),
                    after: timeout,
                });
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// Serialises an object, filling in `apiVersion`/`kind`, which list responses leave out.
fn to_value(
    kind: &ServedKind,
    action: &str,
    object: &DynamicObject,
) -> Result<Value, ClusterError> {
    let mut value = serde_json::to_value(object).map_err(|source| ClusterError::Decode {
        action: action.to_string(),
        source,
    })?;
    if let Some(map) = value.as_object_mut() {
        map.entry("apiVersion")
            .or_insert_with(|| kind.resource.api_version.clone().into());
        map.entry("kind")
            .or_insert_with(|| kind.resource.kind.clone().into());
    }
    Ok(value)
}
