//! Staged rollouts, stepped by the gate: a StatefulSet partition by partition, a DaemonSet
//! node batch by node batch (pods evicted through the Eviction API, canary nodes first), each
//! step watched until its pods are Ready and then for the soak (no fail-fast problem beyond
//! the grace period, restarts not increasing). The step in progress is written on the object
//! (`ferry.dev/rollout-step`, owned by `ferry-rollout`) so a restarted ferry resumes there.
//! After the last step, git's update strategy is applied again and the hold released; a
//! failed DaemonSet step restores it too, so a DaemonSet is never left on `OnDelete`. A failed
//! StatefulSet step keeps its partition: later ordinals stay on the old revision.

use std::collections::BTreeSet;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;
use serde_json::{json, Value};
use tokio::time::Instant;

use super::runner::{Step, Watch};
use super::steps::{self, ordinal_range, StepOutcome};
use super::util::name;
use super::workload::Workload;
use super::{statefulset, GateResult, GateState, RolloutError, StagedTarget};
use crate::cluster::{ClusterError, FIELD_MANAGER};
use crate::plan::staged::{held_fields, hold_object, RolloutMark, ROLLOUT_MANAGER};

/// Where a staged rollout stands inside one gate.
pub(super) struct StageState {
    pub(super) target: StagedTarget,
    /// The step in progress, 0-based.
    pub(super) index: usize,
    pub(super) step_started: Instant,
    pub(super) ready_since: Option<Instant>,
    pub(super) restarts_at_ready: i64,
    pub(super) outcomes: Vec<StepOutcome>,
    /// The hold was handed back to git (after the last step, or a failed DaemonSet step).
    pub(super) finished: bool,
    /// The step index last written into the mark on the object.
    pub(super) marked: Option<usize>,
    pub(super) canary: Option<BTreeSet<String>>,
    pub(super) initial_nodes: Option<BTreeSet<String>>,
    pub(super) evicting: Vec<steps::Victim>,
    pub(super) covers: String,
}

impl StageState {
    /// A rollout about to start (or resume) at its first step not yet done.
    pub(super) fn new(target: StagedTarget) -> StageState {
        let of = target.spec.steps.len() as u32;
        let index = target.resume_at.map_or(0, |s| s.clamp(1, of) as usize - 1);
        let outcomes = (0..index)
            .map(|i| StepOutcome {
                step: i as u32 + 1,
                of,
                covers: "—".into(),
                result: "done-earlier".into(),
                elapsed: std::time::Duration::ZERO,
            })
            .collect();
        StageState {
            target,
            index,
            step_started: Instant::now(),
            ready_since: None,
            restarts_at_ready: 0,
            outcomes,
            finished: false,
            marked: None,
            canary: None,
            initial_nodes: None,
            evicting: Vec::new(),
            covers: String::new(),
        }
    }

    fn of(&self) -> u32 {
        self.target.spec.steps.len() as u32
    }

    /// `step 2/3 (ordinals 2–4)`.
    pub(super) fn label(&self) -> String {
        let mut text = format!("step {}/{}", self.index + 1, self.of());
        if !self.covers.is_empty() {
            text.push_str(&format!(" ({})", self.covers));
        }
        text
    }

    /// Records how the step in progress ended.
    pub(super) fn record(&mut self, result: &str) {
        if self.outcomes.len() > self.index {
            return;
        }
        self.outcomes.push(StepOutcome {
            step: self.index as u32 + 1,
            of: self.of(),
            covers: self.covers.clone(),
            result: result.to_string(),
            elapsed: self.step_started.elapsed(),
        });
    }

    fn advance(&mut self) {
        self.record("healthy");
        self.index += 1;
        self.step_started = Instant::now();
        self.ready_since = None;
        self.evicting.clear();
        self.covers.clear();
    }

    /// The soak of a step whose pods are all Ready: `None` while soaking (with the time
    /// left), `Some(Ok)` once it held for the soak, `Some(Err)` when restarts increased.
    fn soak(&mut self, restarts: i64) -> Result<Option<std::time::Duration>, String> {
        let now = Instant::now();
        let since = *self.ready_since.get_or_insert_with(|| {
            self.restarts_at_ready = restarts;
            now
        });
        if restarts > self.restarts_at_ready {
            return Err(format!(
                "containers restarted {} time(s) during the soak",
                restarts - self.restarts_at_ready
            ));
        }
        let held = now - since;
        Ok(self
            .target
            .spec
            .soak
            .checked_sub(held)
            .filter(|d| !d.is_zero()))
    }
}

impl Watch<'_> {
    /// One poll of a staged rollout: `None` once every step is done and git's strategy is
    /// back (the ordinary evaluation then confirms the result).
    pub(super) async fn poll_staged(
        &mut self,
        obj: &Workload,
    ) -> Result<Option<Step>, RolloutError> {
        let Some(mut st) = self.stage.take() else {
            return Ok(None);
        };
        let mut result = Ok(None);
        // A step that just passed starts the next one in the same poll (its write does not
        // need a fresher status), so widening costs no extra poll interval.
        for _ in 0..2 {
            if st.finished {
                result = Ok(None);
                break;
            }
            let index = st.index;
            result = match obj {
                Workload::StatefulSet(sts) => self.step_statefulset(&mut st, obj, sts).await,
                Workload::DaemonSet(ds) => self.step_daemonset(&mut st, obj, ds).await,
                Workload::Job(_) => Ok(None),
            };
            let advanced = st.index > index && !st.finished;
            if !advanced || !matches!(result, Ok(Some(Step::Wait(..)))) {
                break;
            }
        }
        let result = match result {
            Ok(Some(Step::Done(GateResult::Failed {
                reason,
                message,
                pod,
                node,
                elapsed,
            }))) => {
                let label = st.label();
                st.record("failed");
                if matches!(obj, Workload::DaemonSet(_)) {
                    self.hand_back(&mut st).await?;
                }
                Ok(Some(Step::Done(GateResult::Failed {
                    reason,
                    message: format!("{label}: {message}"),
                    pod,
                    node,
                    elapsed,
                })))
            }
            other => other,
        };
        self.stage = Some(st);
        result
    }

    async fn step_statefulset(
        &mut self,
        st: &mut StageState,
        obj: &Workload,
        sts: &StatefulSet,
    ) -> Result<Option<Step>, RolloutError> {
        let replicas = statefulset::replicas(sts);
        let git_partition = st
            .target
            .restore
            .pointer("/spec/updateStrategy/rollingUpdate/partition")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            .clamp(0, replicas);
        let targets = st.target.spec.targets((replicas - git_partition) as u32);
        if st.index >= targets.len() {
            self.hand_back(st).await?;
            return Ok(None);
        }
        let partition = replicas - i64::from(targets[st.index]);
        st.covers = format!("ordinals {}", ordinal_range(partition, replicas - 1));
        if statefulset::partition(sts) != partition || st.marked != Some(st.index) {
            let strategy = json!({"rollingUpdate": {"partition": partition}});
            self.write_hold(st, strategy).await?;
            let message = format!("{}: partition set to {partition}", st.label());
            return Ok(Some(Step::Wait(GateState::Progressing, message)));
        }
        // The partition is written from the spec; judging pods needs the observed status.
        if !statefulset::observed(sts) {
            let message = format!(
                "{}: waiting for the controller to observe the new template",
                st.label()
            );
            return Ok(Some(Step::Wait(GateState::Progressing, message)));
        }
        let step = self
            .inspect_pods(obj, GateState::Progressing, st.label())
            .await?;
        let Step::Wait(_, detail) = step else {
            return Ok(Some(step));
        };
        let progress = steps::statefulset_step(sts, &self.pods, partition);
        if !progress.complete() {
            st.ready_since = None;
            let waiting: Vec<String> = progress.waiting.iter().map(ToString::to_string).collect();
            let message = format!(
                "{detail}; {}/{} pods of the step on the new revision and Ready (waiting for ordinal {})",
                progress.done.len(),
                progress.done.len() + progress.waiting.len(),
                waiting.join(", ")
            );
            return Ok(Some(Step::Wait(GateState::Progressing, message)));
        }
        let sts_name = name(&sts.metadata).to_string();
        let step_pods: Vec<&Pod> = self
            .pods
            .iter()
            .filter(|p| statefulset::ordinal(&sts_name, p).is_some_and(|o| o >= partition))
            .collect();
        let restarts = steps::restarts(&step_pods);
        self.after_ready(st, restarts).await
    }

    /// The step's pods are all Ready (`restarts`: their containers' restarts so far): soak them, then widen (or finish after the last step).
    pub(super) async fn after_ready(
        &mut self,
        st: &mut StageState,
        restarts: i64,
    ) -> Result<Option<Step>, RolloutError> {
        match st.soak(restarts) {
            Err(why) => Ok(Some(self.failed("RestartedDuringSoak", why, None))),
            Ok(Some(left)) => {
                let message = format!(
                    "{}: Ready; soaking, {}s left of {}s",
                    st.label(),
                    left.as_secs(),
                    st.target.spec.soak.as_secs()
                );
                Ok(Some(Step::Wait(GateState::Soaking, message)))
            }
            Ok(None) => {
                let label = st.label();
                tracing::info!(object = %self.target, step = %label, "staged rollout: step healthy");
                st.advance();
                self.timeout_from = Instant::now();
                if st.index as u32 >= st.of() {
                    self.hand_back(st).await?;
                    return Ok(None);
                }
                let message = format!(
                    "{label}: healthy; starting step {}/{}",
                    st.index + 1,
                    st.of()
                );
                Ok(Some(Step::Wait(GateState::Progressing, message)))
            }
        }
    }

    /// Writes the hold as `ferry-rollout`: the pacing field and the mark of the step in
    /// progress.
    pub(super) async fn write_hold(
        &self,
        st: &mut StageState,
        strategy: Value,
    ) -> Result<(), ClusterError> {
        let mark = RolloutMark {
            step: st.index as u32 + 1,
            steps: st.of(),
            commit: st.target.commit.clone(),
        };
        let kind = &st.target.kind;
        let hold = hold_object(
            &kind.resource.api_version,
            &kind.resource.kind,
            Some(&self.target.namespace),
            &self.target.name,
            &mark,
            strategy,
        );
        self.cluster
            .apply_as(
                ROLLOUT_MANAGER,
                kind,
                Some(&self.target.namespace),
                &self.target.name,
                &hold,
                false,
            )
            .await?;
        st.marked = Some(st.index);
        st.ready_since = None;
        Ok(())
    }

    /// Gives the pacing fields back to git: applies git's object again when it sets one of
    /// them (so ferry owns git's value before the hold goes), then releases `ferry-rollout`.
    pub(super) async fn hand_back(&self, st: &mut StageState) -> Result<(), ClusterError> {
        if st.finished {
            return Ok(());
        }
        let kind = &st.target.kind;
        let ns = Some(self.target.namespace.as_str());
        let git_sets_held = held_fields(&kind.resource.kind)
            .iter()
            .any(|p| st.target.restore.pointer(p).is_some());
        if git_sets_held {
            self.cluster
                .apply_as(
                    FIELD_MANAGER,
                    kind,
                    ns,
                    &self.target.name,
                    &st.target.restore,
                    false,
                )
                .await?;
        }
        self.cluster
            .release_fields(ROLLOUT_MANAGER, kind, ns, &self.target.name)
            .await?;
        tracing::info!(object = %self.target, "staged rollout: update strategy handed back to git");
        st.finished = true;
        Ok(())
    }
}
