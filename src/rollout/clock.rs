//! The grace period: since when each pod has been failing.
//!
//! A pod's clock starts when a problem is first seen on it and stops only when the pod is
//! Ready or gone. A crash-looping container is briefly `Running` between back-offs (no problem
//! visible), which must not restart its grace period; a registry hiccup that heals makes the
//! pod Ready, which does.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;
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
    pub(crate) fn update(&mut self, now: Instant, problems: &[PodProblem], pods: &[Value]) {
        self.since.retain(|pod_uid, _| {
            problems.iter().any(|p| &p.pod_uid == pod_uid)
                || pods
                    .iter()
                    .any(|p| uid(p) == pod_uid && !terminating(p) && !pod_ready(p))
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
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(ready: bool) -> Value {
        json!({"metadata": {"name": "crash-1", "uid": "u1"},
               "status": {"conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}})
    }

    fn problem() -> PodProblem {
        PodProblem {
            pod: "crash-1".into(),
            pod_uid: "u1".into(),
            node: Some("kwok-worker-1".into()),
            container: Some("c".into()),
            reason: "CrashLoopBackOff".into(),
            message: String::new(),
            exit_code: Some(1),
        }
    }

    #[test]
    fn a_brief_running_phase_does_not_restart_the_grace_period() {
        let grace = Duration::from_secs(20);
        let t0 = Instant::now();
        let mut clock = GraceClock::default();
        let problems = vec![problem()];
        clock.update(t0, &problems, &[pod(false)]);
        assert!(clock
            .persisted(t0 + Duration::from_secs(5), grace, &problems)
            .is_empty());
        // Restarted: running but not Ready, no problem visible.
        clock.update(t0 + Duration::from_secs(10), &[], &[pod(false)]);
        // Backing off again after the grace period: fails at once.
        let later = t0 + Duration::from_secs(21);
        clock.update(later, &problems, &[pod(false)]);
        assert_eq!(clock.persisted(later, grace, &problems).len(), 1);
    }

    #[test]
    fn ready_or_gone_pods_restart_the_grace_period() {
        let grace = Duration::from_secs(20);
        let t0 = Instant::now();
        let mut clock = GraceClock::default();
        let problems = vec![problem()];
        clock.update(t0, &problems, &[pod(false)]);
        clock.update(t0 + Duration::from_secs(10), &[], &[pod(true)]);
        let later = t0 + Duration::from_secs(21);
        clock.update(later, &problems, &[pod(false)]);
        assert!(clock.persisted(later, grace, &problems).is_empty());
        clock.update(later, &[], &[]);
        assert_eq!(clock.since("u1"), None);
    }
}
