//! One attempt of an app's loop: fetch (reusing a young fetch for polls), skip or drift-check
//! a commit already synced, respect sync windows, then sync with the app's failure policy
//! while a watcher looks for newer commits that supersede waiting gates.
//!
//! A poll of a commit already synced plans against the cluster only when the shared live
//! watch could have missed a change ([`crate::trigger::live_coverage`]): since the last drift
//! check that found nothing, some kind of the app was not watched or its watch failed, a drift
//! request arrived, or `--drift-check-interval` passed. Otherwise the live watch would have
//! asked for a drift check already, and the poll costs one ref lookup.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use super::app_handle::{set, show_gate_event, show_report};
use super::worker::{AppHandle, AttemptError, LoopSettings};
use super::{fetch_reusing, plan, sync_with_policy, Engine, PlanFrom, SyncOptions};
use crate::config::{AppSpec, FailurePolicy};
use crate::manifest::Gvk;
use crate::plan::Action;
use crate::rollout::{head_channel, HeadSender};
use crate::source::{peek_shared, short_sha};
use crate::trigger::{SyncTrigger, TriggerKind};

/// What a loop remembers between the syncs of one tenure.
#[derive(Debug, Default)]
pub(super) struct SyncMemory {
    /// The commit last synced here (head after the sync).
    last_synced: Option<String>,
    /// When the last self-heal ran.
    last_heal: Option<Instant>,
    /// The last drift check that found nothing, while the commit stays synced.
    clean: Option<CleanCheck>,
}

/// A drift check that found the live objects as git wants them.
#[derive(Debug)]
pub(super) struct CleanCheck {
    /// When its plan began: a change after this the live watch has seen (if it covers the kinds).
    since: tokio::time::Instant,
    /// The kinds of the app's objects it looked at.
    kinds: BTreeSet<Gvk>,
    /// Drift requests the app had received by then (one more means: look again).
    drift_requests: u64,
}

/// Whether a poll of the synced commit can trust the live watch instead of planning.
fn clean_and_covered(
    clean: Option<&CleanCheck>,
    settings: &LoopSettings,
    drift_requests: u64,
) -> bool {
    clean.is_some_and(|clean| {
        clean.drift_requests == drift_requests
            && clean.since.elapsed() < settings.drift_check_interval
            && settings.live.covers(&clean.kinds, clean.since)
    })
}

/// Drift requests received by the app so far.
fn drift_requests(handle: &AppHandle) -> u64 {
    handle
        .requests
        .received()
        .get(&crate::trigger::SyncTrigger::Drift)
        .copied()
        .unwrap_or(0)
}

pub(super) async fn attempt(
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
        clean,
    } = memory;
    if let TriggerKind::Rollback(commit) = trigger {
        *clean = None;
        return run_rollback(
            engine,
            app,
            settings,
            cancel,
            commit.clone(),
            last_synced,
            handle,
        )
        .await;
    }
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
        let drift_requests = drift_requests(handle);
        if *trigger == TriggerKind::Poll
            && clean_and_covered(clean.as_ref(), settings, drift_requests)
        {
            set(handle, |s| s.drift_checks_skipped += 1);
            return Ok(());
        }
        let head_sha = head.sha.clone();
        let since = tokio::time::Instant::now();
        *clean = None;
        set(handle, |s| s.drift_checks += 1);
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
        } else {
            *clean = Some(CleanCheck {
                since,
                kinds: plan.changes.iter().map(|c| c.key.gvk()).collect(),
                drift_requests,
            });
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
    *clean = None;
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
    let on_gate_event = gate_events(handle);
    set(handle, |s| s.rollout.clear());
    let result = sync_with_policy(engine, app, policy, || SyncOptions {
        gates: settings.gates.clone(),
        trigger: Some(trigger.clone()),
        newest_head: newest_head.clone(),
        cancel: cancel.clone(),
        on_gate_event: Some(on_gate_event.clone()),
        ..Default::default()
    })
    .await;
    set(handle, |s| s.rollout_steps.clear());
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
    // The last sync of this attempt left the inventory record as it stands.
    let last = match (&outcome.reverted, &outcome.fallback) {
        (Some(reverted), _) => &reverted.sync,
        (None, Some(fallback)) => fallback,
        (None, None) => report,
    };
    handle.requests.mark_synced(last.inventory_kinds.clone());
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

/// A rollback asked for through the API or the UI: the same revert, push and sync as
/// `ferry rollback` ([`super::rollback`]), run in the app's loop so it never races a sync.
async fn run_rollback(
    engine: &Engine,
    app: &AppSpec,
    settings: &LoopSettings,
    cancel: &crate::cancel::Cancel,
    commit: Option<String>,
    last_synced: &mut Option<String>,
    handle: &AppHandle,
) -> Result<(), AttemptError> {
    let started = Instant::now();
    set(handle, |s| {
        s.rollout.clear();
        s.notice = None;
    });
    let request = super::RollbackRequest {
        commit,
        to: None,
        push: true,
        message: None,
    };
    let options = SyncOptions {
        gates: settings.gates.clone(),
        cancel: cancel.clone(),
        on_gate_event: Some(gate_events(handle)),
        ..Default::default()
    };
    let result = super::rollback(engine, app, &request, options, &|_| {}).await;
    set(handle, |s| s.rollout_steps.clear());
    match result? {
        super::Rollback::NothingToRollBack(nothing) => {
            tracing::info!(app = %app.name, reason = %nothing.reason, "rollback requested: nothing to roll back");
            set(handle, |s| {
                s.notice = Some(format!("nothing to roll back: {}", nothing.reason));
            });
        }
        super::Rollback::Reverted(report) => {
            let revert = &report.revert;
            tracing::warn!(app = %app.name, revert = %revert.sha, reverted = ?revert.reverted, "rolled back by request");
            show_report(handle, &report.sync, started);
            handle
                .requests
                .mark_synced(report.sync.inventory_kinds.clone());
            let reverted: Vec<&str> = revert.reverted.iter().map(|s| short_sha(s)).collect();
            set(handle, |s| {
                s.notice = Some(format!(
                    "rolled back {} with revert commit {}{}",
                    reverted.join(", "),
                    short_sha(&revert.sha),
                    if revert.published {
                        ""
                    } else {
                        " (not pushed)"
                    }
                ));
            });
            *last_synced = Some(if revert.published {
                revert.sha.clone()
            } else {
                report.sync.plan.commit.sha.clone()
            });
        }
    }
    Ok(())
}

/// Where a sync's gate events go: the app's status and live feed.
fn gate_events(handle: &AppHandle) -> super::GateEvents {
    let handle = handle.clone();
    std::sync::Arc::new(move |e| show_gate_event(&handle, &e))
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
