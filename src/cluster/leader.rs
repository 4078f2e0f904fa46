//! Leader election on a Lease, the way client-go's `tools/leaderelection` does it, so two
//! `ferry serve` replicas never write at once.
//!
//! - **Expiry is judged by the local monotonic clock.** A standby remembers the last Lease it
//!   saw (holder, renewTime, resourceVersion) and when, by its own monotonic clock, that record
//!   last changed. The lease is free once it has not changed for `leaseDurationSeconds`. The
//!   server's `renewTime` is never compared with the local wall clock, so clock skew between
//!   replicas cannot hand the lease to two of them.
//! - **Renewals have a deadline shorter than the lease.** The leader renews every
//!   `retry_period`; when no renewal succeeded within `renew_deadline` (10 s by default, the
//!   lease lasts 15 s) it gives up leadership, so it has stopped before any standby can see the
//!   lease expire. Seeing another holder ends leadership at once.
//! - On a graceful stop the leader releases the lease (empty holder), so a standby takes over
//!   without waiting for expiry.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use tokio::sync::{oneshot, watch};
use tokio::time::Instant;

use super::{Cluster, ClusterError};
use crate::cancel::StopReason;

/// The Lease ferry's replicas compete for, in ferry's namespace.
pub const LEADER_LEASE: &str = "ferry-leader";

/// Timings of the election (client-go's defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElectionTimings {
    /// How long a standby waits, after the lease last changed, before taking it.
    pub lease_duration: Duration,
    /// How long the leader keeps trying to renew before it gives up leadership.
    pub renew_deadline: Duration,
    /// Pause between attempts (standby) and between renewals (leader).
    pub retry_period: Duration,
}

impl Default for ElectionTimings {
    fn default() -> Self {
        ElectionTimings {
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }
}

/// The part of a Lease whose change shows its holder is alive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseMark {
    /// `spec.holderIdentity` (empty when released).
    pub holder: String,
    /// `spec.renewTime` as the holder wrote it (compared, never interpreted).
    pub renew_time: Option<String>,
    /// `metadata.resourceVersion`.
    pub resource_version: Option<String>,
}

impl LeaseMark {
    /// The mark of a Lease as read.
    pub fn of(lease: &Lease) -> LeaseMark {
        let spec = lease.spec.as_ref();
        LeaseMark {
            holder: spec
                .and_then(|s| s.holder_identity.clone())
                .unwrap_or_default(),
            renew_time: spec
                .and_then(|s| s.renew_time.as_ref())
                .map(|t| t.0.to_string()),
            resource_version: lease.metadata.resource_version.clone(),
        }
    }
}

/// What this replica has seen of the Lease, timed by its own monotonic clock.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    last: Option<(LeaseMark, Instant)>,
}

/// Who may write, as judged from an [`Observation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// We hold the lease.
    Ours,
    /// Nobody holds it (released, or expired by our clock): we may take it.
    Free,
    /// Someone else holds it and has renewed it within the lease duration.
    HeldBy(String),
}

impl Observation {
    /// Records the Lease as read at `now`; the clock restarts only when the mark changed.
    pub fn observe(&mut self, mark: LeaseMark, now: Instant) {
        if self.last.as_ref().is_none_or(|(seen, _)| *seen != mark) {
            self.last = Some((mark, now));
        }
    }

    /// When the Lease last changed, by this replica's clock (`None` before it was seen).
    pub fn unchanged_since(&self) -> Option<Instant> {
        self.last.as_ref().map(|(_, since)| *since)
    }

    /// The verdict at `now` for `identity`, with the lease lasting `lease_duration` after its
    /// last observed change.
    pub fn judge(&self, identity: &str, lease_duration: Duration, now: Instant) -> Verdict {
        let Some((mark, since)) = &self.last else {
            return Verdict::Free;
        };
        if mark.holder.is_empty() {
            Verdict::Free
        } else if mark.holder == identity {
            Verdict::Ours
        } else if now.saturating_duration_since(*since) >= lease_duration {
            Verdict::Free
        } else {
            Verdict::HeldBy(mark.holder.clone())
        }
    }
}

/// The result of one acquire-or-renew attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Attempt {
    /// The lease is ours (acquired or renewed).
    Leading,
    /// Someone else holds it.
    HeldBy(String),
    /// Another write won a race; try again.
    Conflict,
}

/// One replica's side of the election.
pub struct Elector {
    cluster: Cluster,
    namespace: String,
    identity: String,
    timings: ElectionTimings,
    observed: Observation,
}

impl Elector {
    /// An elector for `identity` on [`LEADER_LEASE`] in `namespace`.
    pub fn new(
        cluster: Cluster,
        namespace: impl Into<String>,
        identity: impl Into<String>,
        timings: ElectionTimings,
    ) -> Elector {
        Elector {
            cluster,
            namespace: namespace.into(),
            identity: identity.into(),
            timings,
            observed: Observation::default(),
        }
    }

    /// This replica's identity.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// Waits until this replica holds the lease (API errors are logged and retried).
    pub async fn acquire(&mut self) -> Result<(), ClusterError> {
        self.cluster.ensure_namespace(&self.namespace).await?;
        loop {
            match self.attempt().await {
                Ok(Attempt::Leading) => return Ok(()),
                Ok(Attempt::HeldBy(holder)) => {
                    tracing::debug!(%holder, "leader lease held by another replica");
                }
                Ok(Attempt::Conflict) => {}
                Err(e) => tracing::warn!(error = %e, "could not read or take the leader lease"),
            }
            tokio::time::sleep(self.timings.retry_period).await;
        }
    }

    /// Keeps renewing the lease in the background until it is lost or released.
    pub fn hold(self) -> Leadership {
        let (lost_tx, lost_rx) = watch::channel(None);
        let (release_tx, release_rx) = oneshot::channel();
        let task = tokio::spawn(self.renew(lost_tx, release_rx));
        Leadership {
            lost: lost_rx,
            release: Some(release_tx),
            task,
        }
    }

    async fn renew(
        mut self,
        lost: watch::Sender<Option<String>>,
        mut release: oneshot::Receiver<()>,
    ) {
        let deadline = self.timings.renew_deadline;
        let mut last_renewed = Instant::now();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(self.timings.retry_period) => {}
                _ = &mut release => {
                    self.release().await;
                    return;
                }
            }
            loop {
                let started = Instant::now();
                let left = deadline.saturating_sub(started.saturating_duration_since(last_renewed));
                let failure = match tokio::time::timeout(left, self.attempt()).await {
                    Ok(Ok(Attempt::Leading)) => {
                        last_renewed = started;
                        break;
                    }
                    Ok(Ok(Attempt::HeldBy(holder))) => {
                        // Fails only when nobody watches the leadership any more.
                        let _ = lost.send(Some(format!("the lease is now held by {holder}")));
                        return;
                    }
                    Ok(Ok(Attempt::Conflict)) => "the lease changed meanwhile".to_string(),
                    Ok(Err(e)) => e.to_string(),
                    Err(_) => "the renewal did not answer in time".to_string(),
                };
                let left = deadline.saturating_sub(last_renewed.elapsed());
                if left.is_zero() {
                    let _ = lost.send(Some(format!(
                        "no renewal succeeded within {}s: {failure}",
                        deadline.as_secs()
                    )));
                    return;
                }
                tracing::warn!(error = %failure, "renewing the leader lease failed; retrying");
                tokio::time::sleep(self.timings.retry_period.min(left)).await;
            }
        }
    }

    /// One acquire-or-renew, as client-go's `tryAcquireOrRenew`.
    async fn attempt(&mut self) -> Result<Attempt, ClusterError> {
        let now = Instant::now();
        let wall = MicroTime(k8s_openapi::jiff::Timestamp::now());
        let seconds = i32::try_from(self.timings.lease_duration.as_secs()).unwrap_or(i32::MAX);
        let Some(mut lease) = self
            .cluster
            .get_lease(&self.namespace, LEADER_LEASE)
            .await?
        else {
            let mut lease = Lease::default();
            lease.metadata.name = Some(LEADER_LEASE.to_string());
            lease.metadata.namespace = Some(self.namespace.clone());
            lease.spec = Some(LeaseSpec {
                holder_identity: Some(self.identity.clone()),
                lease_duration_seconds: Some(seconds),
                acquire_time: Some(wall.clone()),
                renew_time: Some(wall),
                lease_transitions: Some(0),
                ..Default::default()
            });
            return Ok(
                match self.cluster.create_lease(&self.namespace, &lease).await? {
                    Some(created) => {
                        self.observed.observe(LeaseMark::of(&created), now);
                        Attempt::Leading
                    }
                    None => Attempt::Conflict,
                },
            );
        };
        self.observed.observe(LeaseMark::of(&lease), now);
        let duration = lease
            .spec
            .as_ref()
            .and_then(|s| s.lease_duration_seconds)
            .and_then(|s| u64::try_from(s).ok())
            .map_or(self.timings.lease_duration, Duration::from_secs);
        let verdict = self.observed.judge(&self.identity, duration, now);
        if let Verdict::HeldBy(holder) = verdict {
            return Ok(Attempt::HeldBy(holder));
        }
        let spec = lease.spec.get_or_insert_with(Default::default);
        if verdict != Verdict::Ours {
            spec.holder_identity = Some(self.identity.clone());
            spec.acquire_time = Some(wall.clone());
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
        }
        spec.renew_time = Some(wall);
        spec.lease_duration_seconds = Some(seconds);
        Ok(
            match self.cluster.replace_lease(&self.namespace, &lease).await? {
                Some(written) => {
                    self.observed.observe(LeaseMark::of(&written), now);
                    Attempt::Leading
                }
                None => Attempt::Conflict,
            },
        )
    }

    /// Gives the lease up (empty holder) if it is still ours.
    async fn release(&mut self) {
        let result = async {
            let Some(mut lease) = self
                .cluster
                .get_lease(&self.namespace, LEADER_LEASE)
                .await?
            else {
                return Ok(None);
            };
            if LeaseMark::of(&lease).holder != self.identity {
                return Ok(None);
            }
            let spec = lease.spec.get_or_insert_with(Default::default);
            spec.holder_identity = None;
            spec.lease_duration_seconds = Some(1);
            spec.renew_time = Some(MicroTime(k8s_openapi::jiff::Timestamp::now()));
            self.cluster.replace_lease(&self.namespace, &lease).await
        };
        match result.await {
            Ok(Some(_)) => tracing::info!(identity = %self.identity, "released the leader lease"),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not release the leader lease"),
        }
    }
}

/// A held leadership: renewed in the background until lost or released.
pub struct Leadership {
    lost: watch::Receiver<Option<String>>,
    release: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Leadership {
    /// Resolves with why leadership was lost (another holder, or no renewal in time).
    pub fn lost(&self) -> impl std::future::Future<Output = String> + Send + 'static {
        let mut lost = self.lost.clone();
        async move {
            match lost.wait_for(Option::is_some).await {
                Ok(why) => why.clone().unwrap_or_default(),
                Err(_) => "the renewal task stopped".to_string(),
            }
        }
    }

    /// Stops renewing and gives the lease up, so a standby takes over at once.
    pub async fn release(mut self) {
        if let Some(release) = self.release.take() {
            // Fails only when the renewal task has already ended.
            let _ = release.send(());
        }
        if let Err(e) = (&mut self.task).await {
            tracing::warn!(error = %e, "the lease renewal task panicked or was cancelled");
        }
    }
}

/// The identity of this replica when none is given: `<hostname>-<pid>`.
pub fn default_identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map_or_else(|_| "ferry".into(), |h| h.trim().to_string());
    format!("{host}-{}", std::process::id())
}

/// `ferry serve`: with an elector, waits for the lease, turns `start` true, and holds the
/// lease until it is lost or `signal` resolves; without one, waits for `signal`. Returns why
/// to stop and, when still leading, the leadership to release once the work has stopped.
pub async fn lead_until(
    elector: Option<Elector>,
    start: &watch::Sender<bool>,
    signal: impl std::future::Future<Output = ()>,
) -> (StopReason, Option<Leadership>) {
    tokio::pin!(signal);
    let Some(mut elector) = elector else {
        signal.await;
        return (StopReason::Shutdown, None);
    };
    tokio::select! {
        _ = &mut signal => return (StopReason::Shutdown, None),
        acquired = elector.acquire() => if let Err(e) = acquired {
            let detail = format!("leader election failed: {e}");
            return (StopReason::LeaseLost { detail }, None);
        },
    }
    eprintln!("ferry serve: leading as {}", elector.identity());
    // Fails only when nobody waits for the start signal any more.
    let _ = start.send(true);
    let leadership = elector.hold();
    let lost = leadership.lost();
    tokio::select! {
        _ = &mut signal => (StopReason::Shutdown, Some(leadership)),
        detail = lost => (StopReason::LeaseLost { detail }, None),
    }
}

#[cfg(test)]
#[path = "leader_tests.rs"]
mod tests;
