//! What the shared live watch vouches for: since when each watched kind has been seen
//! without a gap, so a poll of an app whose objects it covers can skip planning against the
//! live objects.
//!
//! A poll of a commit already synced used to plan against the cluster (an inventory read and a
//! list per kind) only to find, almost always, that nothing changed; with 1,000 apps polling
//! every minute that is most of an idle replica's work and of the API server's. The live watch
//! already turns every outside change into a drift check ([`super::live`]), so a poll only
//! needs to plan when the watch could have missed something: a kind not watched (discovery
//! failed, or the watch has not listed yet), or a watch that failed since the last clean plan.
//! A watch that failed is counted as a gap even though it relists and reports what changed
//! meanwhile: the cost is one plan per app, and the rule stays simple enough to trust.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::time::Instant;

use crate::manifest::Gvk;

/// The watch state of one kind.
#[derive(Debug, Clone, Copy, Default)]
struct KindCoverage {
    /// When the current watch of the kind finished its first list (its baseline).
    listed_at: Option<Instant>,
    /// When it last failed (errors are retried; changes meanwhile may be seen only late).
    failed_at: Option<Instant>,
}

/// Shared between the live watch (writer) and every app's loop (reader); cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct LiveCoverage {
    kinds: Arc<Mutex<HashMap<Gvk, KindCoverage>>>,
}

impl LiveCoverage {
    /// Nothing covered yet.
    pub fn new() -> LiveCoverage {
        LiveCoverage::default()
    }

    /// Whether every kind in `kinds` has been watched without a gap since `since`: its watch
    /// had listed by then and has not failed since. An empty set is covered (an app with no
    /// objects has nothing to drift, and a new object made by someone else in it is not ferry's).
    pub fn covers(&self, kinds: &BTreeSet<Gvk>, since: Instant) -> bool {
        let watched = self.kinds.lock().unwrap_or_else(PoisonError::into_inner);
        kinds.iter().all(|kind| {
            watched.get(kind).is_some_and(|k| {
                k.listed_at.is_some_and(|at| at <= since) && k.failed_at.is_none_or(|at| at < since)
            })
        })
    }

    /// A watch of `kind` (re)started: nothing seen yet.
    pub fn started(&self, kind: &Gvk) {
        self.update(kind, |k| *k = KindCoverage::default());
    }

    /// The watch of `kind` stopped (no app has that kind any more).
    pub fn stopped(&self, kind: &Gvk) {
        self.kinds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(kind);
    }

    /// The watch of `kind` finished a (re)list at `now`; the first one is its baseline.
    pub fn listed(&self, kind: &Gvk, now: Instant) {
        self.update(kind, |k| {
            k.listed_at.get_or_insert(now);
        });
    }

    /// The watch of `kind` failed at `now` (it retries on its own).
    pub fn failed(&self, kind: &Gvk, now: Instant) {
        self.update(kind, |k| k.failed_at = Some(now));
    }

    fn update(&self, kind: &Gvk, change: impl FnOnce(&mut KindCoverage)) {
        let mut kinds = self.kinds.lock().unwrap_or_else(PoisonError::into_inner);
        change(kinds.entry(kind.clone()).or_default());
    }
}

#[cfg(test)]
#[path = "live_coverage_tests.rs"]
mod tests;
