//! The continuous loop for one app (`ferry serve`): single-flight syncs, coalesced triggers,
//! exponential backoff with jitter on errors, and a status others can read.
//!
//! Triggers (poll, webhook, manual, file watch) only *request* a sync: a request made while a
//! sync runs is remembered once, so any burst collapses into at most one follow-up sync of the
//! newest commit. Every app runs in its own task, so a failing app never stalls another.
//!
//! While a sync's gates wait, each trigger also asks the remote where the ref points now
//! (without fetching); a newer commit cancels the wait, the sync is recorded as superseded,
//! and the follow-up sync applies the newer commit (per-app `supersedeGates`, default on).

use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::app_handle::set;
pub use super::app_handle::{AppHandle, AppStatus};
use super::attempt::{attempt, SyncMemory};
use super::slots::{wait_for_slot, SyncSlots};
use super::{Engine, ReconcileError};
use crate::config::AppSpec;
use crate::rollout::GateConfig;
use crate::shard::{Ownership, Tenure};
use crate::trigger::live_coverage::LiveCoverage;
use crate::trigger::TriggerKind;

/// Why an attempt of the app's loop failed (it is retried with backoff).
#[derive(Debug, thiserror::Error)]
pub enum AttemptError {
    /// Fetching, planning or syncing failed.
    #[error(transparent)]
    Reconcile(#[from] ReconcileError),
    /// The sync ran, but objects failed to apply: the commit is not marked synced.
    #[error("sync of {commit} failed: {reason}")]
    ObjectsFailed {
        /// The commit synced (short sha).
        commit: String,
        /// What failed (the record's failure reason).
        reason: String,
    },
}

/// Settings for an app's loop.
#[derive(Debug, Clone)]
pub struct LoopSettings {
    /// Poll interval (the poll trigger's period).
    pub interval: Duration,
    /// Gates (`None` = don't wait for rollouts).
    pub gates: Option<GateConfig>,
    /// Longest backoff after repeated errors.
    pub max_backoff: Duration,
    /// Shortest time between two self-heal syncs of the app, so a fight with another
    /// controller shows up as repeated drift instead of a hot loop.
    pub heal_interval: Duration,
    /// Whether the loop may start syncs now (see [`crate::shard::tenure`]): always, once
    /// this replica leads (`--leader-elect`), or while it holds the app's shard
    /// (`--shards`). A running sync stops before its next write once its tenure's cancel
    /// fires; the loop then waits for a new tenure.
    pub ownership: Ownership,
    /// The sync slots shared by every app's loop: an attempt (fetch, plan, apply, gates)
    /// runs only while it holds one.
    pub slots: SyncSlots,
    /// What the shared live watch has seen without a gap (a coverage no watch writes to
    /// vouches for nothing: every poll of a synced commit then plans against the cluster).
    pub live: LiveCoverage,
    /// Longest time a poll trusts the live watch instead of planning against the cluster
    /// (zero: plan on every poll).
    pub drift_check_interval: Duration,
}

/// Starts an app's loop on the runtime. It runs until `shutdown` turns true, syncing while
/// `settings.ownership` grants a tenure; a sync in progress stops before its next write once
/// its tenure is cancelled and is recorded as interrupted.
pub fn spawn_app(
    engine: Engine,
    app: AppSpec,
    settings: LoopSettings,
    shutdown: watch::Receiver<bool>,
) -> (AppHandle, tokio::task::JoinHandle<()>) {
    let handle = new_handle(&app, &super::feed::StatusFeed::default());
    let task = spawn_loop(engine, app, settings, handle.clone(), shutdown);
    (handle, task)
}

/// The handle of `app`'s loop before the loop runs (its first sync already requested), so
/// the HTTP server can show and trigger the app while the loops are still being started. Its
/// status changes and gate events go to `feed`.
pub fn new_handle(app: &AppSpec, feed: &super::feed::StatusFeed) -> AppHandle {
    AppHandle::new(app, feed)
}

/// Starts `app`'s loop behind a handle made by [`new_handle`]; see [`spawn_app`].
pub fn spawn_loop(
    engine: Engine,
    app: AppSpec,
    settings: LoopSettings,
    handle: AppHandle,
    shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run(engine, app, settings, handle, shutdown))
}

async fn run(
    engine: Engine,
    app: AppSpec,
    settings: LoopSettings,
    handle: AppHandle,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ownership = settings.ownership.clone();
    let mut last_epoch = 0;
    loop {
        let Some(tenure) = wait_for_tenure(&mut ownership, &mut shutdown).await else {
            return;
        };
        if tenure.epoch != last_epoch && last_epoch != 0 {
            // Another replica may have synced the app since this one last held it: forget
            // what was synced here and look afresh.
            handle.requests.request_unless_pending(TriggerKind::Poll);
        }
        last_epoch = tenure.epoch;
        serve_tenure(
            &engine,
            &app,
            &settings,
            &handle,
            &tenure,
            &mut ownership,
            &mut shutdown,
        )
        .await;
        if *shutdown.borrow() {
            return;
        }
    }
}

/// Waits until the loop may sync: the current tenure, or `None` on shutdown.
async fn wait_for_tenure(
    ownership: &mut Ownership,
    shutdown: &mut watch::Receiver<bool>,
) -> Option<Tenure> {
    loop {
        if *shutdown.borrow() {
            return None;
        }
        if let Some(tenure) = ownership.borrow_and_update().clone() {
            if !tenure.cancel.is_cancelled() {
                return Some(tenure);
            }
        }
        tokio::select! {
            changed = ownership.changed() => if changed.is_err() { return None },
            _ = shutdown.changed() => {}
        }
    }
}

/// True while `tenure` is still the one published.
fn still_held(ownership: &Ownership, tenure: &Tenure) -> bool {
    ownership
        .borrow()
        .as_ref()
        .is_some_and(|now| now.epoch == tenure.epoch)
        && !tenure.cancel.is_cancelled()
}

/// Syncs on request while `tenure` lasts (returns when it ends or on shutdown).
async fn serve_tenure(
    engine: &Engine,
    app: &AppSpec,
    settings: &LoopSettings,
    handle: &AppHandle,
    tenure: &Tenure,
    ownership: &mut Ownership,
    shutdown: &mut watch::Receiver<bool>,
) {
    let mut memory = SyncMemory::default();
    loop {
        if *shutdown.borrow() || !still_held(ownership, tenure) {
            return;
        }
        let Some(pending) = handle.requests.pending() else {
            tokio::select! {
                _ = handle.requests.notified() => continue,
                _ = ownership.changed() => continue,
                _ = shutdown.changed() => return,
            }
        };
        let Some(_slot) = wait_for_slot(&settings.slots, handle, pending, shutdown).await else {
            return;
        };
        // The tenure may have ended while the loop waited for the slot.
        if !still_held(ownership, tenure) {
            return;
        }
        // Taken only now, so requests made while waiting for the slot join this sync.
        let Some(trigger) = handle.requests.take() else {
            continue;
        };
        let _running = settings.slots.attempt();
        let _in_tenure = tenure.running();
        let failures = handle.status().consecutive_failures;
        let started = Instant::now();
        set(handle, |s| s.syncing = true);
        let result = attempt(
            engine,
            app,
            settings,
            &tenure.cancel,
            &trigger,
            &mut memory,
            handle,
        )
        .await;
        let now = chrono::Utc::now().to_rfc3339();
        set(handle, |s| {
            s.syncing = false;
            s.attempted = true;
            s.last_attempt_at = Some(now.clone());
            match &result {
                Ok(()) => {
                    s.last_error = None;
                    s.consecutive_failures = 0;
                }
                Err(e) => {
                    s.last_error = Some(e.to_string());
                    s.consecutive_failures = failures + 1;
                }
            }
        });
        if let Err(e) = &result {
            let delay = backoff(failures + 1, settings.max_backoff);
            tracing::warn!(app = %app.name, error = %e, retry_in_ms = delay.as_millis() as u64, "sync attempt failed");
            // Retry after the backoff unless a newer trigger or shutdown comes first.
            let requests = handle.requests();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                requests.request_unless_pending(TriggerKind::Poll);
            });
        }
        tracing::debug!(app = %app.name, elapsed_ms = started.elapsed().as_millis() as u64, "attempt done");
    }
}

/// 1s, 2s, 4s… capped, with ±20% jitter so failing apps don't retry in lockstep.
pub fn backoff(failures: u32, cap: Duration) -> Duration {
    let base = Duration::from_secs(1u64 << failures.min(16).saturating_sub(1));
    let capped = base.min(cap);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let jitter = 0.8 + f64::from(nanos % 400) / 1000.0;
    capped.mul_f64(jitter)
}
