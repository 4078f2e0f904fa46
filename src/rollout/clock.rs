//! The grace period: since when each pod has been failing.
//!
//! A pod's clock starts when a problem is first seen on it and stops only when the pod is
//! Ready or gone. A crash-looping container is briefly `Running` between back-offs (no problem
//! visible), which must not restart its grace period; a registry hiccup that heals makes the
//! pod Ready, which does.

use std::collections::HashMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use tokio::time::Instant;

use super::util::{pod_ready, terminating, uid};
use super::PodProblem;

/// Since when each pod (by uid) has been failing.
#[derive(Debug, Default)]
pub(crate) struct GraceClock {
    since: HashMap<String, Instant>,
}

impl GraceClock {
    /// Starts clocks for pods with a problem now; stops those of pods that are Ready, being
    /// deleted, or gone from `pods`.
    pub(crate) fn update(&mut self, now: Instant, problems: &[PodProblem], pods: &[Pod]) {
        self.since.retain(|pod_uid, _| {
            problems.iter().any(|p| &p.pod_uid == pod_uid)
                || pods.iter().any(|p| {
                    uid(&p.metadata) == pod_uid && !terminating(&p.metadata) && !pod_ready(p)
                })
        });
        for p in problems {
            self.since.entry(p.pod_uid.clone()).or_insert(now);
        }
    }

    /// When the pod's clock started.
    pub(crate) fn since(&self, pod_uid: &str) -> Option<Instant> {
        self.since.get(pod_uid).copied()
    }

    /// The problems (seen now) whose pod has been failing for at least `grace`, oldest first.
    pub(crate) fn persisted<'p>(
        &self,
        now: Instant,
        grace: Duration,
        problems: &'p [PodProblem],
    ) -> Vec<&'p PodProblem> {
        let mut out: Vec<&PodProblem> = problems
            .iter()
            .filter(|p| {
                self.since(&p.pod_uid)
                    .is_some_and(|t| now.duration_since(t) >= grace)
            })
            .collect();
        out.sort_by_key(|p| self.since(&p.pod_uid));
        out
    }
}

#[cfg(test)]
#[path = "clock_tests.rs"]
mod tests;
