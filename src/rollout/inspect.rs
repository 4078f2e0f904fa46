//! The pod side of a gate: listing the workload's pods, picking those of the current
//! revision, diagnosing them and deciding when their problems fail the gate.

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use tokio::time::Instant;

use super::runner::{Step, Watch};
use super::util::{decode_all, generation, owned_by, selector_string, uid};
use super::workload::Workload;
use super::{daemonset, pods, statefulset, GateState, PodProblem, RolloutError};

/// Pod event lists fetched per poll at most (events only decorate messages).
const EVENT_FETCHES_PER_POLL: usize = 3;

impl Watch<'_> {
    /// Lists the workload's own pods (its selector, then ownerReferences).
    pub(super) async fn owned_pods(&self, workload: &Workload) -> Result<Vec<Pod>, RolloutError> {
        let Some(selector) = selector_string(workload.selector()) else {
            return Ok(Vec::new());
        };
        let pods = self
            .cluster
            .list_pods(&self.target.namespace, &selector)
            .await?;
        let pods: Vec<Pod> = decode_all(&format!("pods of {}", self.target), pods)?;
        let owner = uid(workload.metadata());
        Ok(pods
            .into_iter()
            .filter(|p| owned_by(&p.metadata, owner))
            .collect())
    }

    /// The hash of a DaemonSet's current revision, once the controller observed its generation.
    pub(super) async fn daemonset_hash(
        &mut self,
        ds: &DaemonSet,
    ) -> Result<Option<String>, RolloutError> {
        let generation = generation(&ds.metadata);
        if !daemonset::observed(ds) {
            return Ok(None);
        }
        if let Some((g, hash)) = &self.ds_hash {
            if *g == generation {
                return Ok(Some(hash.clone()));
            }
        }
        let revisions = self
            .revisions(ds.spec.as_ref().map(|s| &s.selector))
            .await?;
        let current =
            daemonset::current_revision(uid(&ds.metadata), &revisions).map(|(hash, _)| hash);
        if let Some(hash) = &current {
            self.ds_hash = Some((generation, hash.clone()));
        }
        Ok(current)
    }

    /// The ControllerRevisions matching the workload's `spec.selector`.
    pub(super) async fn revisions(
        &self,
        selector: Option<&LabelSelector>,
    ) -> Result<Vec<ControllerRevision>, RolloutError> {
        let Some(selector) = selector_string(selector) else {
            return Ok(Vec::new());
        };
        let revisions = self
            .cluster
            .list_controller_revisions(&self.target.namespace, &selector)
            .await?;
        decode_all(
            &format!("ControllerRevisions of {}", self.target),
            revisions,
        )
    }

    /// Reads the pods, diagnoses the current-revision ones, and fails the gate when problems
    /// outlasted the grace period on more pods than allowed.
    pub(super) async fn inspect_pods(
        &mut self,
        obj: &Workload,
        state: GateState,
        message: String,
    ) -> Result<Step, RolloutError> {
        let all = self.owned_pods(obj).await?;
        let current: Vec<Pod> = match obj {
            Workload::DaemonSet(ds) => {
                let hash = self.daemonset_hash(ds).await?;
                all.iter()
                    .filter(|p| daemonset::is_current_pod(ds, hash.as_deref(), p))
                    .cloned()
                    .collect()
            }
            Workload::StatefulSet(sts) => all
                .iter()
                .filter(|p| statefulset::is_current_pod(sts, p))
                .cloned()
                .collect(),
            Workload::Job(_) => all.clone(),
        };
        let mut message = message;
        if let Workload::StatefulSet(sts) = obj {
            if statefulset::observed(sts) {
                if let Some(ordinals) = statefulset::ordinal_progress(sts, &all) {
                    message = format!("{message}; {ordinals}");
                }
            }
        }
        self.pods = all;
        let mut problems = self.diagnose(&current).await;
        problems.sort_by_key(|p| self.clock.since(&p.pod_uid));
        let persisted = self
            .clock
            .persisted(Instant::now(), self.config.grace, &problems);
        if persisted.len() > self.config.failures_allowed as usize {
            let first = persisted[0];
            let mut text = first.to_string();
            if persisted.len() > 1 {
                let others: Vec<&str> = persisted[1..].iter().map(|p| p.pod.as_str()).collect();
                text.push_str(&format!(" (also failing: {})", others.join(", ")));
            }
            tracing::info!(object = %self.target, pod = %first.pod, reason = %first.reason, "gate failed on a pod problem");
            return Ok(self.failed(&first.reason, text, Some(first)));
        }
        if let Some(p) = problems.first() {
            message = format!("{message}; {p}");
        }
        Ok(Step::Wait(state, message))
    }

    /// Diagnoses pods, tracking since when each pod has been failing; fetches the events of
    /// pods that newly show a problem.
    pub(super) async fn diagnose(&mut self, current: &[Pod]) -> Vec<PodProblem> {
        let problems = pods::diagnose(current, &[]);
        self.clock.update(Instant::now(), &problems, current);
        self.pod_events
            .retain(|uid, _| problems.iter().any(|p| &p.pod_uid == uid));
        let mut fetched = 0;
        for p in &problems {
            let known = self
                .pod_events
                .get(&p.pod_uid)
                .is_some_and(|e| !e.is_empty());
            if fetched == EVENT_FETCHES_PER_POLL || known {
                continue;
            }
            fetched += 1;
            let events = self
                .cluster
                .list_events_for(&self.target.namespace, &p.pod_uid)
                .await;
            let what = format!("events of pod {}", p.pod);
            match events
                .map_err(RolloutError::from)
                .and_then(|e| decode_all(&what, e))
            {
                Ok(events) => {
                    self.pod_events.insert(p.pod_uid.clone(), events);
                }
                Err(e) => tracing::debug!(pod = %p.pod, error = %e, "could not read pod events"),
            }
        }
        if self.pod_events.is_empty() {
            return problems;
        }
        let events: Vec<Event> = self.pod_events.values().flatten().cloned().collect();
        pods::diagnose(current, &events)
    }
}
