//! Bounded sync concurrency for `ferry serve`: a fixed number of sync slots shared by every
//! app's loop, so a thousand apps starting (or polling) at once do not hit git and the API
//! server together.
//!
//! Waiters are served first by priority, then in arrival order: a sync a person or a forge
//! asked for (webhook, manual, file watch) takes the next free slot before any waiting poll,
//! drift check or first sync, so a webhook is not queued behind a cold start of every app.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::{oneshot, watch};

use super::app_handle::{set, AppHandle};
use crate::trigger::TriggerKind;

/// How urgent a waiting sync is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPriority {
    /// Asked for by a person or a forge (webhook, manual, file watch): served first.
    Triggered,
    /// Routine work (first sync, poll, drift check, retry after backoff).
    Background,
}

impl SyncPriority {
    /// The label `/metrics` shows (`triggered`, `background`).
    pub fn as_str(self) -> &'static str {
        match self {
            SyncPriority::Triggered => "triggered",
            SyncPriority::Background => "background",
        }
    }

    fn index(self) -> usize {
        match self {
            SyncPriority::Triggered => 0,
            SyncPriority::Background => 1,
        }
    }
}

/// A cloneable pool of sync slots; see the module docs.
#[derive(Clone)]
pub struct SyncSlots {
    limit: usize,
    state: Arc<Mutex<State>>,
    /// Sync attempts running now, counted by the loops themselves ([`SyncSlots::attempt`]),
    /// so the count shows what runs, whatever the pool's own bookkeeping says.
    attempts: Arc<std::sync::atomic::AtomicUsize>,
}

/// Marks one sync attempt as running for as long as it lives (see [`SyncSlots::attempt`]).
pub struct RunningAttempt {
    attempts: Arc<std::sync::atomic::AtomicUsize>,
}

impl Drop for RunningAttempt {
    fn drop(&mut self) {
        self.attempts
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[derive(Default)]
struct State {
    free: usize,
    /// Waiters by [`SyncPriority::index`], oldest first; a released slot is handed over.
    queues: [VecDeque<oneshot::Sender<()>>; 2],
}

/// One slot, held while a sync attempt runs; released (to the next waiter) when dropped.
pub struct SyncSlot {
    slots: SyncSlots,
}

impl Drop for SyncSlot {
    fn drop(&mut self) {
        self.slots.release();
    }
}

impl std::fmt::Debug for SyncSlots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncSlots")
            .field("limit", &self.limit)
            .field("running", &self.running())
            .finish_non_exhaustive()
    }
}

impl SyncSlots {
    /// A pool of `limit` slots (at least 1).
    pub fn new(limit: usize) -> SyncSlots {
        let limit = limit.max(1);
        SyncSlots {
            limit,
            state: Arc::new(Mutex::new(State {
                free: limit,
                queues: Default::default(),
            })),
            attempts: Arc::default(),
        }
    }

    /// Counts a sync attempt as running until the returned guard drops; a loop takes it while
    /// it holds its slot.
    pub fn attempt(&self) -> RunningAttempt {
        self.attempts
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        RunningAttempt {
            attempts: self.attempts.clone(),
        }
    }

    /// Sync attempts running now (one atomic read, so a scrape never over-counts).
    pub fn attempts_running(&self) -> usize {
        self.attempts.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// How many syncs may run at once.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Waits for a slot: at once when one is free, else after every waiter of a higher
    /// priority and every earlier waiter of the same priority. Dropping the future gives up
    /// its place (and a slot handed to it meanwhile goes to the next waiter).
    pub async fn acquire(&self, priority: SyncPriority) -> SyncSlot {
        loop {
            let rx = {
                let mut state = self.lock();
                if state.free > 0 {
                    state.free -= 1;
                    return SyncSlot {
                        slots: self.clone(),
                    };
                }
                let (tx, rx) = oneshot::channel();
                state.queues[priority.index()].push_back(tx);
                rx
            };
            let mut waiting = Waiting {
                rx,
                slots: self.clone(),
                granted: false,
            };
            // A sender is dropped unsent only when its receiver was closed, never while this
            // waits; if it ever were, wait again rather than run without a slot.
            if (&mut waiting.rx).await.is_ok() {
                waiting.granted = true;
                return SyncSlot {
                    slots: self.clone(),
                };
            }
        }
    }

    /// Slots in use.
    pub fn running(&self) -> usize {
        self.limit - self.lock().free
    }

    /// Syncs waiting for a slot with this priority.
    pub fn waiting(&self, priority: SyncPriority) -> usize {
        self.lock().queues[priority.index()]
            .iter()
            .filter(|tx| !tx.is_closed())
            .count()
    }

    /// Hands a freed slot to the first live waiter, or puts it back in the pool.
    fn release(&self) {
        let mut state = self.lock();
        for queue in 0..state.queues.len() {
            while let Some(tx) = state.queues[queue].pop_front() {
                if tx.send(()).is_ok() {
                    return;
                }
            }
        }
        state.free = (state.free + 1).min(self.limit);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Nothing panics while holding the lock; a poisoned one still holds consistent counts.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A place in a queue; dropped before its slot arrived (the sync gave up waiting), it closes
/// the channel, and a slot handed over just before that is released again.
struct Waiting {
    rx: oneshot::Receiver<()>,
    slots: SyncSlots,
    /// Set once the slot arrived: the [`SyncSlot`] returned owns it from then on.
    granted: bool,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if self.granted {
            return;
        }
        self.rx.close();
        if self.rx.try_recv().is_ok() {
            self.slots.release();
        }
    }
}

/// How urgent a sync asked for by `trigger` is: a forge, a person or a file edit is waiting
/// for this one; polls, drift checks, retries and first syncs are routine.
pub fn priority(trigger: &TriggerKind) -> SyncPriority {
    match trigger {
        TriggerKind::Webhook(_)
        | TriggerKind::Manual
        | TriggerKind::ManualForce
        | TriggerKind::Watch
        | TriggerKind::Rollback(_) => SyncPriority::Triggered,
        TriggerKind::Poll | TriggerKind::Drift => SyncPriority::Background,
    }
}

/// Waits for a sync slot with the pending request's priority, moving up to the triggered
/// queue when such a request arrives while the app waits as routine work. `None` on
/// shutdown.
pub(super) async fn wait_for_slot(
    slots: &SyncSlots,
    handle: &AppHandle,
    pending: TriggerKind,
    shutdown: &mut watch::Receiver<bool>,
) -> Option<SyncSlot> {
    let mut current = priority(&pending);
    set(handle, |s| s.waiting_for_slot = true);
    let slot = loop {
        let acquire = slots.acquire(current);
        let mut acquire = std::pin::pin!(acquire);
        let upgraded = loop {
            tokio::select! {
                slot = &mut acquire => break Err(slot),
                () = handle.requests.notified() => {
                    let now = handle.requests.pending().as_ref().map(priority);
                    if current == SyncPriority::Background && now == Some(SyncPriority::Triggered) {
                        break Ok(SyncPriority::Triggered);
                    }
                }
                _ = shutdown.changed() => {
                    set(handle, |s| s.waiting_for_slot = false);
                    return None;
                }
            }
        };
        match upgraded {
            Ok(higher) => current = higher,
            Err(slot) => break slot,
        }
    };
    set(handle, |s| s.waiting_for_slot = false);
    Some(slot)
}

#[cfg(test)]
#[path = "slots_tests.rs"]
mod tests;
