//! Writing the sharding Leases: this replica's own (registration), taking and renewing a
//! shard's with the resourceVersion read (so two replicas never both win), releasing, and
//! forgetting replicas gone for good.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use tokio::time::Instant;

use super::manager::{ShardManager, ShardTimings};
use super::{replica_lease_name, LEASE_ROLE_LABEL, SHARD_COUNT_ANNOTATION};
use crate::cluster::leader::{LeaseMark, Observation, Verdict};
use crate::cluster::ClusterError;

impl ShardManager {
    /// What this replica makes of the Lease `name` as listed now: judged by its own clock
    /// since the Lease last changed, for the Lease's own duration; free when it is not there.
    pub(super) fn verdict(&self, name: &str, lease: Option<&Lease>, now: Instant) -> Verdict {
        match (lease, self.observed.get(name)) {
            (Some(lease), Some(observed)) => {
                observed.judge(&self.identity, lease_duration(lease, &self.timings), now)
            }
            _ => Verdict::Free,
        }
    }

    /// Creates or renews this replica's own Lease.
    pub(super) async fn register(&mut self, current: Option<&Lease>, now: Instant) {
        let name = replica_lease_name(&self.identity);
        if let Verdict::HeldBy(other) = self.verdict(&name, current, now) {
            tracing::error!(lease = %name, %other, identity = %self.identity, "another live replica has this replica's identity: taking no shard (give each replica its own --identity)");
            self.registered = None;
            return;
        }
        match self.write_lease(&name, "replica", current).await {
            Ok(true) => {
                if self.registered.is_none() {
                    eprintln!(
                        "ferry serve: replica {} joined the sharding ({} shards)",
                        self.identity, self.count
                    );
                }
                self.registered.get_or_insert(now);
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "could not renew this replica's lease"),
        }
    }

    /// Deletes replica Leases nobody renewed for [`ShardTimings::forget_after`].
    pub(super) async fn forget_gone_replicas(
        &mut self,
        by_name: &BTreeMap<String, Lease>,
        now: Instant,
    ) {
        for (name, lease) in by_name {
            if role(lease) != Some("replica") || *name == replica_lease_name(&self.identity) {
                continue;
            }
            let Some(since) = self
                .observed
                .get(name)
                .and_then(Observation::unchanged_since)
            else {
                continue;
            };
            if now.saturating_duration_since(since) < self.timings.forget_after {
                continue;
            }
            let Some(rv) = lease.metadata.resource_version.as_deref() else {
                continue;
            };
            match self
                .cluster
                .delete_lease_if(&self.namespace, name, rv)
                .await
            {
                Ok(true) => {
                    tracing::info!(lease = %name, "forgot a replica that stopped renewing its lease");
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(lease = %name, error = %e, "could not delete a stale replica lease");
                }
            }
        }
    }

    /// Gives a Lease up (empty holder) if it is still ours.
    pub(super) async fn release(&mut self, name: &str, lease: Option<&Lease>) {
        let Some(mut lease) = lease.cloned() else {
            return;
        };
        if LeaseMark::of(&lease).holder != self.identity {
            return;
        }
        let spec = lease.spec.get_or_insert_with(Default::default);
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(MicroTime(k8s_openapi::jiff::Timestamp::now()));
        match self.cluster.replace_lease(&self.namespace, &lease).await {
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(lease = %name, error = %e, "could not release a lease; it expires instead");
            }
        }
    }

    /// Takes or renews the Lease `name` for this replica: creates it when missing, else
    /// replaces it with the resourceVersion read (so two replicas never both win).
    /// `Ok(false)` when another write won the race.
    pub(super) async fn write_lease(
        &mut self,
        name: &str,
        role_value: &str,
        current: Option<&Lease>,
    ) -> Result<bool, ClusterError> {
        let now = Instant::now();
        let wall = MicroTime(k8s_openapi::jiff::Timestamp::now());
        let seconds = i32::try_from(self.timings.lease_duration.as_secs()).unwrap_or(i32::MAX);
        let mut lease = current.cloned().unwrap_or_else(|| {
            let mut lease = Lease::default();
            lease.metadata.name = Some(name.to_string());
            lease.metadata.namespace = Some(self.namespace.clone());
            lease
        });
        lease
            .metadata
            .labels
            .get_or_insert_with(Default::default)
            .insert(LEASE_ROLE_LABEL.to_string(), role_value.to_string());
        if role_value == "shard" {
            lease
                .metadata
                .annotations
                .get_or_insert_with(Default::default)
                .insert(SHARD_COUNT_ANNOTATION.to_string(), self.count.to_string());
        }
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            spec.holder_identity = Some(self.identity.clone());
            spec.acquire_time = Some(wall.clone());
            spec.lease_transitions =
                Some(spec.lease_transitions.unwrap_or(0) + i32::from(current.is_some()));
        }
        spec.renew_time = Some(wall);
        spec.lease_duration_seconds = Some(seconds);
        let written = if current.is_some() {
            self.cluster.replace_lease(&self.namespace, &lease).await?
        } else {
            self.cluster.create_lease(&self.namespace, &lease).await?
        };
        Ok(match written {
            Some(written) => {
                self.observed
                    .entry(name.to_string())
                    .or_default()
                    .observe(LeaseMark::of(&written), now);
                true
            }
            None => false,
        })
    }
}

pub(super) fn role(lease: &Lease) -> Option<&str> {
    lease
        .metadata
        .labels
        .as_ref()?
        .get(LEASE_ROLE_LABEL)
        .map(String::as_str)
}

/// The lease's own duration, else ours.
pub(super) fn lease_duration(lease: &Lease, timings: &ShardTimings) -> Duration {
    lease
        .spec
        .as_ref()
        .and_then(|s| s.lease_duration_seconds)
        .and_then(|s| u64::try_from(s).ok())
        .map_or(timings.lease_duration, Duration::from_secs)
}
