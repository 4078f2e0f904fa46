//! What `ferry rollback` reverts when no commit is named: the newest change ferry synced,
//! unless a later commit already undid it. A revert is never the target, so rolling back
//! twice (or after `failurePolicy: revert`) finds nothing to do instead of reverting the
//! revert and redeploying the broken commit.

use serde::Serialize;

use super::{Engine, ReconcileError};
use crate::config::AppSpec;
use crate::history::{SyncOutcome, SyncRecord};
use crate::source::{same_commit, short_sha, CommitInfo, GitSource, LaterCommit, SourceError};
use crate::trigger::SyncTrigger;

/// How far back along the branch to look for a change when history has none.
const BRANCH_LOOKBACK: usize = 1000;

/// Why `ferry rollback` did nothing.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NothingToRollBack {
    /// The newest change (not a revert) ferry found, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
    /// The commit that already reverts it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reverted_by: Option<String>,
    /// The explanation shown to the user.
    pub reason: String,
}

/// The default rollback target.
#[derive(Debug)]
pub enum Target {
    /// Revert this commit.
    Revert(CommitInfo),
    /// There is nothing to roll back.
    Nothing(NothingToRollBack),
}

/// True when a sync record is a change `ferry rollback` may undo: something was applied
/// (not rejected as invalid), its commit is not a revert, and it is not the policy's fallback
/// to a last good commit.
pub fn is_change(record: &SyncRecord) -> bool {
    !matches!(record.outcome, SyncOutcome::Invalid { .. })
        && record.commit.reverts.is_none()
        && record.trigger != SyncTrigger::RevertFallback
}

/// The commit among `later` that undoes `sha`: one that reverts it and is not itself undone
/// by another commit of `later` (a revert of a revert puts the change back).
pub fn undone_by(sha: &str, later: &[LaterCommit]) -> Option<String> {
    undone(sha, later, 0)
}

fn undone(sha: &str, later: &[LaterCommit], depth: usize) -> Option<String> {
    // Each step goes to a newer commit; the bound only guards against odd messages.
    if depth > later.len() {
        return None;
    }
    later
        .iter()
        .filter(|c| c.reverts.iter().any(|r| same_commit(r, sha)))
        .find(|c| undone(&c.sha, later, depth + 1).is_none())
        .map(|c| c.sha.clone())
}

/// Chooses what to revert: the newest change in the app's history (else the branch's newest
/// commit that is not a revert), unless a later commit on the branch (or a later synced
/// revert) already undid it. The change must be on the tracked branch.
pub async fn default_target(
    engine: &Engine,
    app: &AppSpec,
    source: GitSource,
) -> Result<(GitSource, Target), ReconcileError> {
    let records = engine.history().list(&app.name, None).await?;
    let found = records.iter().position(is_change);
    // Reverts synced after the change, even ones not on the branch (`--no-push`).
    let synced_later: Vec<LaterCommit> = records[..found.unwrap_or(records.len())]
        .iter()
        .filter_map(|r| {
            r.commit.reverts.as_ref().map(|reverted| LaterCommit {
                sha: r.commit.sha.clone(),
                reverts: vec![reverted.clone()],
            })
        })
        .collect();
    let change = found.map(|i| records[i].commit.sha.clone());
    tokio::task::spawn_blocking(move || {
        let target = choose(&source, change.as_deref(), synced_later)?;
        Ok::<_, SourceError>((source, target))
    })
    .await
    .map_err(ReconcileError::Task)?
    .map_err(ReconcileError::from)
}

fn choose(
    source: &GitSource,
    synced_change: Option<&str>,
    mut later: Vec<LaterCommit>,
) -> Result<Target, SourceError> {
    let change = if let Some(sha) = synced_change {
        source.commit_on_branch(sha)?
    } else {
        let log = source.branch_log(BRANCH_LOOKBACK)?;
        match log.into_iter().find(|c| c.reverts.is_none()) {
            Some(c) => c,
            None => {
                return Ok(Target::Nothing(NothingToRollBack {
                    change: None,
                    reverted_by: None,
                    reason: "the branch has no commit that is not a revert".into(),
                }))
            }
        }
    };
    later.extend(source.commits_since(&change.sha)?);
    Ok(match undone_by(&change.sha, &later) {
        Some(by) => Target::Nothing(NothingToRollBack {
            reason: format!(
                "the last change, {} {:?}, is already reverted by {}",
                change.short_sha(),
                change.subject,
                short_sha(&by)
            ),
            change: Some(change.sha),
            reverted_by: Some(by),
        }),
        None => Target::Revert(change),
    })
}

#[cfg(test)]
#[path = "rollback_target_tests.rs"]
mod tests;
