//! One app's sync requests: what every trigger (poll timer, webhook, file watcher, live-object
//! watch, API) sends, and what the app's loop in `reconcile` takes. Triggers hold only this,
//! so the trigger stage never needs the loop that serves the requests.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use tokio::sync::futures::Notified;
use tokio::sync::Notify;

use super::{SyncTrigger, TriggerKind};
use crate::manifest::Gvk;

/// A cloneable sender and mailbox of one app's sync requests. Requests made while one is
/// pending coalesce into one; a routine request (poll, drift check) never replaces a more
/// specific pending one (a webhook, a manual sync), and a pending rollback is only replaced by
/// another rollback.
#[derive(Clone)]
pub struct SyncRequests {
    app: Arc<str>,
    pending: Arc<Mutex<Option<TriggerKind>>>,
    wake: Arc<Notify>,
    received: Arc<Mutex<BTreeMap<SyncTrigger, u64>>>,
    synced: Arc<Notify>,
    synced_kinds: Arc<Mutex<BTreeSet<Gvk>>>,
}

impl SyncRequests {
    /// A mailbox for `app`, holding `first` as its pending request (a new loop's first sync).
    pub fn new(app: &str, first: Option<TriggerKind>) -> SyncRequests {
        SyncRequests {
            app: Arc::from(app),
            pending: Arc::new(Mutex::new(first)),
            wake: Arc::new(Notify::new()),
            received: Arc::new(Mutex::new(BTreeMap::new())),
            synced: Arc::new(Notify::new()),
            synced_kinds: Arc::new(Mutex::new(BTreeSet::new())),
        }
    }

    /// The app the requests are for.
    pub fn app(&self) -> &str {
        &self.app
    }

    /// Asks for a sync and wakes the loop; counted by kind in [`received`](Self::received).
    pub fn request(&self, kind: TriggerKind) {
        if let Ok(mut received) = self.received.lock() {
            *received.entry(kind.sync_trigger()).or_default() += 1;
        }
        if let Ok(mut pending) = self.pending.lock() {
            let routine = |k: &TriggerKind| matches!(k, TriggerKind::Poll | TriggerKind::Drift);
            // A requested rollback is an action, not a look: only another rollback replaces it.
            let rollback = |k: &TriggerKind| matches!(k, TriggerKind::Rollback(_));
            let keep = pending
                .as_ref()
                .is_some_and(|p| rollback(p) && !rollback(&kind));
            if !keep && (pending.as_ref().is_none_or(routine) || !routine(&kind)) {
                *pending = Some(kind);
            }
        }
        self.wake.notify_one();
    }

    /// Asks for a sync with `kind` only when nothing is pending (a retry after backoff must not
    /// replace a request that arrived meanwhile); not counted as a received request.
    pub fn request_unless_pending(&self, kind: TriggerKind) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.get_or_insert(kind);
        }
        self.wake.notify_one();
    }

    /// Takes the pending request, if any.
    pub fn take(&self) -> Option<TriggerKind> {
        self.pending
            .lock()
            .ok()
            .and_then(|mut pending| pending.take())
    }

    /// The pending request, left pending.
    pub fn pending(&self) -> Option<TriggerKind> {
        self.pending.lock().ok().and_then(|pending| pending.clone())
    }

    /// Resolves at the next request (or at once when one arrived since the last wait).
    pub fn notified(&self) -> Notified<'_> {
        self.wake.notified()
    }

    /// Called by the app's loop after a sync that applied something or failed, with the kinds
    /// its inventory record holds now.
    pub fn mark_synced(&self, inventory_kinds: BTreeSet<Gvk>) {
        if let Ok(mut kinds) = self.synced_kinds.lock() {
            *kinds = inventory_kinds;
        }
        self.synced.notify_one();
    }

    /// Resolves after the app's next completed sync (one that applied something or failed),
    /// for a trigger whose work depends on what was synced (the live watch's kinds), with
    /// the inventory kinds that sync left.
    pub async fn synced(&self) -> BTreeSet<Gvk> {
        self.synced.notified().await;
        self.synced_kinds
            .lock()
            .map(|kinds| kinds.clone())
            .unwrap_or_default()
    }

    /// Requests received so far, by the trigger a sync they start records.
    pub fn received(&self) -> BTreeMap<SyncTrigger, u64> {
        self.received
            .lock()
            .map(|received| received.clone())
            .unwrap_or_default()
    }
}

#[cfg(test)]
#[path = "requests_tests.rs"]
mod tests;
