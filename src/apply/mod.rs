//! Stage 4 of the pipeline: executing a plan.
//!
//! Applies wave by wave (objects of one wave concurrently, bounded) with server-side apply;
//! recreates Jobs whose immutable spec changed (foreground delete, wait, apply); prunes after
//! every wave succeeded, workloads first and namespaces last, each delete carrying the uid the
//! plan read as a precondition. A plan with any invalid object, or one the prune guard
//! refused, is refused whole: nothing is applied. Health gating between waves belongs to `rollout`.

mod order;

use std::time::Duration;

use futures::StreamExt;
use serde::Serialize;

use crate::cancel::Cancel;
use crate::cluster::{Cluster, ClusterError, DeleteOutcome, Propagation, ServedKind};
use crate::manifest::{ObjectKey, Origin};
use crate::plan::{Change, Plan};
use order::{result, skipped, PruneStep, Write};

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

    /// Count of objects with each outcome name.
    pub fn count(&self, name: &str) -> usize {
        self.results
            .iter()
            .filter(|r| outcome_name(&r.outcome) == name)
            .count()
    }
}

/// The lowercase name of an outcome, as printed.
pub fn outcome_name(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Created => "created",
        Outcome::Updated => "updated",
        Outcome::Recreated => "recreated",
        Outcome::Pruned => "pruned",
        Outcome::Unchanged => "unchanged",
        Outcome::Kept(_) => "kept",
        Outcome::Failed(_) => "failed",
        Outcome::Skipped(_) => "skipped",
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

/// Called after each wave is applied, before the next one starts (rollout gates hook in here).
/// Returning `Err(reason)` stops later waves and pruning.
pub trait WaveHook: Send + Sync {
    /// Inspect the wave's results; `Err` halts the sync with that reason.
    fn after_wave<'a>(
        &'a self,
        wave: i32,
        results: &'a [ObjectResult],
    ) -> futures::future::BoxFuture<'a, Result<(), String>>;
}

/// Applies a plan. Invalid plans are refused before any write.
pub async fn execute(
    cluster: &Cluster,
    plan: &Plan,
    options: &ApplyOptions,
    hook: Option<&dyn WaveHook>,
) -> Result<ApplyReport, ApplyError> {
    order::check(plan)?;
    let schedule = order::schedule(plan);

    let mut results: Vec<ObjectResult> = Vec::new();
    let mut waves_applied = Vec::new();
    let mut halted: Option<String> = None;
    let mut interrupted = false;
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
            if let Err(reason) = hook.after_wave(wave, &wave_results).await {
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
    Ok(ApplyReport {
        results,
        waves_applied,
        interrupted,
    })
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
            cluster
                .delete(kind, namespace, name, Propagation::Foreground)
                .await?;
            cluster
                .wait_gone(kind, namespace, name, options.recreate_timeout)
                .await?;
        }
        cluster.apply(kind, namespace, name, desired, false).await
    };
    let outcome: Result<serde_json::Value, ClusterError> = attempt.await;
    match outcome {
        Ok(live) => {
            let outcome = order::written(change);
            tracing::info!(object = %change.key, outcome = outcome_name(&outcome), "applied");
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
        return Err(ClusterError::Decode {
            action: format!("pruning {}", change.key),
            cause: "the plan holds no kind or uid for it; not deleted".into(),
        });
    };
    let outcome = cluster
        .delete_exact(
            kind,
            change.key.namespace.as_deref(),
            &change.key.name,
            uid,
            Propagation::Background,
        )
        .await?;
    tracing::info!(object = %change.key, outcome = ?outcome, "pruned");
    Ok(outcome)
}
