//! The live-object trigger: watches the objects an app manages and asks for a drift check
//! when someone other than ferry changes or deletes one, instead of waiting for the next poll.
//!
//! One metadata-only watch per kind for the whole install, not per app (1,000 apps with 4
//! kinds are 4 watches): the kinds are the union of every app's inventory (read with one list
//! at start; after a sync, the kinds that sync left in the record), filtered by ferry's labels
//! (`app.kubernetes.io/managed-by=ferry,ferry.dev/app,ferry.dev/install=<ferry namespace>`),
//! so only this install's objects are watched, never the whole cluster. Events go to the app
//! named by the object's `ferry.dev/app` label ([`LiveDispatch`]). What counts as a change ([`LiveTracker`]):
//!
//! - an object's fingerprint moved (spec, labels or annotations for kinds with a generation;
//!   any write for ConfigMaps, Secrets, Services…) and the newest `managedFields` entry is not
//!   ferry's own (status writes by controllers and ferry's applies are not drift);
//! - an object was deleted, or vanished while the watch was reconnecting (ferry's own prunes
//!   and Job recreations included: the drift check that follows finds nothing).
//!
//! A change made while a sync runs is not dropped: the check runs right after that sync.
//!
//! Changes are debounced per app (one drift check for a burst), and the single-flight app loop
//! coalesces them with every other trigger. A kind's watch starts when an app's sync adds the
//! first object of that kind and stops when no app has one any more.
//!
//! The watch also records since when each kind has been seen without a gap
//! ([`LiveCoverage`]): a poll of an app whose kinds are all covered since its last clean
//! drift check skips planning against the cluster (see `reconcile::attempt`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::{self, StreamExt};
use futures::FutureExt;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::live_coverage::LiveCoverage;
pub use super::live_dispatch::LiveDispatch;
pub use super::live_tracker::LiveTracker;
use super::SyncRequests;
use crate::cluster::{
    Cluster, ClusterError, LiveEvent, APP_LABEL, INSTALL_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE,
};
use crate::manifest::Gvk;
use crate::trigger::TriggerKind;

/// Retry delay when the app's inventory cannot be read.
const INVENTORY_RETRY: Duration = Duration::from_secs(10);

/// Settings of the live-object trigger.
#[derive(Debug, Clone)]
pub struct LiveWatchSettings {
    /// ferry's namespace (where the app's inventory record is).
    pub ferry_namespace: String,
    /// Quiet time after a change before the drift check is requested.
    pub debounce: Duration,
}

/// The live-object trigger of every app of one install: register each app's mailbox, then
/// [`spawn`](Self::spawn) it once.
pub struct SharedLiveWatch {
    cluster: Cluster,
    settings: LiveWatchSettings,
    apps: BTreeMap<String, SyncRequests>,
    coverage: LiveCoverage,
}

impl SharedLiveWatch {
    /// A shared watch with no app yet.
    pub fn new(cluster: Cluster, settings: LiveWatchSettings) -> SharedLiveWatch {
        SharedLiveWatch {
            cluster,
            settings,
            apps: BTreeMap::new(),
            coverage: LiveCoverage::new(),
        }
    }

    /// Since when each kind has been watched without a gap; the app loops read it.
    pub fn coverage(&self) -> LiveCoverage {
        self.coverage.clone()
    }

    /// Adds an app: its objects' changes become drift requests in `app`.
    pub fn register(&mut self, app: SyncRequests) {
        self.apps.insert(app.app().to_owned(), app);
    }

    /// Starts watching once `start` turns true (leader election); runs until `shutdown` turns
    /// true.
    pub fn spawn(self, mut start: watch::Receiver<bool>, mut shutdown: watch::Receiver<bool>) {
        tokio::spawn(async move {
            tokio::select! {
                _ = start.wait_for(|go| *go) => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
            tokio::select! {
                () = run(&self) => {}
                _ = shutdown.wait_for(|stop| *stop) => {}
            }
        });
    }
}

/// The metadata watches this process holds now (one per watched kind), for `/metrics`.
pub fn live_watches() -> usize {
    LIVE_WATCHES.load(Ordering::Relaxed)
}

static LIVE_WATCHES: AtomicUsize = AtomicUsize::new(0);

/// Counts one running watch while it lives.
struct Counted;

impl Counted {
    fn new() -> Counted {
        LIVE_WATCHES.fetch_add(1, Ordering::Relaxed);
        Counted
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        LIVE_WATCHES.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A running kind watch, stopped when dropped; `generation` tells its events from those of
/// an earlier watch of the same kind still in the channel.
struct KindWatch {
    generation: u64,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for KindWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Event = (Gvk, u64, Result<LiveEvent, ClusterError>);

/// The watches of every kind any app has, and the apps' kinds they come from.
struct Watches<'a> {
    shared: &'a SharedLiveWatch,
    selector: String,
    kinds_by_app: BTreeMap<String, BTreeSet<Gvk>>,
    running: BTreeMap<Gvk, KindWatch>,
    generation: u64,
    events: mpsc::Sender<Event>,
}

impl Watches<'_> {
    /// Starts the watches of kinds some app has and stops those no app has any more.
    async fn update(&mut self, dispatch: &mut LiveDispatch) {
        let union: BTreeSet<Gvk> = self.kinds_by_app.values().flatten().cloned().collect();
        let gone: Vec<Gvk> = self
            .running
            .keys()
            .filter(|k| !union.contains(*k))
            .cloned()
            .collect();
        for kind in gone {
            self.running.remove(&kind);
            self.shared.coverage.stopped(&kind);
            dispatch.forget_kind(&kind);
        }
        let new: Vec<Gvk> = union
            .into_iter()
            .filter(|k| !self.running.contains_key(k))
            .collect();
        for gvk in &new {
            let cluster = &self.shared.cluster;
            let served = match cluster
                .served_kind(&gvk.group, &gvk.version, &gvk.kind)
                .await
            {
                Ok(Some(served)) => served,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(kind = %gvk.kind, error = %e, "live watch: discovery failed");
                    continue;
                }
            };
            self.generation += 1;
            let generation = self.generation;
            dispatch.reset_kind(gvk);
            self.shared.coverage.started(gvk);
            let mut stream = cluster.watch_labelled(&served, &self.selector);
            let (tx, kind) = (self.events.clone(), gvk.clone());
            let task = tokio::spawn(async move {
                let _counted = Counted::new();
                while let Some(event) = stream.next().await {
                    if tx.send((kind.clone(), generation, event)).await.is_err() {
                        return;
                    }
                }
            });
            self.running
                .insert(gvk.clone(), KindWatch { generation, task });
        }
        tracing::debug!(
            kinds = self.running.len(),
            apps = self.kinds_by_app.len(),
            "watching managed objects"
        );
    }

    /// Reads the kinds of `apps`: one read each for a few, one list for many.
    fn read(&self, apps: Vec<String>) -> BoxFuture<'static, Vec<(String, BTreeSet<Gvk>)>> {
        let cluster = self.shared.cluster.clone();
        let namespace = self.shared.settings.ferry_namespace.clone();
        async move {
            loop {
                let read = if let [app] = &apps[..] {
                    cluster
                        .inventory_kinds(&namespace, app)
                        .await
                        .map(|kinds| vec![(app.clone(), kinds)])
                } else {
                    cluster.inventories(&namespace).await.map(|mut all| {
                        apps.iter()
                            .map(|app| (app.clone(), all.remove(app).unwrap_or_default().kinds))
                            .collect()
                    })
                };
                match read {
                    Ok(kinds) => return kinds,
                    Err(e) => {
                        tracing::warn!(apps = apps.len(), error = %e, "live watch: cannot read inventories");
                        tokio::time::sleep(INVENTORY_RETRY).await;
                    }
                }
            }
        }
        .boxed()
    }
}

async fn run(shared: &SharedLiveWatch) {
    let (events, mut received) = mpsc::channel::<Event>(1024);
    let namespace = &shared.settings.ferry_namespace;
    let mut watches = Watches {
        shared,
        selector: format!(
            "{MANAGED_BY_LABEL}={MANAGED_BY_VALUE},{APP_LABEL},{INSTALL_LABEL}={namespace}"
        ),
        kinds_by_app: BTreeMap::new(),
        running: BTreeMap::new(),
        generation: 0,
        events,
    };
    let mut dispatch = LiveDispatch::new(shared.apps.keys().cloned(), shared.settings.debounce);
    // Every app's kinds with one list of the inventory records.
    let apps: Vec<String> = shared.apps.keys().cloned().collect();
    watches.kinds_by_app = watches.read(apps).await.into_iter().collect();
    watches.update(&mut dispatch).await;
    let mut synced = stream::select_all(shared.apps.values().map(|app| {
        stream::unfold(app.clone(), |app| async move {
            let kinds = app.synced().await;
            Some(((app.app().to_owned(), kinds), app))
        })
        .boxed()
    }));
    loop {
        let due = dispatch.next_due();
        let deadline = due.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            Some((kind, generation, event)) = received.recv() => {
                if watches.running.get(&kind).map(|w| w.generation) != Some(generation) {
                    continue;
                }
                match event {
                    Ok(event) => {
                        tracing::trace!(kind = %kind.kind, event = ?event, "live event");
                        if matches!(event, LiveEvent::ListDone) {
                            shared.coverage.listed(&kind, Instant::now());
                        }
                        dispatch.observe(&kind, event, Instant::now());
                    }
                    Err(e) => {
                        shared.coverage.failed(&kind, Instant::now());
                        tracing::warn!(error = %e, "live watch error; retrying");
                    }
                }
            }
            () = tokio::time::sleep_until(deadline), if due.is_some() => {
                for (app, objects) in dispatch.take_due(Instant::now()) {
                    tracing::info!(app = %app, objects = ?objects, "managed objects changed outside ferry: checking drift");
                    if let Some(requests) = shared.apps.get(&app) {
                        requests.request(TriggerKind::Drift);
                    }
                }
            }
            Some((app, kinds)) = synced.next() => {
                // The app that synced may have gained or lost kinds: take what it recorded.
                if watches.kinds_by_app.get(&app) != Some(&kinds) {
                    watches.kinds_by_app.insert(app, kinds);
                    watches.update(&mut dispatch).await;
                }
            }
        }
    }
}
