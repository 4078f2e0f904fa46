//! A seat's tenure: the right of a replica to sync a set of apps (all of them, or one shard's)
//! while it holds the Lease behind it.
//!
//! The app loops of `reconcile` watch an [`Ownership`]: `Some(tenure)` while they may start
//! syncs, `None` while they may not. A sync started in a tenure stops before its next write
//! once the tenure's [`Cancel`] fires (the Lease was lost, ferry stops). Handing a seat over
//! is two steps: [`Seat::drain`] (no new syncs; running ones finish) and, when the grace is
//! up, [`Seat::cancel`].

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::watch;

use crate::cancel::{self, Cancel, Canceller, StopReason};

/// One grant of a seat: syncs may start while it is published.
#[derive(Debug, Clone)]
pub struct Tenure {
    /// Counts grants of the seat, from 1: a loop that sees a new epoch syncs afresh (another
    /// replica may have synced the app meanwhile).
    pub epoch: u64,
    /// Fires when the syncs of this tenure must stop before their next write.
    pub cancel: Cancel,
    running: Arc<AtomicUsize>,
}

impl Tenure {
    /// Marks one sync as running in this tenure until the guard is dropped, so a hand-over
    /// can wait for it.
    pub fn running(&self) -> RunningSync {
        self.running.fetch_add(1, Ordering::SeqCst);
        RunningSync(self.running.clone())
    }
}

/// A sync running in a tenure (see [`Tenure::running`]).
#[derive(Debug)]
pub struct RunningSync(Arc<AtomicUsize>);

impl Drop for RunningSync {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What an app loop watches: the current tenure of its seat, if any.
pub type Ownership = watch::Receiver<Option<Tenure>>;

/// The owner's side of a seat: grants, drains and cancels tenures.
#[derive(Debug)]
pub struct Seat {
    tx: watch::Sender<Option<Tenure>>,
    canceller: Option<Canceller>,
    running: Arc<AtomicUsize>,
    epoch: u64,
}

impl Default for Seat {
    fn default() -> Self {
        Seat::new()
    }
}

impl Seat {
    /// An empty seat (no tenure).
    pub fn new() -> Seat {
        Seat {
            tx: watch::channel(None).0,
            canceller: None,
            running: Arc::new(AtomicUsize::new(0)),
            epoch: 0,
        }
    }

    /// What the app loops of this seat watch.
    pub fn subscribe(&self) -> Ownership {
        self.tx.subscribe()
    }

    /// Starts a new tenure (a no-op while one is published).
    pub fn grant(&mut self) {
        if self.tx.borrow().is_some() {
            return;
        }
        self.epoch += 1;
        let (canceller, token) = cancel::channel();
        self.canceller = Some(canceller);
        let tenure = Tenure {
            epoch: self.epoch,
            cancel: token,
            running: self.running.clone(),
        };
        self.tx.send_replace(Some(tenure));
    }

    /// True while a tenure is published.
    pub fn is_granted(&self) -> bool {
        self.tx.borrow().is_some()
    }

    /// Withdraws the tenure: no new sync starts; running ones go on until [`Seat::cancel`].
    pub fn drain(&mut self) {
        self.tx.send_replace(None);
    }

    /// Withdraws the tenure and stops its running syncs before their next write.
    pub fn cancel(&mut self, reason: StopReason) {
        self.drain();
        if let Some(canceller) = self.canceller.take() {
            canceller.cancel(reason);
        }
    }

    /// Syncs still running from this seat's tenures.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
#[path = "tenure_tests.rs"]
mod tests;
