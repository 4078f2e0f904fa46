//! Gating between waves: the [`WaveHook`] that runs `rollout`'s gates on what each wave of
//! [`crate::apply::execute_with_hook`] created, updated or recreated. `reconcile` owns it, so
//! `rollout` only observes workloads and returns typed [`GateOutcome`]s, and `apply` knows
//! nothing of gates.

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;

use crate::apply::{ObjectResult, Outcome, WaveHalt, WaveHook, WaveVerdict};
use crate::cancel::Cancel;
use crate::cluster::Cluster;
use crate::manifest::ObjectKey;
use crate::plan::staged::Staging;
use crate::plan::Plan;
use crate::rollout::{
    unstick_statefulset, wait_staged_until, GateConfig, GateEvent, GateOutcome, GateState,
    GateTarget, StagedTarget, Supersede, WorkloadKind,
};

type EventSink = Arc<dyn Fn(GateEvent) + Send + Sync>;

/// Gates the DaemonSets, StatefulSets and Jobs of each wave that were created, updated or
/// recreated, before the next wave starts. Every gate's outcome is a finding of the wave's
/// [`WaveVerdict`]; a failed or timed-out gate halts the sync, and so does a gate cancelled
/// because a newer commit arrived ([`GateHook::with_supersede`]) or the sync was stopped.
pub struct GateHook {
    staged: HashMap<ObjectKey, StagedTarget>,
    cluster: Cluster,
    config: GateConfig,
    on_event: EventSink,
    supersede: Option<Supersede>,
    cancel: Cancel,
}

impl GateHook {
    /// A hook with these defaults; progress events are only logged (tracing, debug level).
    pub fn new(cluster: Cluster, config: GateConfig) -> GateHook {
        GateHook {
            staged: HashMap::new(),
            cluster,
            config,
            on_event: Arc::new(|_| {}),
            supersede: None,
            cancel: Cancel::never(),
        }
    }

    /// Sends progress events to `on_event` (for a progress display or JSON output).
    pub fn with_events(mut self, on_event: impl Fn(GateEvent) + Send + Sync + 'static) -> GateHook {
        self.on_event = Arc::new(on_event);
        self
    }

    /// Stops waiting gates as soon as `supersede` learns of a newer commit; the sync halts
    /// (later waves and pruning are skipped) so the newer commit can be synced.
    pub fn with_supersede(mut self, supersede: Supersede) -> GateHook {
        self.supersede = Some(supersede);
        self
    }

    /// Stops waiting gates (and the sync: later waves and pruning are skipped) once `cancel`
    /// fires: the replica lost its leader lease or is shutting down.
    pub fn with_cancel(mut self, cancel: Cancel) -> GateHook {
        self.cancel = cancel;
        self
    }

    /// Steps the plan's staged DaemonSets and StatefulSets ([`Staging::Steps`]) instead of
    /// only watching them.
    pub fn with_staging(mut self, plan: &Plan) -> GateHook {
        for change in &plan.changes {
            let (
                Some(Staging::Steps {
                    spec,
                    resume_at,
                    commit,
                }),
                Some(kind),
                Some(desired),
            ) = (&change.staging, &change.kind, &change.desired)
            else {
                continue;
            };
            self.staged.insert(
                change.key.clone(),
                StagedTarget {
                    spec: spec.clone(),
                    resume_at: *resume_at,
                    commit: commit.clone(),
                    kind: kind.clone(),
                    restore: desired.clone(),
                },
            );
        }
        self
    }

    /// The objects of a wave that are gated: DaemonSets, StatefulSets and Jobs that were
    /// created, updated or recreated.
    pub fn targets(results: &[ObjectResult]) -> Vec<GateTarget> {
        results
            .iter()
            .filter(|r| {
                matches!(
                    r.outcome,
                    Outcome::Created | Outcome::Updated | Outcome::Recreated
                )
            })
            .filter_map(|r| GateTarget::from_key(&r.key))
            .collect()
    }

    /// Before gating, deletes the pods of rolled-back StatefulSets stuck on a broken revision
    /// (only when the config asks for it), reporting what it deleted as a gate event.
    async fn unstick(&self, targets: &[GateTarget]) {
        let statefulsets = targets
            .iter()
            .filter(|t| t.kind == WorkloadKind::StatefulSet);
        for t in statefulsets {
            match unstick_statefulset(&self.cluster, &t.namespace, &t.name, self.config.timeout)
                .await
            {
                Ok(deleted) if !deleted.is_empty() => (self.on_event)(GateEvent {
                    target: t.clone(),
                    state: GateState::RestartingPods,
                    message: format!(
                        "deleted pod(s) stuck on the broken revision so the controller recreates them: {}",
                        deleted.join(", ")
                    ),
                    elapsed: std::time::Duration::ZERO,
                    step: None,
                }),
                Ok(_) => {}
                Err(e) => tracing::warn!(statefulset = %t, error = %e, "could not unstick"),
            }
        }
    }
}

impl WaveHook<GateOutcome> for GateHook {
    fn after_wave<'a>(
        &'a self,
        wave: i32,
        results: &'a [ObjectResult],
    ) -> BoxFuture<'a, WaveVerdict<GateOutcome>> {
        Box::pin(async move {
            let targets = GateHook::targets(results);
            let staged: Vec<(GateTarget, Option<StagedTarget>)> = results
                .iter()
                .filter_map(|r| {
                    let target = GateHook::targets(std::slice::from_ref(r)).pop()?;
                    Some((target, self.staged.get(&r.key).cloned()))
                })
                .collect();
            if targets.is_empty() {
                return WaveVerdict::proceed();
            }
            tracing::info!(wave, gates = targets.len(), "waiting for rollouts");
            if let Some(reason) = self.cancel.reason() {
                return WaveVerdict {
                    findings: Vec::new(),
                    halt: Some(WaveHalt::Interrupted(reason)),
                };
            }
            if self.config.unstick_statefulsets {
                self.unstick(&targets).await;
            }
            let outcomes = wait_staged_until(
                &self.cluster,
                staged,
                &self.config,
                self.supersede.as_ref(),
                &self.cancel,
                &*self.on_event,
            )
            .await;
            let failures: Vec<String> = outcomes
                .iter()
                .filter(|o| {
                    o.is_failure() || o.superseded_by().is_some() || o.interrupted().is_some()
                })
                .map(GateOutcome::summary)
                .collect();
            WaveVerdict {
                findings: outcomes,
                halt: (!failures.is_empty()).then_some(WaveHalt::Failed(failures)),
            }
        })
    }
}

/// Without gates (`--no-wait`, `gates.wait: false`) nothing can be stepped: a staged update
/// is applied whole instead, releasing any hold an earlier staged rollout left, and the plan
/// says so.
pub(super) fn unstage(plan: &mut Plan) {
    for change in &mut plan.changes {
        if let Some(Staging::Steps { spec, .. }) = &change.staging {
            let said = format!("{spec}: not stepped, gates are off (--no-wait or gates.wait: false); applied whole");
            change.note = Some(match change.note.take() {
                Some(note) => format!("{note}; {said}"),
                None => said,
            });
            change.staging = Some(Staging::Release {
                left: "none (gates are off)".into(),
            });
        }
    }
}
