//! Running the gates of one wave: poll each workload and its pods until healthy, failed or
//! timed out, reporting progress as it changes.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::{Event, Pod};
use tokio::time::Instant;

use super::clock::GraceClock;
use super::restart::{self, Pending};
use super::staged::StageState;
use super::util::uid;
use super::workload::Workload;
use super::{
    daemonset, statefulset, GateConfig, GateEvent, GateOutcome, GateResult, GateState, GateTarget,
    OnDeletePolicy, PodProblem, Progress, RolloutError, StagedTarget, StepMark, Supersede,
    WorkloadKind,
};
use crate::cancel::Cancel;
use crate::cluster::{Cluster, ServedKind};

/// The `Skipped` reason for OnDelete workloads under policy `skip`.
pub(crate) const ON_DELETE_SKIP: &str =
    "updateStrategy OnDelete: pods keep the old template until deleted (ferry.dev/on-delete: skip)";

/// Gates all `objects` concurrently and returns one outcome per object, in the same order.
///
/// Each gate reads its workload every `poll_interval` (its own `ferry.dev/*` annotations
/// override `config`), and while the rollout is not complete also the workload's pods of the
/// current revision (and, for pods with a problem, their events). It ends `Healthy` when the
/// evaluator says so, `Failed` as soon as more than `failures_allowed` pods have shown a
/// terminal problem for `grace` (or a Job failed), and `TimedOut` after `timeout` with the last
/// progress message. `on_event` receives a [`GateEvent`] whenever a gate's state or message
/// changes, including the final one.
pub async fn wait_healthy(
    cluster: &Cluster,
    objects: Vec<GateTarget>,
    config: &GateConfig,
    on_event: &(dyn Fn(GateEvent) + Send + Sync),
) -> Vec<GateOutcome> {
    wait_healthy_unless_superseded(cluster, objects, config, None, on_event).await
}

/// [`wait_healthy`], except that every gate still waiting stops with
/// [`GateResult::Superseded`] as soon as `supersede` learns of a newer commit (checked before
/// each poll and while sleeping between polls, so the wait ends at once).
pub async fn wait_healthy_unless_superseded(
    cluster: &Cluster,
    objects: Vec<GateTarget>,
    config: &GateConfig,
    supersede: Option<&Supersede>,
    on_event: &(dyn Fn(GateEvent) + Send + Sync),
) -> Vec<GateOutcome> {
    wait_healthy_until(
        cluster,
        objects,
        config,
        supersede,
        &Cancel::never(),
        on_event,
    )
    .await
}

/// [`wait_healthy_unless_superseded`], except that every gate still waiting also stops with
/// [`GateResult::Interrupted`] once `cancel` fires (checked before each poll, so a gate's own
/// step writes stop too, and while sleeping between polls).
pub async fn wait_healthy_until(
    cluster: &Cluster,
    objects: Vec<GateTarget>,
    config: &GateConfig,
    supersede: Option<&Supersede>,
    cancel: &Cancel,
    on_event: &(dyn Fn(GateEvent) + Send + Sync),
) -> Vec<GateOutcome> {
    let objects = objects.into_iter().map(|t| (t, None)).collect();
    wait_staged_until(cluster, objects, config, supersede, cancel, on_event).await
}

/// [`wait_healthy_until`], where a target with a [`StagedTarget`] is rolled out in steps
/// (see [`super::staged`]): each step gated, the step in progress marked on the object.
pub async fn wait_staged_until(
    cluster: &Cluster,
    objects: Vec<(GateTarget, Option<StagedTarget>)>,
    config: &GateConfig,
    supersede: Option<&Supersede>,
    cancel: &Cancel,
    on_event: &(dyn Fn(GateEvent) + Send + Sync),
) -> Vec<GateOutcome> {
    let gates = objects.into_iter().map(|(target, staged)| {
        let mut watch = Watch::new(cluster, target, config, on_event);
        watch.supersede = supersede.cloned();
        watch.cancel = cancel.clone();
        watch.stage = staged.map(StageState::new);
        watch.run()
    });
    futures::future::join_all(gates).await
}

pub(super) enum Step {
    Wait(GateState, String),
    Done(GateResult),
}

pub(super) struct Watch<'a> {
    pub(super) cluster: &'a Cluster,
    pub(super) target: GateTarget,
    pub(super) config: GateConfig,
    pub(super) configured: bool,
    pub(super) on_event: &'a (dyn Fn(GateEvent) + Send + Sync),
    pub(super) started: Instant,
    pub(super) kind: Option<ServedKind>,
    pub(super) object: Option<Workload>,
    pub(super) pods: Vec<Pod>,
    pub(super) last_event: Option<(GateState, String)>,
    pub(super) last_message: String,
    pub(super) last_error: Option<String>,
    pub(super) clock: GraceClock,
    pub(super) pod_events: HashMap<String, Vec<Event>>,
    pub(super) ds_hash: Option<(i64, String)>,
    pub(super) pending: Vec<Pending>,
    pub(super) supersede: Option<Supersede>,
    pub(super) cancel: Cancel,
    /// A staged rollout this gate steps.
    pub(super) stage: Option<StageState>,
    /// Where the timeout counts from: the start, or the start of the current step.
    pub(super) timeout_from: Instant,
}

impl<'a> Watch<'a> {
    fn new(
        cluster: &'a Cluster,
        target: GateTarget,
        config: &GateConfig,
        on_event: &'a (dyn Fn(GateEvent) + Send + Sync),
    ) -> Watch<'a> {
        Watch {
            cluster,
            target,
            config: config.clone(),
            configured: false,
            on_event,
            started: Instant::now(),
            kind: None,
            object: None,
            pods: Vec::new(),
            last_event: None,
            last_message: "waiting for the first status".into(),
            last_error: None,
            clock: GraceClock::default(),
            pod_events: HashMap::new(),
            ds_hash: None,
            pending: Vec::new(),
            supersede: None,
            cancel: Cancel::never(),
            stage: None,
            timeout_from: Instant::now(),
        }
    }

    async fn run(mut self) -> GateOutcome {
        tracing::debug!(object = %self.target, "gate started");
        loop {
            if let Some(reason) = self.cancel.reason() {
                return self.interrupted(reason.to_string()).await;
            }
            if let Some(by) = self.supersede.as_ref().and_then(Supersede::newer) {
                return self.superseded(by).await;
            }
            match self.poll().await {
                Ok(Step::Done(result)) => return self.finish(result).await,
                Ok(Step::Wait(state, message)) => {
                    self.last_error = None;
                    self.emit(state, &message);
                    self.last_message = message;
                }
                Err(e) => {
                    tracing::warn!(object = %self.target, error = %e, "gate could not read the workload");
                    self.last_error = Some(e.to_string());
                }
            }
            let elapsed = self.timeout_from.elapsed();
            if elapsed >= self.config.timeout {
                let mut message = self.last_message.clone();
                if let Some(e) = &self.last_error {
                    message.push_str(&format!("; last error: {e}"));
                }
                let elapsed = self.config.timeout;
                return self.finish(GateResult::TimedOut { message, elapsed }).await;
            }
            let left = self.config.timeout - elapsed;
            let pause = tokio::time::sleep(self.config.poll_interval.min(left));
            let cancel = self.cancel.clone();
            if let Some(mut supersede) = self.supersede.clone() {
                tokio::select! {
                    _ = pause => {}
                    by = supersede.wait() => return self.superseded(by).await,
                    reason = cancel.cancelled() => return self.interrupted(reason.to_string()).await,
                }
            } else {
                tokio::select! {
                    _ = pause => {}
                    reason = cancel.cancelled() => return self.interrupted(reason.to_string()).await,
                }
            }
        }
    }

    fn emit(&mut self, state: GateState, message: &str) {
        let key = (state, message.to_string());
        if self.last_event.as_ref() == Some(&key) {
            return;
        }
        tracing::debug!(object = %self.target, state = ?state, message, "gate progress");
        let step = self
            .stage
            .as_ref()
            .filter(|st| !st.finished)
            .map(|st| StepMark {
                step: st.index as u32 + 1,
                of: st.target.spec.steps.len() as u32,
            });
        (self.on_event)(GateEvent {
            target: self.target.clone(),
            state,
            message: message.to_string(),
            elapsed: self.started.elapsed(),
            step,
        });
        self.last_event = Some(key);
    }

    pub(super) fn failed(&self, reason: &str, message: String, pod: Option<&PodProblem>) -> Step {
        Step::Done(GateResult::Failed {
            reason: reason.to_string(),
            message,
            pod: pod.map(|p| p.pod.clone()),
            node: pod.and_then(|p| p.node.clone()),
            elapsed: self.started.elapsed(),
        })
    }

    async fn poll(&mut self) -> Result<Step, RolloutError> {
        let kind = if let Some(kind) = &self.kind {
            kind.clone()
        } else {
            let gvk = self.target.kind.group_version_kind();
            let Some(served) = self
                .cluster
                .served_kind(&gvk.group, &gvk.version, &gvk.kind)
                .await?
            else {
                let e = RolloutError::NotServed(gvk.to_string());
                return Ok(self.failed("NotServed", e.to_string(), None));
            };
            self.kind = Some(served.clone());
            served
        };
        let ns = self.target.namespace.clone();
        let Some(live) = self
            .cluster
            .get(&kind, Some(&ns), &self.target.name)
            .await?
        else {
            if self.target.kind == WorkloadKind::Job {
                if let Some(step) = self.job_gone().await? {
                    return Ok(step);
                }
            }
            let message = format!("{} does not exist (deleted while waiting?)", self.target);
            return Ok(self.failed("NotFound", message, None));
        };
        let obj = Workload::decode(&self.target, live)?;
        if !self.configured {
            match self.config.for_object(obj.metadata()) {
                Ok(config) => self.config = config,
                Err(e) => return Ok(self.failed("InvalidAnnotation", e.to_string(), None)),
            }
            self.configured = true;
        }
        self.object = Some(obj.clone());
        if let Some(step) = self.poll_staged(&obj).await? {
            return Ok(step);
        }
        let progress = obj.evaluate();
        let elapsed = self.started.elapsed();
        match progress {
            Progress::Healthy { message } => {
                Ok(Step::Done(GateResult::Healthy { message, elapsed }))
            }
            Progress::Skipped { reason } => Ok(Step::Done(GateResult::Skipped { reason })),
            Progress::Failed { reason, message } => self.job_failed(&obj, reason, message).await,
            Progress::Progressing { message } => {
                self.inspect_pods(&obj, GateState::Progressing, message)
                    .await
            }
            Progress::WaitingForPodDeletion { message } => match self.config.on_delete {
                OnDeletePolicy::Skip => Ok(Step::Done(GateResult::Skipped {
                    reason: ON_DELETE_SKIP.into(),
                })),
                OnDeletePolicy::Wait => {
                    let message = format!("waiting for pods to be deleted: {message}");
                    self.inspect_pods(&obj, GateState::WaitingForPodDeletion, message)
                        .await
                }
                OnDeletePolicy::RestartPods => self.restart_pods(&obj, message).await,
            },
        }
    }

    /// `restart-pods`: diagnose as usual, then delete the next old-revision pod if it is time.
    async fn restart_pods(
        &mut self,
        obj: &Workload,
        message: String,
    ) -> Result<Step, RolloutError> {
        let step = self
            .inspect_pods(obj, GateState::RestartingPods, message)
            .await?;
        let Step::Wait(state, mut message) = step else {
            return Ok(step);
        };
        let next = match obj {
            Workload::DaemonSet(ds) => {
                let hash = self.daemonset_hash(ds).await?;
                restart::daemonset_next(ds, hash.as_deref(), &self.pods, &mut self.pending)
            }
            Workload::StatefulSet(sts) => {
                restart::statefulset_next(sts, &self.pods, &mut self.pending)
            }
            Workload::Job(_) => None,
        };
        if let Some(pod) = next {
            self.cluster
                .delete_pod(&self.target.namespace, &pod.name, Some(&pod.uid))
                .await?;
            tracing::info!(object = %self.target, pod = %pod.name, node = ?pod.node, "deleted an old-revision pod (on-delete: restart-pods)");
            self.pending.push(pod);
        }
        if !self.pending.is_empty() {
            let names: Vec<&str> = self.pending.iter().map(|p| p.name.as_str()).collect();
            message = format!(
                "{message}; restarting {} on the current template",
                names.join(", ")
            );
        }
        Ok(Step::Wait(state, message))
    }

    pub(super) async fn finish(mut self, result: GateResult) -> GateOutcome {
        // Before the controller observed the latest generation, its revisions are stale.
        let observed = self.object.as_ref().filter(|o| o.observed());
        let revision = match observed {
            Some(obj @ (Workload::DaemonSet(_) | Workload::StatefulSet(_))) => {
                match self.revisions(obj.selector()).await {
                    Ok(revs) => match obj {
                        Workload::DaemonSet(ds) => {
                            daemonset::current_revision(uid(&ds.metadata), &revs).map(|(_, n)| n)
                        }
                        Workload::StatefulSet(sts) => {
                            statefulset::update_revision_number(sts, &revs)
                        }
                        Workload::Job(_) => None,
                    },
                    Err(e) => {
                        tracing::warn!(object = %self.target, error = %e, "could not read ControllerRevisions");
                        None
                    }
                }
            }
            _ => None,
        };
        let (state, message) = match &result {
            GateResult::Healthy { message, .. } => (GateState::Healthy, message.clone()),
            GateResult::Failed { message, .. } => (GateState::Failed, message.clone()),
            GateResult::Skipped { reason } => (GateState::Skipped, reason.clone()),
            GateResult::TimedOut { message, .. } => (GateState::TimedOut, message.clone()),
            GateResult::Superseded { .. } => (GateState::Superseded, result.text()),
            GateResult::Interrupted { .. } => (GateState::Interrupted, result.text()),
        };
        let steps = match self.stage.as_mut() {
            Some(st) => {
                if !st.finished {
                    st.record(outcome_word(&result));
                }
                std::mem::take(&mut st.outcomes)
            }
            None => Vec::new(),
        };
        self.emit(state, &message);
        let elapsed_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        tracing::info!(object = %self.target, state = ?state, revision, elapsed_ms, message = %message, "gate finished");
        GateOutcome {
            target: self.target,
            result,
            revision,
            steps,
        }
    }
}

/// The word a step's record gets for how its gate ended.
fn outcome_word(result: &GateResult) -> &'static str {
    match result {
        GateResult::Healthy { .. } => "healthy",
        GateResult::Failed { .. } => "failed",
        GateResult::Skipped { .. } => "skipped",
        GateResult::TimedOut { .. } => "timed-out",
        GateResult::Superseded { .. } => "superseded",
        GateResult::Interrupted { .. } => "interrupted",
    }
}
