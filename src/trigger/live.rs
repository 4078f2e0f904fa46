//! The live-object trigger: watches the objects an app manages and asks for a drift check
//! when someone other than ferry changes or deletes one, instead of waiting for the next poll.
//!
//! One metadata-only watch per kind in the app's inventory, filtered by the app's inventory
//! labels (`app.kubernetes.io/managed-by=ferry,ferry.dev/app=<app>`), so only ferry's objects
//! are watched, never the whole cluster. What counts as a change ([`LiveTracker`]):
//!
//! - an object's fingerprint moved (spec, labels or annotations for kinds with a generation;
//!   any write for ConfigMaps, Secrets, Services…) and the newest `managedFields` entry is not
//!   ferry's own (status writes by controllers and ferry's applies are not drift);
//! - an object was deleted, or vanished while the watch was reconnecting (ferry's own prunes
//!   and Job recreations included: the drift check that follows finds nothing).
//!
//! A change made while a sync runs is not dropped: the check runs right after that sync.
//!
//! Changes are debounced (one drift check for a burst), and the single-flight app loop
//! coalesces them with every other trigger. The watches are rebuilt after a sync when the
//! app's set of kinds changed.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use futures::stream::{self, StreamExt};
use tokio::sync::watch;
use tokio::time::Instant;

use super::SyncRequests;
use crate::cluster::{Cluster, LiveEvent, SeenObject, ServedKind, FIELD_MANAGER};
use crate::manifest::Gvk;
use crate::plan::inventory_selector;
use crate::trigger::TriggerKind;

/// Retry delay when the app's inventory cannot be read.
const INVENTORY_RETRY: Duration = Duration::from_secs(10);

/// Decides, from one kind's watch events, which ones are changes someone else made.
#[derive(Debug, Default)]
pub struct LiveTracker {
    known: HashMap<String, u64>,
    relisted: Option<HashSet<String>>,
    listed_once: bool,
}

impl LiveTracker {
    /// Feeds one event; returns the objects it shows changed by someone else (usually none or
    /// one; a relist after a disconnect can report several).
    pub fn observe(&mut self, event: LiveEvent) -> Vec<String> {
        match event {
            LiveEvent::Relisting => {
                self.relisted = Some(HashSet::new());
                Vec::new()
            }
            LiveEvent::Listed(seen) => {
                if let Some(listed) = self.relisted.as_mut() {
                    listed.insert(seen.uid.clone());
                }
                let before = self.known.insert(seen.uid.clone(), seen.fingerprint);
                // Changed while the watch was down: the writer is no longer knowable.
                let changed = self.listed_once
                    && before != Some(seen.fingerprint)
                    && !written_by_ferry(&seen);
                if changed {
                    vec![seen.object]
                } else {
                    Vec::new()
                }
            }
            LiveEvent::ListDone => {
                let listed = self.relisted.take().unwrap_or_default();
                let gone = self.known.len() - listed.len().min(self.known.len());
                self.known.retain(|uid, _| listed.contains(uid));
                let first = !self.listed_once;
                self.listed_once = true;
                if first || gone == 0 {
                    Vec::new()
                } else {
                    vec![format!(
                        "{gone} object(s) deleted while the watch reconnected"
                    )]
                }
            }
            LiveEvent::Changed(seen) => {
                let before = self.known.insert(seen.uid.clone(), seen.fingerprint);
                if before != Some(seen.fingerprint) && !written_by_ferry(&seen) {
                    vec![seen.object]
                } else {
                    Vec::new()
                }
            }
            LiveEvent::Deleted(seen) => {
                self.known.remove(&seen.uid);
                vec![seen.object]
            }
        }
    }
}

fn written_by_ferry(seen: &SeenObject) -> bool {
    !seen.last_writers.is_empty() && seen.last_writers.iter().all(|w| w == FIELD_MANAGER)
}

/// Settings of the live-object trigger.
#[derive(Debug, Clone)]
pub struct LiveWatchSettings {
    /// ferry's namespace (where the app's inventory record is).
    pub ferry_namespace: String,
    /// Quiet time after a change before the drift check is requested.
    pub debounce: Duration,
}

/// Starts the live-object trigger of `app` once `start` turns true (leader election); it runs
/// until `shutdown` turns true.
pub fn spawn_live_watch(
    cluster: Cluster,
    app: SyncRequests,
    settings: LiveWatchSettings,
    mut start: watch::Receiver<bool>,
    mut shutdown: watch::Receiver<bool>,
) {
    tokio::spawn(async move {
        tokio::select! {
            _ = start.wait_for(|go| *go) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        tokio::select! {
            _ = run(&cluster, &app, &settings) => {}
            _ = shutdown.wait_for(|stop| *stop) => {}
        }
    });
}

async fn run(cluster: &Cluster, app: &SyncRequests, settings: &LiveWatchSettings) {
    let mut kinds = read_kinds(cluster, app, settings).await;
    loop {
        let mut served: Vec<ServedKind> = Vec::new();
        for gvk in &kinds {
            match cluster
                .served_kind(&gvk.group, &gvk.version, &gvk.kind)
                .await
            {
                Ok(Some(s)) => served.push(s),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(app = %app.app(), kind = %gvk.kind, error = %e, "live watch: discovery failed");
                }
            }
        }
        tracing::debug!(app = %app.app(), kinds = served.len(), "watching managed objects");
        kinds = watch_kinds(cluster, app, settings, &served, &kinds).await;
    }
}

async fn read_kinds(
    cluster: &Cluster,
    app: &SyncRequests,
    settings: &LiveWatchSettings,
) -> BTreeSet<Gvk> {
    loop {
        match cluster
            .inventory_kinds(&settings.ferry_namespace, app.app())
            .await
        {
            Ok(kinds) => return kinds,
            Err(e) => {
                tracing::warn!(app = %app.app(), error = %e, "live watch: cannot read the app's inventory");
                tokio::time::sleep(INVENTORY_RETRY).await;
            }
        }
    }
}

/// Watches `served` and requests drift checks; returns the app's new set of kinds once a
/// sync changed it.
async fn watch_kinds(
    cluster: &Cluster,
    app: &SyncRequests,
    settings: &LiveWatchSettings,
    served: &[ServedKind],
    kinds: &BTreeSet<Gvk>,
) -> BTreeSet<Gvk> {
    let selector = inventory_selector(app.app());
    let mut trackers: Vec<LiveTracker> = served.iter().map(|_| LiveTracker::default()).collect();
    let mut events = stream::select_all(served.iter().enumerate().map(|(i, kind)| {
        cluster
            .watch_labelled(kind, &selector)
            .map(move |event| (i, event))
    }));
    let mut due: Option<Instant> = None;
    let mut changed: BTreeSet<String> = BTreeSet::new();
    loop {
        let deadline = due.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            Some((i, event)) = events.next(), if !served.is_empty() => match event {
                Ok(event) => {
                    tracing::trace!(app = %app.app(), event = ?event, "live event");
                    let objects = trackers[i].observe(event);
                    if objects.is_empty() {
                        continue;
                    }
                    changed.extend(objects);
                    due.get_or_insert_with(|| Instant::now() + settings.debounce);
                }
                Err(e) => tracing::warn!(app = %app.app(), error = %e, "live watch error; retrying"),
            },
            _ = tokio::time::sleep_until(deadline), if due.is_some() => {
                due = None;
                let objects: Vec<String> = std::mem::take(&mut changed).into_iter().collect();
                tracing::info!(app = %app.app(), objects = ?objects, "managed objects changed outside ferry: checking drift");
                app.request(TriggerKind::Drift);
            }
            _ = app.synced() => {
                let now = read_kinds(cluster, app, settings).await;
                if now != *kinds {
                    return now;
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "live_tests.rs"]
mod tests;
