//! Stage 4 of the pipeline: executing a plan.
//!
//! Applies wave by wave (objects of one wave concurrently, bounded) with server-side apply;
//! recreates Jobs whose immutable spec changed (foreground delete, wait, apply); prunes after
//! every wave succeeded, workloads first and namespaces last, each delete carrying the uid the
//! plan read as a precondition. A plan with any invalid object, or one the prune guard
//! refused, is refused whole: nothing is applied. Health gating between waves belongs to `rollout`.

mod hold;
mod order;

use std::time::Duration;

use futures::StreamExt;
use serde::Serialize;

use crate::cancel::{Cancel, StopReason};
use crate::cluster::{Cluster, ClusterError, DeleteOutcome, Propagation, ServedKind};
use crate::manifest::{ObjectKey, Origin};
use crate::plan::{Change, Plan};
use order::{result, skipped, PruneStep, Write};

mod outcome_kind;
pub use outcome_kind::OutcomeKind;

/// Knobs for applying.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Objects applied at once within a wave.
    pub concurrency: usize,
    /// How long to wait for a Job (and its pods) to be gone before recreating it.
    pub recreate_timeout: Duration,
    /// How long an object whose CustomResourceDefinition is in the same commit waits for its
    /// kind to be served.
    pub crd_timeout: Duration,
    /// Checked before every wave and before pruning: once it fires (lease lost, shutdown),
    /// nothing more is written and the rest is skipped as interrupted.
    pub cancel: Cancel,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            concurrency: 8,
            recreate_timeout: Duration::from_secs(120),
            crd_timeout: Duration::from_secs(60),
            cancel: Cancel::never(),
        }
    }
}

/// What happened to one object.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", content = "detail", rename_all = "lowercase")]
pub enum Outcome {
    /// Created by server-side apply.
    Created,
    /// Updated in place by server-side apply.
    Updated,
    /// Deleted and created again.
    Recreated,
    /// Deleted because it is no longer in git.
    Pruned,
    /// Nothing to do.
    Unchanged,
    /// Not in git but kept (why).
    Kept(String),
    /// The API call failed (the server's message).
    Failed(String),
    /// Not attempted because an earlier wave failed.
    Skipped(String),
}

/// One object's result.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectResult {
    /// Which object.
    pub key: ObjectKey,
    /// Where it is defined in git.
    pub origin: Option<Origin>,
    /// Its wave.
    pub wave: i32,
    /// What happened.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The object as the server returned it after the write (for gates and history).
    #[serde(skip)]
    pub live: Option<serde_json::Value>,
}

/// The result of applying a plan.
#[derive(Debug, Clone, Serialize)]
pub struct ApplyReport {
    /// Per-object results in plan order.
    pub results: Vec<ObjectResult>,
    /// Waves that were fully applied.
    pub waves_applied: Vec<i32>,
    /// True when [`ApplyOptions::cancel`] stopped a wave or a prune from being written.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
}

impl ApplyReport {
    /// True when nothing failed.
    pub fn succeeded(&self) -> bool {
        !self
            .results
            .iter()
            .any(|r| matches!(r.outcome, Outcome::Failed(_)))
    }

    /// Count of objects with this outcome.
    pub fn count(&self, kind: OutcomeKind) -> usize {
        self.results
            .iter()
            .filter(|r| r.outcome.kind() == kind)
            .count()
    }
}

/// Everything that stops a plan from being applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The server rejected objects during the dry-run; the plan is refused whole.
    #[error("nothing applied: the API server rejected {} object(s):\n{}", .0.len(), .0.join("\n"))]
    InvalidPlan(Vec<String>),
    /// A change is missing what apply needs (a bug in plan).
    #[error("plan entry for {0} has no object to apply")]
    Incomplete(String),
    /// The prune guard refused the plan's prunes; nothing is applied.
    #[error("{0}")]
    PruneRefused(crate::plan::guard::PruneRefusal),
}

/// Called after each wave applied without failures, before the next one starts (`reconcile`
/// runs the rollout gates here). `F` is what the hook observes per object (a gate's outcome);
/// [`execute_with_hook`] hands every finding back to its caller.
pub trait WaveHook<F>: Send + Sync {
    /// Inspect the wave's results: the findings, and whether to halt the sync.
    fn after_wave<'a>(
        &'a self,
        wave: i32,
        results: &'a [ObjectResult],
    ) -> futures::future::BoxFuture<'a, WaveVerdict<F>>;
}

/// What a [`WaveHook`] concluded about one wave.
#[derive(Debug, Clone, PartialEq)]
pub struct WaveVerdict<F> {
    /// What the hook observed, in order (one gate outcome per gated object).
    pub findings: Vec<F>,
    /// Set when later waves and pruning must not run.
    pub halt: Option<WaveHalt>,
}

impl<F> WaveVerdict<F> {
    /// Nothing observed, nothing halted.
    pub fn proceed() -> WaveVerdict<F> {
        WaveVerdict {
            findings: Vec::new(),
            halt: None,
        }
    }
}

/// Why a [`WaveHook`] stopped the sync after a wave; its text goes into every skipped object's
/// outcome (`wave 0: <text>`).
#[derive(Debug, Clone, PartialEq)]
pub enum WaveHalt {
    /// The sync was cancelled before the hook's checks started.
    Interrupted(StopReason),
    /// Objects of the wave did not pass the hook's checks: one line per object
    /// (`Job ns/name: failed: …`).
    Failed(Vec<String>),
}

impl std::fmt::Display for WaveHalt {
    /// `interrupted: <reason>`, or the objects' lines joined by `; `.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WaveHalt::Interrupted(reason) => write!(f, "interrupted: {reason}"),
            WaveHalt::Failed(lines) => f.write_str(&lines.join("; ")),
        }
    }
}

/// Applies a plan. Invalid plans are refused before any write.
pub async fn execute(
    cluster: &Cluster,
    plan: &Plan,
    options: &ApplyOptions,
) -> Result<ApplyReport, ApplyError> {
    let (report, _) = execute_with_hook::<()>(cluster, plan, options, None).await?;
    Ok(report)
}

/// [`execute`], calling `hook` after each wave that applied without failures; returns the
/// report and the hook's findings of every wave, in wave order.
pub async fn execute_with_hook<F: Send>(
    cluster: &Cluster,
    plan: &Plan,
    options: &ApplyOptions,
    hook: Option<&dyn WaveHook<F>>,
) -> Result<(ApplyReport, Vec<F>), ApplyError> {
    order::check(plan)?;
    let schedule = order::schedule(plan);

    let mut results: Vec<ObjectResult> = Vec::new();
    let mut waves_applied = Vec::new();
    let mut halted: Option<String> = None;
    let mut interrupted = false;
    let mut findings = Vec::new();
    for (wave, members) in schedule.waves {
        if let (None, Some(reason)) = (&halted, options.cancel.reason()) {
            halted = Some(format!("interrupted: {reason}"));
            interrupted = true;
        }
        if let Some(reason) = &halted {
            results.extend(members.iter().map(|c| skipped(c, reason)));
            continue;
        }
        // Futures built by a plain iterator (not Stream::map) keep the whole future Send for
        // any caller lifetime, so syncs can run in spawned tasks.
        let attempts: Vec<_> = members
            .into_iter()
            .map(|change| apply_one(cluster, change, options))
            .collect();
        let wave_results: Vec<ObjectResult> = futures::stream::iter(attempts)
            .buffered(options.concurrency.max(1))
            .collect()
            .await;
        let failed = wave_results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
            .count();
        if failed > 0 {
            halted = Some(format!("wave {wave} had {failed} failed object(s)"));
        } else if let Some(hook) = hook {
            let verdict = hook.after_wave(wave, &wave_results).await;
            findings.extend(verdict.findings);
            if let Some(reason) = verdict.halt {
                halted = Some(format!("wave {wave}: {reason}"));
            }
        }
        if halted.is_none() {
            waves_applied.push(wave);
        }
        tracing::info!(wave, objects = wave_results.len(), failed, "wave applied");
        results.extend(wave_results);
    }

    // Prune only after everything else succeeded: workloads first, namespaces last.
    for change in schedule.prunes {
        if let (None, Some(reason)) = (&halted, options.cancel.reason()) {
            halted = Some(format!("interrupted: {reason}"));
            interrupted = true;
        }
        let outcome = match order::prune_step(change, halted.as_deref()) {
            PruneStep::Keep(reason) => Outcome::Kept(reason),
            PruneStep::Skip(reason) => Outcome::Skipped(reason),
            PruneStep::Delete => order::pruned(prune_one(cluster, change).await),
        };
        results.push(result(change, outcome, None));
    }
    let report = ApplyReport {
        results,
        waves_applied,
        interrupted,
    };
    Ok((report, findings))
}

async fn apply_one(cluster: &Cluster, change: &Change, options: &ApplyOptions) -> ObjectResult {
    let Some(desired) = &change.desired else {
        return result(change, Outcome::Unchanged, None);
    };
    let resolved;
    let kind = match &change.kind {
        Some(kind) => kind,
        None => match kind_once_served(cluster, change, options.crd_timeout).await {
            Ok(kind) => {
                resolved = kind;
                &resolved
            }
            Err(message) => {
                tracing::warn!(object = %change.key, error = %message, "apply failed");
                return result(change, Outcome::Failed(message), None);
            }
        },
    };
    let namespace = change.key.namespace.as_deref();
    let name = &change.key.name;
    let attempt = async {
        if order::write_of(change) == Write::Recreate {
            // Foreground: a Job's pods go before it is created again; Orphan: a replaced
            // workload's pods keep running for the new object to adopt.
            let propagation = if change.keep_dependents {
                Propagation::Orphan
            } else {
                Propagation::Foreground
            };
            cluster.delete(kind, namespace, name, propagation).await?;
            cluster
                .wait_gone(kind, namespace, name, options.recreate_timeout)
                .await?;
        }
        let sent = hold::around_apply(cluster, kind, change, desired).await?;
        let live = cluster.apply(kind, namespace, name, &sent, false).await?;
        hold::after_apply(cluster, kind, change).await?;
        Ok(live)
    };
    let outcome: Result<serde_json::Value, ClusterError> = attempt.await;
    match outcome {
        Ok(live) => {
            let outcome = order::written(change);
            tracing::info!(object = %change.key, outcome = outcome.kind().name(), "applied");
            result(change, outcome, Some(live))
        }
        Err(e) => {
            tracing::warn!(object = %change.key, error = %e, "apply failed");
            result(change, Outcome::Failed(e.to_string()), None)
        }
    }
}

/// The kind of an object planned before its CustomResourceDefinition existed: asks discovery
/// until the CRD (applied in an earlier wave) is established and served, up to `timeout`.
async fn kind_once_served(
    cluster: &Cluster,
    change: &Change,
    timeout: std::time::Duration,
) -> Result<ServedKind, String> {
    let key = &change.key;
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match cluster
            .served_kind_now(&key.group, &key.version, &key.kind)
            .await
        {
            Ok(Some(kind)) => return Ok(kind),
            Ok(None) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
            Ok(None) => {
                return Err(format!(
                    "{} {} is still not served {}s after the CustomResourceDefinitions of this commit were applied (is the CRD's group/version/kind right, and is it Established?)",
                    key.api_version(),
                    key.kind,
                    timeout.as_secs()
                ))
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Deletes exactly the object the plan read (its uid as precondition).
async fn prune_one(cluster: &Cluster, change: &Change) -> Result<DeleteOutcome, ClusterError> {
    let (Some(kind), Some(uid)) = (&change.kind, &change.uid) else {
        return Err(ClusterError::Incomplete {
            action: format!("pruning {}", change.key),
            reason: "the plan holds no kind or uid for it; not deleted".into(),
        });
    };
    let outcome = cluster
        .delete_exact(
            kind,
            change.key.namespace.as_deref(),
            &change.key.name,
            uid,
            if change.keep_dependents {
                Propagation::Orphan
            } else {
                Propagation::Background
            },
        )
        .await?;
    tracing::info!(object = %change.key, outcome = ?outcome, "pruned");
    Ok(outcome)
}
