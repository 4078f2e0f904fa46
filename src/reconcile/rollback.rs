//! Rollback by git revert, by hand (`ferry rollback`) or by policy when a gate fails.

use serde::Serialize;

use super::rollback_target::{default_target, NothingToRollBack, Target};
use super::{
    fetch, plan, prepare, sync, Engine, PlanFrom, ReconcileError, SyncOptions, SyncReport,
};
use crate::config::{AppSpec, FailurePolicy};
use crate::plan::Plan;
use crate::source::{revert_message, GitRef, RevertCommit, SourceError};
use crate::trigger::SyncTrigger;

/// What `ferry rollback` should revert.
#[derive(Debug, Clone, Default)]
pub struct RollbackRequest {
    /// The commit to revert (full or abbreviated sha; it must be on the tracked branch);
    /// default: the newest change ferry synced (from history; else the branch's newest
    /// commit) that is not a revert, unless a later commit already reverted it.
    pub commit: Option<String>,
    /// Revert every commit after this one (on the tracked branch) instead, in one commit.
    pub to: Option<String>,
    /// Push the revert to the remote (ignored for local repositories, whose branch moves).
    pub push: bool,
    /// The commit message; default: git's own revert message.
    pub message: Option<String>,
}

/// What a rollback did.
#[derive(Debug, Clone, Serialize)]
pub struct RollbackReport {
    /// The revert commit.
    pub revert: RevertCommit,
    /// The sync of it.
    pub sync: SyncReport,
}

/// What `ferry rollback` did: reverted, or found nothing to roll back (and wrote nothing).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "result", rename_all = "camelCase")]
pub enum Rollback {
    /// A revert commit was written and synced.
    Reverted(Box<RollbackReport>),
    /// The newest change is already reverted (or there is none): nothing was written.
    NothingToRollBack(NothingToRollBack),
}

/// Rolls back by writing a revert commit: reverts the commit(s), shows the plan of the revert
/// through `on_plan`, publishes it (push, unless told not to), then syncs it with
/// StatefulSets that are stuck on the broken revision unstuck. Without a commit or `to`,
/// the target is the newest synced change; if a later commit already reverted it, nothing
/// is written ([`Rollback::NothingToRollBack`]). A named commit must be on the branch.
pub async fn rollback(
    engine: &Engine,
    app: &AppSpec,
    request: &RollbackRequest,
    mut options: SyncOptions,
    on_plan: &(dyn Fn(&Plan) + Send + Sync),
) -> Result<Rollback, ReconcileError> {
    let (mut source, _) = fetch(engine, app).await?;
    let mut request = request.clone();
    if request.commit.is_none() && request.to.is_none() {
        let (returned, target) = default_target(engine, app, source).await?;
        source = returned;
        match target {
            Target::Revert(change) => request.commit = Some(change.sha),
            Target::Nothing(nothing) => return Ok(Rollback::NothingToRollBack(nothing)),
        }
    }
    let (mut source, revert) = tokio::task::spawn_blocking(move || {
        let mut source = source;
        let shas = match (&request.to, &request.commit) {
            (Some(base), _) => source.commits_after(base)?,
            (None, Some(sha)) => vec![source.commit_on_branch(sha)?.sha],
            (None, None) => Vec::new(),
        };
        if shas.is_empty() {
            return Err(SourceError::NotABranch(
                "nothing to revert: the branch is already at that commit".into(),
            ));
        }
        let message = match (&request.message, shas.as_slice()) {
            (Some(m), _) => m.clone(),
            (None, [one]) => {
                let info = source.commit_info(one)?;
                revert_message(&info.subject, one, None)
            }
            (None, many) => {
                let base = request.to.clone().unwrap_or_default();
                let mut m = format!(
                    "Revert to {}: undo {} commits\n\n",
                    &base[..base.len().min(12)],
                    many.len()
                );
                for sha in many {
                    m.push_str(&format!("This reverts commit {sha}.\n"));
                }
                m
            }
        };
        let revert = source.revert(&shas, &message)?;
        Ok::<_, SourceError>((source, revert))
    })
    .await
    .map_err(ReconcileError::Task)??;

    let info = source.commit_info(&revert.sha)?;
    let (returned, prepared) = prepare(engine, app, source, info).await?;
    source = returned;
    let plan = plan(engine, app, PlanFrom::Prepared(&prepared)).await?;
    on_plan(&plan);

    let mut revert = revert;
    let mut synced_app = app.clone();
    if request.push {
        let (s, r) = tokio::task::spawn_blocking(move || {
            let mut source = source;
            let mut revert = revert;
            source.publish(&mut revert).map(|_| (source, revert))
        })
        .await
        .map_err(ReconcileError::Task)??;
        drop(s);
        revert = r;
    }
    if !revert.published {
        // Not pushed: sync exactly the revert commit from ferry's clone.
        synced_app.reference = GitRef::Commit(revert.sha.clone());
    }
    if let Some(gates) = options.gates.as_mut() {
        gates.unstick_statefulsets = true;
    }
    if options.trigger.is_none() {
        options.trigger = Some(SyncTrigger::Rollback);
    }
    let sync = sync(engine, &synced_app, options).await?;
    super::notifying::rolled_back(
        engine,
        app,
        &revert.reverted.join(","),
        &revert.sha,
        sync.record.as_ref().map(|r| r.seq),
    );
    Ok(Rollback::Reverted(Box::new(RollbackReport {
        revert,
        sync,
    })))
}

/// A sync under a failure policy: the sync, and what the policy did about a failed gate.
#[derive(Debug, Clone, Serialize)]
pub struct PolicySync {
    /// The sync of the tracked commit.
    pub sync: SyncReport,
    /// The automatic rollback, when the policy reverted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reverted: Option<RollbackReport>,
    /// Why the policy did not (fully) act, said loudly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// The sync of the last good commit, when the revert could not be pushed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<SyncReport>,
}

/// Syncs the app; when a gate fails and the policy is `revert`, writes a revert of the
/// failing commit naming the failed object and reason, pushes it and syncs it (trigger
/// `revert-policy`). A commit that is itself a revert is never reverted (no revert loops).
/// When the push is refused, ferry applies the commit before the failing one instead (trigger
/// `revert-fallback`) and says so in `warning`. The policy's own syncs are never superseded:
/// they ignore `newest_head`, which still names the failing commit.
pub async fn sync_with_policy(
    engine: &Engine,
    app: &AppSpec,
    policy: FailurePolicy,
    options: impl Fn() -> SyncOptions,
) -> Result<PolicySync, ReconcileError> {
    let report = sync(engine, app, options()).await?;
    let mut result = PolicySync {
        sync: report,
        reverted: None,
        warning: None,
        fallback: None,
    };
    let Some(gate) = result.sync.failed_gate().cloned() else {
        return Ok(result);
    };
    if policy == FailurePolicy::Halt {
        return Ok(result);
    }
    let commit = result.sync.plan.commit.clone();
    if let Some(original) = &commit.reverts {
        result.warning = Some(format!(
            "not reverting {}: it is itself a revert of {} (ferry never reverts a revert)",
            commit.short_sha(),
            crate::source::short_sha(original)
        ));
        return Ok(result);
    }
    let reason = format!("ferry: rollout failed: {}", gate.summary());
    let request = RollbackRequest {
        commit: Some(commit.sha.clone()),
        to: None,
        push: true,
        message: Some(revert_message(&commit.subject, &commit.sha, Some(&reason))),
    };
    let mut revert_options = options();
    revert_options.trigger = Some(SyncTrigger::RevertPolicy);
    revert_options.newest_head = None;
    match rollback(engine, app, &request, revert_options, &|_| {}).await {
        Ok(Rollback::Reverted(report)) => result.reverted = Some(*report),
        Ok(Rollback::NothingToRollBack(nothing)) => {
            result.warning = Some(format!("not reverting: {}", nothing.reason));
        }
        Err(ReconcileError::Source(SourceError::PushRejected { url, cause })) => {
            let (source, _) = fetch(engine, app).await?;
            let parent = tokio::task::spawn_blocking(move || {
                let repo = source.repository();
                let oid = git2::Oid::from_str(&commit.sha)
                    .and_then(|oid| repo.find_commit(oid))
                    .and_then(|c| c.parent_id(0));
                oid.map(|o| o.to_string())
            })
            .await
            .map_err(ReconcileError::Task)?
            .map_err(SourceError::git("finding the last good commit"))?;
            result.warning = Some(format!(
                "REVERT NOT PUSHED: {url} refused the push ({cause}); applied the previous commit {} \
                 instead. The cluster now differs from the branch: revert the commit in git.",
                crate::source::short_sha(&parent)
            ));
            let mut pinned = app.clone();
            pinned.reference = GitRef::Commit(parent);
            let mut fallback_options = options();
            fallback_options.trigger = Some(SyncTrigger::RevertFallback);
            fallback_options.newest_head = None;
            result.fallback = Some(sync(engine, &pinned, fallback_options).await?);
        }
        Err(e) => return Err(e),
    }
    Ok(result)
}
