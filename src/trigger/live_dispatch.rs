//! The pure half of the shared live-object watch: events of the one watch per kind (every
//! app's objects) in, per-app debounced drift requests out. No I/O, so it is tested with
//! plain events.
//!
//! Each kind keeps one [`LiveTracker`] per app, fed the events of that app's objects (by the
//! object's app label, or by the app that last owned the uid when the label is gone), and the
//! list markers of the watch. Changes wait `debounce` after the first one of a burst, per app,
//! so a burst is one drift check, as with one watch per app.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Duration;

use tokio::time::Instant;

use super::live::LiveTracker;
use crate::cluster::{LiveEvent, SeenObject};
use crate::manifest::Gvk;

/// Routes one kind's events to the trackers of the apps that own the objects.
#[derive(Debug, Default)]
struct KindDispatch {
    trackers: HashMap<String, LiveTracker>,
    /// The app each known object (by uid) belongs to.
    owner: HashMap<String, String>,
    /// Uids listed since the current (re)list started.
    relisted: HashSet<String>,
    listing: bool,
    listed_once: bool,
}

impl KindDispatch {
    /// The app's tracker, created in the state the watch is in (a tracker made after the first
    /// list has seen an empty one, so a new object written by someone else counts).
    fn tracker(&mut self, app: &str) -> &mut LiveTracker {
        let (listing, listed_once) = (self.listing, self.listed_once);
        self.trackers.entry(app.to_owned()).or_insert_with(|| {
            let mut t = LiveTracker::default();
            if listed_once {
                t.observe(LiveEvent::Relisting);
                t.observe(LiveEvent::ListDone);
            }
            if listing {
                t.observe(LiveEvent::Relisting);
            }
            t
        })
    }

    /// An object listed or changed: to its app's tracker (by label, else by its uid's owner).
    fn present(&mut self, seen: SeenObject, listed: bool) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let Some(app) = seen
            .app
            .clone()
            .or_else(|| self.owner.get(&seen.uid).cloned())
        else {
            return out;
        };
        if let Some(before) = self.owner.insert(seen.uid.clone(), app.clone()) {
            if before != app {
                // Relabelled to another app: gone from the first one.
                let gone = LiveEvent::Deleted(seen.clone());
                let changes = self.tracker(&before).observe(gone);
                out.extend(changes.into_iter().map(|o| (before.clone(), o)));
            }
        }
        let event = if listed {
            self.relisted.insert(seen.uid.clone());
            LiveEvent::Listed(seen)
        } else {
            LiveEvent::Changed(seen)
        };
        let changes = self.tracker(&app).observe(event);
        out.extend(changes.into_iter().map(|o| (app.clone(), o)));
        out
    }

    /// One event → (app, object) changes made by someone else.
    fn observe(&mut self, event: LiveEvent) -> Vec<(String, String)> {
        let mut out = Vec::new();
        match event {
            LiveEvent::Relisting => {
                self.listing = true;
                self.relisted.clear();
                for t in self.trackers.values_mut() {
                    t.observe(LiveEvent::Relisting);
                }
            }
            LiveEvent::ListDone => {
                self.listing = false;
                self.listed_once = true;
                let relisted = std::mem::take(&mut self.relisted);
                self.owner.retain(|uid, _| relisted.contains(uid));
                for (app, t) in &mut self.trackers {
                    out.extend(
                        t.observe(LiveEvent::ListDone)
                            .into_iter()
                            .map(|o| (app.clone(), o)),
                    );
                }
            }
            LiveEvent::Listed(seen) => out = self.present(seen, true),
            LiveEvent::Changed(seen) => out = self.present(seen, false),
            LiveEvent::Deleted(seen) => {
                // A watch with a selector reports an object that stops matching as deleted,
                // with its new labels: the uid says whose it was.
                let Some(app) = self.owner.remove(&seen.uid).or_else(|| seen.app.clone()) else {
                    return out;
                };
                let event = LiveEvent::Deleted(seen);
                out.extend(
                    self.tracker(&app)
                        .observe(event)
                        .into_iter()
                        .map(|o| (app.clone(), o)),
                );
            }
        }
        out
    }
}

/// Per-app changes waiting for their debounce.
#[derive(Debug)]
struct Pending {
    due: Instant,
    objects: BTreeSet<String>,
}

/// Events of every watched kind in, per-app drift requests out.
#[derive(Debug)]
pub struct LiveDispatch {
    apps: HashSet<String>,
    kinds: BTreeMap<Gvk, KindDispatch>,
    pending: BTreeMap<String, Pending>,
    debounce: Duration,
}

impl LiveDispatch {
    /// Dispatch for `apps` (events of objects of other apps are ignored).
    pub fn new(apps: impl IntoIterator<Item = String>, debounce: Duration) -> LiveDispatch {
        LiveDispatch {
            apps: apps.into_iter().collect(),
            kinds: BTreeMap::new(),
            pending: BTreeMap::new(),
            debounce,
        }
    }

    /// A watch of `kind` (re)starts from nothing: its state so far is dropped.
    pub fn reset_kind(&mut self, kind: &Gvk) {
        self.kinds.insert(kind.clone(), KindDispatch::default());
    }

    /// The watch of `kind` stopped.
    pub fn forget_kind(&mut self, kind: &Gvk) {
        self.kinds.remove(kind);
    }

    /// Feeds one event of `kind`'s watch, seen at `now`.
    pub fn observe(&mut self, kind: &Gvk, event: LiveEvent, now: Instant) {
        let Some(dispatch) = self.kinds.get_mut(kind) else {
            return;
        };
        for (app, object) in dispatch.observe(event) {
            if !self.apps.contains(&app) {
                continue;
            }
            let debounce = self.debounce;
            let pending = self.pending.entry(app).or_insert_with(|| Pending {
                due: now + debounce,
                objects: BTreeSet::new(),
            });
            pending.objects.insert(object);
        }
    }

    /// When the next app's drift check is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.pending.values().map(|p| p.due).min()
    }

    /// The apps whose drift check is due at `now`, with the objects that changed.
    pub fn take_due(&mut self, now: Instant) -> Vec<(String, Vec<String>)> {
        let due: Vec<String> = self
            .pending
            .iter()
            .filter(|(_, p)| p.due <= now)
            .map(|(app, _)| app.clone())
            .collect();
        due.into_iter()
            .filter_map(|app| {
                let p = self.pending.remove(&app)?;
                Some((app, p.objects.into_iter().collect()))
            })
            .collect()
    }
}

#[cfg(test)]
#[path = "live_dispatch_tests.rs"]
mod tests;
