//! The Job side of a gate's watch: a Job that failed (name its last failed pod) and a Job
//! that vanished while gated (read the Job controller's events, which outlive it).

use k8s_openapi::api::core::v1::Event;

use super::runner::{Step, Watch};
use super::util::{decode_all, uid};
use super::workload::Workload;
use super::{job, GateResult, RolloutError};

impl Watch<'_> {
    /// A Job that vanished while gated was most likely removed by its
    /// `ttlSecondsAfterFinished` right after finishing, possibly before a poll saw the result.
    /// The Job controller's events outlive it: `Completed` means success; a failure reason
    /// (BackoffLimitExceeded, DeadlineExceeded…) means failure. `None` when the events say
    /// neither.
    pub(super) async fn job_gone(&mut self) -> Result<Option<Step>, RolloutError> {
        let ns = self.target.namespace.clone();
        let known_uid = self.object.as_ref().map(|o| uid(o.metadata()).to_string());
        let events = self
            .cluster
            .list_events_for_name(&ns, "Job", &self.target.name)
            .await?;
        let events: Vec<Event> = decode_all(&format!("events of {}", self.target), events)?;
        // The last one in the server's order (oldest first).
        let finished = events.iter().rev().find(|e| {
            let about_it = known_uid
                .as_deref()
                .is_none_or(|u| e.involved_object.uid.as_deref() == Some(u));
            let reason = e.reason.as_deref().unwrap_or_default();
            about_it
                && (reason == "Completed"
                    || (e.type_.as_deref() == Some("Warning") && reason.ends_with("Exceeded")))
        });
        let Some(last) = finished else {
            return Ok(None);
        };
        let reason = last.reason.clone().unwrap_or_default();
        let message = last.message.clone().unwrap_or_default();
        let elapsed = self.started.elapsed();
        if reason == "Completed" {
            return Ok(Some(Step::Done(GateResult::Healthy {
                message: format!("{message}; then removed by its ttlSecondsAfterFinished"),
                elapsed,
            })));
        }
        Ok(Some(self.failed(&reason, message, None)))
    }

    /// A failed Job: name the last failed pod, its node and exit code.
    pub(super) async fn job_failed(
        &mut self,
        job: &Workload,
        reason: String,
        message: String,
    ) -> Result<Step, RolloutError> {
        let pods = match self.owned_pods(job).await {
            Ok(pods) => pods,
            Err(e) => {
                tracing::warn!(object = %self.target, error = %e, "could not list the Job's pods; reporting the failure without its last failed pod");
                Vec::new()
            }
        };
        let Some((pod, node, detail)) = job::last_failed_pod(&pods) else {
            return Ok(self.failed(&reason, message, None));
        };
        let at = node
            .as_deref()
            .map(|n| format!(" on {n}"))
            .unwrap_or_default();
        Ok(Step::Done(GateResult::Failed {
            reason,
            message: format!("{message}; last failed pod {pod}{at}: {detail}"),
            pod: Some(pod),
            node,
            elapsed: self.started.elapsed(),
        }))
    }
}
