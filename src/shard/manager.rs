//! The replica's side of `--shards`: every retry period it lists the sharding Leases once,
//! renews its own replica Lease, works out which shards it should own among the live
//! replicas, takes the free ones of those, renews the ones it holds, and hands over the ones
//! that moved. Expiry is judged as `cluster::leader` judges the leader Lease: by this
//! replica's monotonic clock since the Lease last changed, never by comparing wall clocks.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use tokio::sync::watch;
use tokio::time::Instant;

use super::assign::assign;
use super::leases::role;
use super::step::Holding;
use super::table::{ShardSnapshot, ShardTable};
use super::tenure::{Ownership, Seat};
use super::{
    replica_lease_name, shard_lease_name, shard_of, ShardCount, LEASE_ROLE_LABEL,
    SHARD_COUNT_ANNOTATION,
};
use crate::cancel::StopReason;
use crate::cluster::leader::{LeaseMark, Observation, Verdict};
use crate::cluster::Cluster;

/// Rounds without a replica joining before shards move (see [`ShardManager::run`]).
const CALM_ROUNDS: u32 = 2;

/// Timings of the sharding (the leader election's, plus the hand-over grace).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardTimings {
    /// How long a Lease lasts after it last changed (a dead replica's shards are taken after
    /// this).
    pub lease_duration: Duration,
    /// How long a holder keeps trying to renew a shard before it stops its syncs.
    pub renew_deadline: Duration,
    /// Pause between two rounds (list, renew, take, hand over).
    pub retry_period: Duration,
    /// How long running syncs of a shard that moved may go on before they are cancelled.
    pub handover_grace: Duration,
    /// A replica Lease unchanged this long belongs to a replica that is gone: it is deleted.
    pub forget_after: Duration,
}

impl Default for ShardTimings {
    fn default() -> Self {
        ShardTimings {
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
            handover_grace: Duration::from_secs(30),
            forget_after: Duration::from_secs(600),
        }
    }
}

/// Runs this replica's side of the sharding (see the module doc).
pub struct ShardManager {
    pub(super) cluster: Cluster,
    pub(super) namespace: String,
    pub(super) identity: String,
    pub(super) count: ShardCount,
    pub(super) timings: ShardTimings,
    pub(super) seats: Vec<Seat>,
    pub(super) holding: Vec<Holding>,
    pub(super) observed: BTreeMap<String, Observation>,
    pub(super) registered: Option<Instant>,
    /// The live replicas at the last round, and how many rounds in a row no replica joined.
    pub(super) last_members: Vec<String>,
    pub(super) calm_rounds: u32,
    pub(super) table: ShardTable,
}

impl ShardManager {
    /// A manager for `identity` over `count` shards, with its Leases in `namespace`.
    pub fn new(
        cluster: Cluster,
        namespace: impl Into<String>,
        identity: impl Into<String>,
        count: ShardCount,
        timings: ShardTimings,
    ) -> ShardManager {
        let identity = identity.into();
        let shards = count.get() as usize;
        let table = ShardTable {
            count,
            snapshot: Arc::new(RwLock::new(ShardSnapshot {
                identity: identity.clone(),
                shards: count.get(),
                replicas: Vec::new(),
                holders: vec![None; shards],
                held_here: Vec::new(),
            })),
        };
        ShardManager {
            cluster,
            namespace: namespace.into(),
            identity,
            count,
            timings,
            seats: (0..shards).map(|_| Seat::new()).collect(),
            holding: vec![Holding::No; shards],
            observed: BTreeMap::new(),
            registered: None,
            last_members: Vec::new(),
            calm_rounds: 0,
            table,
        }
    }

    /// What the loops of the apps of `shard` watch (shards past the count never get one).
    pub fn ownership(&self, shard: u32) -> Ownership {
        match self.seats.get(shard as usize) {
            Some(seat) => seat.subscribe(),
            None => Seat::new().subscribe(),
        }
    }

    /// The ownership an app's loop watches: its shard's.
    pub fn ownership_of(&self, app: &str) -> Ownership {
        self.ownership(shard_of(app, self.count))
    }

    /// The shared read view.
    pub fn table(&self) -> ShardTable {
        self.table.clone()
    }

    /// Runs rounds until `stop` turns true; then stops every shard's syncs, waits for them
    /// (at most the renew deadline), and releases the Leases so others take over at once.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        if let Err(e) = self.cluster.ensure_namespace(&self.namespace).await {
            tracing::warn!(error = %e, namespace = %self.namespace, "could not make sure ferry's namespace exists; retrying in the rounds");
        }
        loop {
            let deadline = self.timings.retry_period;
            if tokio::time::timeout(deadline, self.round()).await.is_err() {
                tracing::warn!("a sharding round did not finish within the retry period");
            }
            self.enforce_deadlines(Instant::now());
            self.publish();
            tokio::select! {
                _ = tokio::time::sleep(self.timings.retry_period) => {}
                _ = stop.wait_for(|s| *s) => break,
            }
        }
        self.shut_down().await;
    }

    /// One round: list, register, assign, take, renew, hand over.
    async fn round(&mut self) {
        let selector = LEASE_ROLE_LABEL.to_string();
        let leases = match self.cluster.list_leases(&self.namespace, &selector).await {
            Ok(leases) => leases,
            Err(e) => {
                tracing::warn!(error = %e, "could not list the sharding leases");
                return;
            }
        };
        let now = Instant::now();
        let by_name: BTreeMap<String, Lease> = leases
            .into_iter()
            .filter_map(|l| Some((l.metadata.name.clone()?, l)))
            .collect();
        for (name, lease) in &by_name {
            self.observed
                .entry(name.clone())
                .or_default()
                .observe(LeaseMark::of(lease), now);
        }
        self.observed.retain(|name, _| by_name.contains_key(name));
        self.register(by_name.get(&replica_lease_name(&self.identity)), now)
            .await;
        self.forget_gone_replicas(&by_name, now).await;
        let members = self.members(&by_name, now);
        // Shards move only once no replica has joined for CALM_ROUNDS rounds, so replicas
        // that start together divide the shards once instead of the first one taking all of
        // them and handing most back. A replica leaving needs no such wait: its shards are
        // taken as soon as their Leases expire.
        let joined = members.iter().any(|m| !self.last_members.contains(m));
        self.calm_rounds = if joined {
            0
        } else {
            self.calm_rounds.saturating_add(1)
        };
        self.last_members.clone_from(&members);
        let settled = self.registered.is_some() && self.calm_rounds >= CALM_ROUNDS;
        let skewed = self.skewed_shard_counts(&by_name, now);
        if !skewed.is_empty() {
            tracing::error!(ours = self.count.get(), theirs = ?skewed, "replicas run with different --shards: taking no shard until they agree");
        }
        let owners = assign(self.count, &members);
        for shard in 0..self.count.get() {
            let lease = by_name.get(&shard_lease_name(shard));
            let assigned = owners
                .get(shard as usize)
                .cloned()
                .flatten()
                .filter(|_| settled && skewed.is_empty());
            self.step(shard, lease, assigned, now).await;
        }
    }

    /// The live replicas: replica Leases whose holder has renewed within the lease duration.
    fn members(&self, by_name: &BTreeMap<String, Lease>, now: Instant) -> Vec<String> {
        let mut members: Vec<String> = by_name
            .iter()
            .filter(|(_, lease)| role(lease) == Some("replica"))
            .filter_map(|(name, lease)| match self.verdict(name, Some(lease), now) {
                Verdict::HeldBy(holder) => Some(holder),
                Verdict::Ours | Verdict::Free => None,
            })
            .collect();
        if self.registered.is_some() {
            members.push(self.identity.clone());
        }
        members.sort();
        members.dedup();
        members
    }

    /// Shard counts other than ours on shard Leases still held.
    fn skewed_shard_counts(&self, by_name: &BTreeMap<String, Lease>, now: Instant) -> Vec<String> {
        let mut counts: Vec<String> = by_name
            .iter()
            .filter(|(_, lease)| role(lease) == Some("shard"))
            .filter(|(name, lease)| {
                matches!(self.verdict(name, Some(lease), now), Verdict::HeldBy(_))
            })
            .filter_map(|(_, lease)| {
                let theirs = lease
                    .metadata
                    .annotations
                    .as_ref()?
                    .get(SHARD_COUNT_ANNOTATION)?
                    .clone();
                (theirs != self.count.to_string()).then_some(theirs)
            })
            .collect();
        counts.sort();
        counts.dedup();
        counts
    }

    /// Publishes what this replica now holds and sees, for the read view.
    fn publish(&self) {
        let now = Instant::now();
        let holders = (0..self.count.get())
            .map(|shard| {
                let index = shard as usize;
                if !matches!(self.holding[index], Holding::No) {
                    return Some(self.identity.clone());
                }
                let name = shard_lease_name(shard);
                match self.observed.get(&name)?.judge(
                    &self.identity,
                    self.timings.lease_duration,
                    now,
                ) {
                    Verdict::HeldBy(holder) => Some(holder),
                    Verdict::Ours | Verdict::Free => None,
                }
            })
            .collect();
        // The live replicas of the last round (this one included once registered).
        let replicas = self.last_members.clone();
        let held_here = self
            .seats
            .iter()
            .enumerate()
            .filter(|(_, seat)| seat.is_granted())
            .filter_map(|(i, _)| u32::try_from(i).ok())
            .collect();
        self.table.publish(ShardSnapshot {
            identity: self.identity.clone(),
            shards: self.count.get(),
            replicas,
            holders,
            held_here,
        });
    }

    /// Stops every shard's syncs, waits for them, releases the Leases.
    async fn shut_down(mut self) {
        for seat in &mut self.seats {
            seat.cancel(StopReason::Shutdown);
        }
        let waited = Instant::now();
        while self.seats.iter().any(|s| s.running() > 0)
            && waited.elapsed() < self.timings.renew_deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let selector = LEASE_ROLE_LABEL.to_string();
        let leases = match self.cluster.list_leases(&self.namespace, &selector).await {
            Ok(leases) => leases,
            Err(e) => {
                tracing::warn!(error = %e, "could not release the sharding leases; they expire instead");
                return;
            }
        };
        let mine = replica_lease_name(&self.identity);
        for lease in &leases {
            let Some(name) = lease.metadata.name.clone() else {
                continue;
            };
            let held = name == mine
                || (0..self.count.get()).any(|s| {
                    shard_lease_name(s) == name && !matches!(self.holding[s as usize], Holding::No)
                });
            if held {
                self.release(&name, Some(lease)).await;
            }
        }
        eprintln!("ferry serve: released the shards of {}", self.identity);
    }
}
