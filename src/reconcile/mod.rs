//! The only place that strings the stages together:
//! source → manifest (bundle) → plan → apply → gate → record.
//!
//! It holds no stage logic of its own: `planning` fetches the commit, reads its manifests,
//! resolves their kinds against the cluster and plans; [`sync`] applies the plan wave by wave
//! with the gates run between waves ([`GateHook`], the wave hook `reconcile` owns) and records
//! the sync in history; [`rollback`] writes and syncs reverts; [`worker`] is `ferry serve`'s
//! loop per app.

use std::path::PathBuf;

use crate::apply::{self, ApplyError, ApplyOptions};
use crate::cancel::{Cancel, StopReason};
use crate::cluster::{Cluster, ClusterError};
use crate::config::AppSpec;
use crate::history::{History, HistoryError, SyncOutcome};
use crate::manifest::{Limits, ManifestError};
use crate::plan::{self, Plan, PlanError};
use crate::rollout::{GateConfig, GateEvent, GateOutcome, Supersede};
use crate::source::SourceError;
use crate::trigger::SyncTrigger;

mod app_handle;
mod attempt;
pub mod feed;
mod gate_hook;
mod gate_verdict;
mod inventory;
mod janitor;
mod notifying;
mod planning;
mod report;
mod rollback;
mod rollback_target;
pub mod slots;
pub mod worker;

pub use gate_hook::GateHook;
pub use janitor::{close_interrupted_of, spawn_janitor, JanitorScope};
pub use planning::{fetch, fetch_reusing, plan, prepare, PlanFrom, PreparedCommit};
pub use report::SyncReport;
pub use rollback::{
    rollback, sync_with_policy, PolicySync, Rollback, RollbackReport, RollbackRequest,
};
pub use rollback_target::NothingToRollBack;

/// Shared settings for running the pipeline against one cluster.
#[derive(Clone)]
pub struct Engine {
    /// The cluster.
    pub cluster: Cluster,
    /// Where remote repositories are cloned.
    pub cache_dir: PathBuf,
    /// Namespace of ferry's own records.
    pub ferry_namespace: String,
    /// Manifest size limits.
    pub limits: Limits,
    /// Objects read / dry-run / applied at once.
    pub concurrency: usize,
    /// How long one git fetch may take before the app's attempt fails.
    pub fetch_timeout: std::time::Duration,
    /// Who runs the syncs, as history records name it (`syncedBy`).
    pub identity: String,
    /// The renderers for Kustomize overlays and Helm charts.
    pub render: crate::render::RenderTools,
    /// Sends each sync's events (commit statuses, webhooks) in the background.
    pub notifier: crate::notify::Notifier,
}

impl Engine {
    /// The sync history store in ferry's namespace.
    pub fn history(&self) -> History {
        History::new(self.cluster.clone(), self.ferry_namespace.clone())
            .with_synced_by(self.identity.clone())
    }
}

/// Everything that can stop a plan or a sync, by stage.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// Git failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The manifests are invalid.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// Rendering a Kustomize overlay or a Helm chart failed: nothing is applied.
    #[error(transparent)]
    Render(#[from] crate::render::RenderError),
    /// The cluster failed.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// Planning failed.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Applying was refused.
    #[error(transparent)]
    Apply(#[from] ApplyError),
    /// Reading or writing sync history failed.
    #[error(transparent)]
    History(#[from] HistoryError),
    /// The app's derived name is already recorded for another source.
    #[error(
        "app name {app:?} was derived from this app's path, but an app of that name in this cluster comes from {theirs} \
         (this one: {ours}); two apps with one name prune each other's objects. Give this app its own name \
         (--app NAME or name: in ferry.yaml), or pass --take-over if it really moved"
    )]
    NameCollision {
        /// The app name.
        app: String,
        /// This app's source.
        ours: String,
        /// The source recorded for the name.
        theirs: String,
    },
    /// A blocking git task panicked or was cancelled.
    #[error("internal: git task failed: {0}")]
    Task(#[source] tokio::task::JoinError),
    /// The sync was cancelled before it wrote anything.
    #[error("sync not started: {0}")]
    Interrupted(StopReason),
}

/// Receives rollout progress while gates wait.
pub type GateEvents = std::sync::Arc<dyn Fn(GateEvent) + Send + Sync>;

/// Receives the plan a sync is about to execute, before anything is written.
pub type PlanHook = std::sync::Arc<dyn Fn(&Plan) + Send + Sync>;

/// Options for [`sync`].
#[derive(Default)]
pub struct SyncOptions {
    /// Plan and validate only.
    pub dry_run: bool,
    /// Gate each wave's DaemonSets/StatefulSets/Jobs before the next wave; `None` = don't wait.
    pub gates: Option<GateConfig>,
    /// Where gate progress goes.
    pub on_gate_event: Option<GateEvents>,
    /// What started this sync, for history (`manual`, `rollback`, `revert-policy`, …);
    /// `None` means `manual` ([`rollback`]: `rollback`).
    pub trigger: Option<SyncTrigger>,
    /// The newest commit seen on the app's ref while the sync runs (`ferry serve` publishes
    /// it). Once it names a commit other than the one being synced, waiting gates stop and the
    /// sync is recorded as superseded. `None`: gates are never cancelled.
    pub newest_head: Option<tokio::sync::watch::Receiver<Option<String>>>,
    /// Stops the sync before its next write (wave, prune, gate step) once it fires; the sync
    /// is then recorded as interrupted. Default: never.
    pub cancel: Cancel,
    /// Called with the plan once it is known, before anything is applied (dry runs too).
    pub on_plan: Option<PlanHook>,
}

/// Fetch, read, plan and apply the app's current commit.
pub async fn sync(
    engine: &Engine,
    app: &AppSpec,
    options: SyncOptions,
) -> Result<SyncReport, ReconcileError> {
    let mut plan = match plan(engine, app, PlanFrom::Head).await {
        Ok(plan) => plan,
        Err(e) => {
            if !options.dry_run {
                notifying::rejected(engine, app, &e, options.trigger.as_ref()).await;
            }
            return Err(e);
        }
    };
    if options.gates.is_none() {
        gate_hook::unstage(&mut plan);
    }
    if let Some(on_plan) = &options.on_plan {
        on_plan(&plan);
    }
    if options.dry_run {
        if plan.invalid().next().is_some() {
            // Same refusal a real sync gives, so --dry-run predicts it.
            apply::execute(&engine.cluster, &plan, &ApplyOptions::default()).await?;
        }
        return Ok(SyncReport {
            inventory_kinds: plan.recorded.kinds.clone(),
            plan,
            apply: None,
            dry_run: true,
            gates: Vec::new(),
            record: None,
            interrupted: None,
        });
    }
    if let Some(reason) = options.cancel.reason() {
        return Err(ReconcileError::Interrupted(reason));
    }
    let history = engine.history();
    // A sync that changes nothing records nothing: polling an unchanged repo writes no API
    // objects at all.
    if !plan.has_changes() && plan.invalid().next().is_none() {
        // A sync whose ferry was killed left its record in progress: close it now (any sync
        // of the app does, from the CLI or serve's leader), even when this one has nothing to
        // do. A sync that records itself closes them in `begin_carrying`, from the same list.
        if let Err(e) = history.close_stale(&app.name).await {
            tracing::warn!(app = %app.name, error = %e, "could not check history for interrupted syncs");
        }
        // An app without a record (lost, or written before records named their source) gets
        // one now, once: its next plan lists the recorded kinds and finds leftovers to prune.
        let kinds = if plan.recorded.source.is_none() {
            inventory::widen_inventory(engine, app, &plan).await?.kinds
        } else {
            plan.recorded.kinds.clone()
        };
        return Ok(SyncReport {
            inventory_kinds: kinds,
            plan,
            apply: None,
            dry_run: false,
            gates: Vec::new(),
            record: None,
            interrupted: None,
        });
    }
    let trigger = options.trigger.clone().unwrap_or(SyncTrigger::Manual);
    // The Jobs earlier records show completed come from the list `begin` makes anyway.
    let (mut record, completed) = history
        .begin_carrying(&app.name, &plan.commit, trigger)
        .await?;
    let _alive = history.keep_alive(&app.name, record.seq);
    record.record_plan(&plan);
    let notices = notifying::SyncNotices::new(engine, app, &plan, record.seq, &record.trigger);
    notices.started(&plan);
    let apply_options = ApplyOptions {
        concurrency: engine.concurrency,
        cancel: options.cancel.clone(),
        ..Default::default()
    };
    let cancel = options.cancel.clone();
    let hook = options.gates.map(|config| {
        let mut hook = GateHook::new(engine.cluster.clone(), config)
            .with_cancel(cancel)
            .with_staging(&plan);
        if let Some(newest) = options.newest_head {
            hook = hook.with_supersede(Supersede::new(newest, &plan.commit.sha));
        }
        match options.on_gate_event {
            Some(sink) => hook.with_events(move |e| sink(e)),
            None => hook,
        }
    });
    // Kinds go into the inventory before their objects do (and leave it only after their
    // prunes succeeded), so nothing ferry applied is ever outside it.
    let inventory = if plan.invalid().next().is_none() && plan.refusal.is_none() {
        match inventory::widen_inventory(engine, app, &plan).await {
            Ok(record) => Some(record),
            Err(e) => {
                let reason = format!("recording the app's inventory: {e}");
                notices.errored(&reason);
                record.complete(SyncOutcome::Failed { reason });
                history.finish(&record).await?;
                return Err(e);
            }
        }
    } else {
        None
    };
    let executed = apply::execute_with_hook(
        &engine.cluster,
        &plan,
        &apply_options,
        hook.as_ref()
            .map(|h| h as &dyn apply::WaveHook<GateOutcome>),
    )
    .await;
    let (report, gates) = match executed {
        Ok(executed) => executed,
        Err(e) => {
            notices.errored(&e.to_string());
            record.complete(SyncOutcome::Invalid {
                reason: e.to_string(),
            });
            history.finish(&record).await?;
            return Err(e.into());
        }
    };
    record.record_apply(&report);
    gate_verdict::record_gates(&mut record, &gates);
    let superseded = gates.iter().find_map(GateOutcome::superseded_by);
    // Interrupted only when the cancel actually stopped something (a gate, a wave, a prune):
    // apply saw it, a gate ended on it, or the wave hook halted later waves after it fired
    // (before any gate of that wave had started).
    let halted = report
        .results
        .iter()
        .any(|r| matches!(r.outcome, apply::Outcome::Skipped(_)));
    let interrupted = options.cancel.reason().filter(|_| {
        report.interrupted || halted || gates.iter().any(|g| g.interrupted().is_some())
    });
    let outcome = if let Some(failed) = gates.iter().find(|g| g.is_failure()) {
        SyncOutcome::GateFailed {
            object: failed.target.to_string(),
            reason: failed.result_text(),
        }
    } else if let Some(reason) = &interrupted {
        SyncOutcome::Interrupted {
            reason: reason.to_string(),
        }
    } else if let Some(by) = superseded {
        SyncOutcome::Superseded { by: by.to_string() }
    } else if !report.succeeded() {
        let failed: Vec<String> = report
            .results
            .iter()
            .filter_map(|r| match &r.outcome {
                apply::Outcome::Failed(m) => Some(format!("{}: {m}", r.key)),
                _ => None,
            })
            .collect();
        SyncOutcome::Failed {
            reason: failed.join("; "),
        }
    } else {
        SyncOutcome::Succeeded
    };
    completed.carry_forward(&mut record);
    let final_outcome = outcome.clone();
    record.complete(outcome);
    // An interrupted sync (lease lost, SIGTERM) writes nothing more to the app's objects'
    // inventory: the widened record stands until a sync runs to its end.
    // A refused or invalid plan left the record as it was.
    let mut inventory_kinds = inventory
        .as_ref()
        .map_or_else(|| plan.recorded.kinds.clone(), |r| r.kinds.clone());
    if let (Some(current), None) = (&inventory, &interrupted) {
        match inventory::narrow_inventory(engine, app, &plan, &report, current).await {
            Ok(narrowed) => inventory_kinds = narrowed.kinds,
            Err(e) => {
                // The record is closed either way: a sync that ran never stays "in progress".
                let reason = format!("recording the app's inventory: {e}");
                notices.errored(&reason);
                record.complete(SyncOutcome::Failed { reason });
                history.finish(&record).await?;
                return Err(e);
            }
        }
    }
    notices.finished(&plan, &final_outcome, &gates);
    history.finish(&record).await?;
    Ok(SyncReport {
        inventory_kinds,
        plan,
        apply: Some(report),
        dry_run: false,
        gates,
        record: Some(record),
        interrupted,
    })
}
