//! The sync's events for `notify`: built here from the stage types, handed to the engine's
//! [`crate::notify::Notifier`], which sends them in the background.

use crate::config::AppSpec;
use crate::history::SyncOutcome;
use crate::notify::{EventKind, SyncEvent};
use crate::plan::Plan;
use crate::rollout::GateOutcome;
use crate::trigger::SyncTrigger;

use super::Engine;

/// One recorded sync's notices: which app, commit, record and trigger they are about.
pub(super) struct SyncNotices<'a> {
    engine: &'a Engine,
    app: &'a AppSpec,
    commit: String,
    seq: u64,
    trigger: String,
}

impl<'a> SyncNotices<'a> {
    pub(super) fn new(
        engine: &'a Engine,
        app: &'a AppSpec,
        plan: &Plan,
        seq: u64,
        trigger: &SyncTrigger,
    ) -> SyncNotices<'a> {
        SyncNotices {
            engine,
            app,
            commit: plan.commit.sha.clone(),
            seq,
            trigger: trigger.to_string(),
        }
    }

    fn send(&self, kind: EventKind) {
        self.engine.notifier.notify(
            &self.app.notify,
            &SyncEvent {
                app: self.app.name.clone(),
                commit: self.commit.clone(),
                seq: Some(self.seq),
                trigger: self.trigger.clone(),
                kind,
            },
        );
    }

    /// The sync starts applying `plan`.
    pub(super) fn started(&self, plan: &Plan) {
        self.send(EventKind::Started {
            summary: plan_summary(plan),
        });
    }

    /// ferry could not sync the commit.
    pub(super) fn errored(&self, reason: &str) {
        self.send(EventKind::Errored {
            reason: reason.to_string(),
        });
    }

    /// The sync ended with `outcome`; `gates` name the failing object in its own words.
    pub(super) fn finished(&self, plan: &Plan, outcome: &SyncOutcome, gates: &[GateOutcome]) {
        let kind = match outcome {
            SyncOutcome::Succeeded => EventKind::Succeeded {
                summary: plan_summary(plan),
            },
            SyncOutcome::GateFailed { object, reason } => EventKind::Failed {
                reason: gates
                    .iter()
                    .find(|g| g.is_failure())
                    .map_or_else(|| format!("{object}: {reason}"), GateOutcome::summary),
            },
            SyncOutcome::Failed { reason } => EventKind::Failed {
                reason: reason.clone(),
            },
            SyncOutcome::Invalid { reason } => EventKind::Errored {
                reason: reason.clone(),
            },
            SyncOutcome::Superseded { by } => EventKind::Superseded { by: by.clone() },
            SyncOutcome::Interrupted { reason } => EventKind::Interrupted {
                reason: reason.clone(),
            },
            SyncOutcome::InProgress => return,
        };
        self.send(kind);
    }
}

/// ferry wrote and synced `revert`, the revert of `reverted`.
pub(super) fn rolled_back(
    engine: &Engine,
    app: &AppSpec,
    reverted: &str,
    revert: &str,
    seq: Option<u64>,
) {
    engine.notifier.notify(
        &app.notify,
        &SyncEvent {
            app: app.name.clone(),
            commit: revert.to_string(),
            seq,
            trigger: SyncTrigger::Rollback.to_string(),
            kind: EventKind::RolledBack {
                reverted: reverted.to_string(),
                revert: revert.to_string(),
            },
        },
    );
}

/// The app's commit cannot be synced at all (its manifests or render are invalid): an `error`
/// status on the commit naming the file and line. Other failures (git, the API server) are
/// not the commit's fault and set no status. The commit is the head the failed plan fetched
/// (a fetch reused from it, so no second fetch); the notifier sends one notice per app, commit
/// and reason, so serve's retries of a broken commit do not repeat it.
pub(super) async fn rejected(
    engine: &Engine,
    app: &AppSpec,
    error: &super::ReconcileError,
    trigger: Option<&SyncTrigger>,
) {
    use super::ReconcileError;
    if app.notify.is_empty()
        || !matches!(
            error,
            ReconcileError::Manifest(_) | ReconcileError::Render(_)
        )
    {
        return;
    }
    let commit = match super::fetch_reusing(engine, app, std::time::Duration::from_secs(600)).await
    {
        Ok((_, commit)) => commit.sha,
        Err(e) => {
            tracing::debug!(app = %app.name, error = %e, "no commit to set an error status on");
            return;
        }
    };
    engine.notifier.notify_once(
        &app.notify,
        &SyncEvent {
            app: app.name.clone(),
            commit,
            seq: None,
            trigger: trigger.unwrap_or(&SyncTrigger::Manual).to_string(),
            kind: EventKind::Errored {
                reason: error.to_string(),
            },
        },
    );
}

/// `1 update, 3 unchanged` (nothing planned: `no changes`).
fn plan_summary(plan: &Plan) -> String {
    let parts: Vec<String> = plan
        .summary()
        .iter()
        .map(|(verb, n)| format!("{n} {verb}"))
        .collect();
    if parts.is_empty() {
        "no changes".into()
    } else {
        parts.join(", ")
    }
}
