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

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::{fetch_reusing, plan, sync_with_policy, Engine, PlanFrom, ReconcileError, SyncOptions};
use crate::config::{AppSpec, FailurePolicy};
use crate::plan::Action;
use crate::rollout::{head_channel, GateConfig, HeadSender};
use crate::shard::{Ownership, Tenure};
use crate::source::{peek_shared, short_sha};
use crate::trigger::{SyncTrigger, TriggerKind};

use super::app_handle::{set, show_report};
pub use super::app_handle::{AppHandle, AppStatus};
use super::slots::{wait_for_slot, SyncSlots};

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
    let handle = new_handle(&app);
    let task = spawn_loop(engine, app, settings, handle.clone(), shutdown);
    (handle, task)
}

/// The handle of `app`'s loop before the loop runs (its first sync already requested), so
/// the HTTP server can show and trigger the app while the loops are still being started.
pub fn new_handle(app: &AppSpec) -> AppHandle {
    AppHandle::new(app)
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

/// What a loop remembers between the syncs of one tenure.
#[derive(Debug, Default)]
struct SyncMemory {
    /// The commit last synced here (head after the sync).
    last_synced: Option<String>,
    /// When the last self-heal ran.
    last_heal: Option<Instant>,
}

async fn attempt(
    engine: &Engine,
    app: &AppSpec,
    settings: &LoopSettings,
    cancel: &crate::cancel::Cancel,
    trigger: &TriggerKind,
    memory: &mut SyncMemory,
    handle: &AppHandle,
) -> Result<(), AttemptError> {
    let SyncMemory {
        last_synced,
        last_heal,
    } = memory;
    // Cheap when nothing changed: fetch + one ref lookup, no parse of an unchanged commit.
    // A poll (or a drift check) reuses a fetch of the repository younger than its interval,
    // so the apps of one repository share one fetch per interval; a webhook, a manual sync
    // or a file event fetches fresh, so it sees the commit pushed just before it.
    let max_age = match trigger {
        TriggerKind::Poll | TriggerKind::Drift => settings.interval,
        _ => Duration::ZERO,
    };
    let (source, head) = match fetch_reusing(engine, app, max_age).await {
        Ok(found) => found,
        Err(e) => {
            set(handle, |s| s.fetch_errors += 1);
            return Err(e.into());
        }
    };
    // None for a tag or a pinned commit: the status then shows no branch.
    let branch = source.tracked_branch().ok();
    set(handle, |s| {
        s.head_commit = Some(head.sha.clone());
        s.tracked_branch = branch;
    });
    // Only a manual request re-syncs a commit already synced; a poll, a webhook or a file
    // event for it has nothing new to apply (that is what collapses webhook bursts). A poll
    // or a live-object change still checks the live objects for drift.
    let manual = matches!(trigger, TriggerKind::Manual | TriggerKind::ManualForce);
    if !manual && last_synced.as_deref() == Some(head.sha.as_str()) {
        if !matches!(trigger, TriggerKind::Poll | TriggerKind::Drift) {
            return Ok(());
        }
        let head_sha = head.sha.clone();
        let plan = plan(engine, app, PlanFrom::Fetched(source, head)).await?;
        let drift: BTreeMap<String, Vec<String>> = plan
            .changes
            .iter()
            .filter(|c| {
                matches!(
                    c.action,
                    Action::Create | Action::Update | Action::Recreate { .. } | Action::Prune
                )
            })
            .map(|c| {
                let fields = if c.fields.is_empty() {
                    vec![c.action.verb().to_string()]
                } else {
                    c.fields.iter().map(|f| f.path.clone()).collect()
                };
                (c.key.to_string(), fields)
            })
            .collect();
        let drifted = !drift.is_empty();
        if drifted {
            tracing::warn!(app = %app.name, objects = drift.len(), "live state drifted from git");
        }
        let heal_due = last_heal.is_none_or(|t| t.elapsed() >= settings.heal_interval);
        let fallback = handle.status().fallback_commit;
        let note = match (drifted, app.self_heal, heal_due) {
            (false, _, _) => None,
            (true, _, _) if fallback.is_some() => Some(format!(
                "the remote refused the revert of {}: the cluster runs {} until the branch moves",
                short_sha(&head_sha),
                short_sha(fallback.as_deref().unwrap_or_default())
            )),
            (true, false, _) => Some("selfHeal is off: drift is reported, not corrected".to_string()),
            (true, true, false) => Some(format!(
                "self-heal rate-limited (at most every {}s): something keeps changing these objects",
                settings.heal_interval.as_secs()
            )),
            (true, true, true) => None,
        };
        set(handle, |s| {
            s.drift = drift;
            s.drift_note = note;
        });
        if !(drifted && app.self_heal && heal_due && fallback.is_none()) {
            return Ok(());
        }
        *last_heal = Some(Instant::now());
        set(handle, |s| s.self_heals += 1);
        return run_sync(
            engine,
            app,
            settings,
            cancel,
            SyncTrigger::SelfHeal,
            last_synced,
            handle,
        )
        .await;
    }
    // Sync windows: outside them, plan and report, but do not apply.
    if *trigger != TriggerKind::ManualForce {
        if let Err(reason) = app.windows.check(chrono::Utc::now()) {
            let plan = plan(engine, app, PlanFrom::Fetched(source, head)).await?;
            let pending = plan.changes.iter().filter(|c| c.action.is_change()).count();
            tracing::info!(app = %app.name, %reason, pending, "sync window closed: planned, not applied");
            set(handle, |s| {
                s.window_blocked = Some(format!(
                    "{reason}; {pending} change(s) planned, not applied"
                ));
                s.pending_changes = pending;
            });
            return Ok(());
        }
    }
    set(handle, |s| {
        s.window_blocked = None;
        s.pending_changes = 0;
    });
    drop(source);
    run_sync(
        engine,
        app,
        settings,
        cancel,
        trigger.sync_trigger(),
        last_synced,
        handle,
    )
    .await
}

async fn run_sync(
    engine: &Engine,
    app: &AppSpec,
    settings: &LoopSettings,
    cancel: &crate::cancel::Cancel,
    trigger: SyncTrigger,
    last_synced: &mut Option<String>,
    handle: &AppHandle,
) -> Result<(), AttemptError> {
    let started = Instant::now();
    let (newest, newest_head) = head_channel();
    let watcher = (settings.gates.is_some() && app.supersede_gates)
        .then(|| tokio::spawn(watch_for_newer_commits(app.clone(), handle.clone(), newest)));
    let newest_head = watcher.is_some().then_some(newest_head);
    // The app's failurePolicy applies here as in `ferry sync`: a failed gate may revert the
    // commit. Not on a self-heal: that re-applies a commit whose rollout already passed.
    let policy = match trigger {
        SyncTrigger::SelfHeal => FailurePolicy::Halt,
        _ => app.failure_policy,
    };
    let result = sync_with_policy(engine, app, policy, || SyncOptions {
        gates: settings.gates.clone(),
        trigger: Some(trigger.clone()),
        newest_head: newest_head.clone(),
        cancel: cancel.clone(),
        ..Default::default()
    })
    .await;
    if let Some(watcher) = watcher {
        watcher.abort();
    }
    let outcome = result?;
    let report = &outcome.sync;
    if let Some(newer) = report.superseded_by() {
        tracing::info!(app = %app.name, commit = %report.plan.commit.sha, newer_commit = %newer, "sync superseded by a newer commit");
    }
    if let Some(warning) = &outcome.warning {
        tracing::warn!(app = %app.name, commit = %report.plan.commit.sha, %warning, "failure policy");
    }
    show_report(handle, report, started);
    // The branch's head after the sync: the pushed revert, else the commit synced (also
    // after a fallback to its parent, so the failing commit is not synced again).
    let mut head = report.plan.commit.sha.clone();
    if let Some(reverted) = &outcome.reverted {
        tracing::warn!(app = %app.name, commit = %head, revert = %reverted.revert.sha, "failurePolicy revert: reverted the failing commit");
        show_report(handle, &reverted.sync, started);
        if reverted.revert.published {
            head = reverted.revert.sha.clone();
        }
    }
    if let Some(fallback) = &outcome.fallback {
        show_report(handle, fallback, started);
    }
    let fallback_commit = outcome.fallback.as_ref().map(|f| f.plan.commit.sha.clone());
    set(handle, |s| s.fallback_commit = fallback_commit);
    handle.requests.mark_synced();
    // Objects the API server refused or could not be reached for are retried with backoff:
    // the commit is not marked synced. A failed gate is not retried on every poll: the next
    // commit (or a manual sync) does.
    if outcome.reverted.is_none() && outcome.fallback.is_none() {
        if let Some(reason) = apply_failure(report) {
            return Err(AttemptError::ObjectsFailed {
                commit: report.plan.commit.short_sha().to_string(),
                reason,
            });
        }
    }
    *last_synced = Some(head);
    Ok(())
}

/// Why a sync that ran must be retried: some object failed to apply (not a failed gate, not
/// a sync superseded by a newer commit).
fn apply_failure(report: &super::SyncReport) -> Option<String> {
    let failed = report.apply.as_ref().is_some_and(|a| !a.succeeded());
    if !failed || report.failed_gate().is_some() || report.superseded_by().is_some() {
        return None;
    }
    Some(match report.record.as_ref().map(|r| &r.outcome) {
        Some(crate::history::SyncOutcome::Failed { reason }) => reason.clone(),
        _ => "objects failed to apply".to_string(),
    })
}

/// Runs beside a sync: on every trigger (webhook, poll, file event, manual) asks where the
/// tracked ref points now, without fetching, and publishes it so waiting gates of an older
/// commit stop. The trigger itself stays pending, so the loop syncs the newer commit next.
async fn watch_for_newer_commits(app: AppSpec, handle: AppHandle, newest: HeadSender) {
    loop {
        handle.requests.notified().await;
        // Shared with the other apps of the repository that ask at the same time.
        match peek_shared(&app.location, &app.reference, &app.auth).await {
            Ok(Some(sha)) => {
                set(&handle, |s| s.head_commit = Some(sha.clone()));
                newest.publish(&sha);
            }
            // A pinned commit never moves.
            Ok(None) => return,
            Err(e) => {
                set(&handle, |s| s.fetch_errors += 1);
                tracing::warn!(app = %app.name, error = %e, "could not check for a newer commit while the sync runs");
            }
        }
    }
}
