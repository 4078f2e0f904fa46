//! The replica's side of `--shards`: every retry period it lists the sharding Leases once,
//! renews its own replica Lease, works out which shards it should own among the live
//! replicas, takes the free ones of those, renews the ones it holds, and hands over the ones
//! that moved. Expiry is judged as `cluster::leader` judges the leader Lease: by this
//! replica's monotonic clock since the Lease last changed, never by comparing wall clocks.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use serde::Serialize;
use tokio::sync::watch;
use tokio::time::Instant;

use super::assign::assign;
use super::tenure::{Ownership, Seat};
use super::{
    replica_lease_name, shard_lease_name, shard_of, ShardCount, LEASE_ROLE_LABEL,
    SHARD_COUNT_ANNOTATION,
};
use crate::cancel::StopReason;
use crate::cluster::leader::{LeaseMark, Observation, Verdict};
use crate::cluster::{Cluster, ClusterError};

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

/// Who holds what, as this replica last saw it: for `/api/apps`, `/metrics` and hand-offs.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShardSnapshot {
    /// This replica's identity.
    pub identity: String,
    /// The number of shards.
    pub shards: u32,
    /// The live replicas (this one included once registered), sorted.
    pub replicas: Vec<String>,
    /// The holder of each shard (index = shard); `None` while free.
    pub holders: Vec<Option<String>>,
    /// The shards this replica syncs now.
    pub held_here: Vec<u32>,
}

/// A cheap, shared read view of the sharding.
#[derive(Debug, Clone)]
pub struct ShardTable {
    count: ShardCount,
    snapshot: Arc<RwLock<ShardSnapshot>>,
}

impl ShardTable {
    /// The shard of `app`.
    pub fn shard_of(&self, app: &str) -> u32 {
        shard_of(app, self.count)
    }

    /// The latest snapshot.
    pub fn snapshot(&self) -> ShardSnapshot {
        match self.snapshot.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// `app`'s shard and the replica holding it (`None` while free).
    pub fn owner_of(&self, app: &str) -> (u32, Option<String>) {
        let shard = self.shard_of(app);
        let snapshot = self.snapshot();
        let holder = snapshot.holders.get(shard as usize).cloned().flatten();
        (shard, holder)
    }

    /// True while this replica syncs `app`'s shard.
    pub fn syncs_here(&self, app: &str) -> bool {
        let shard = self.shard_of(app);
        self.snapshot().held_here.contains(&shard)
    }

    fn publish(&self, snapshot: ShardSnapshot) {
        match self.snapshot.write() {
            Ok(mut s) => *s = snapshot,
            Err(poisoned) => *poisoned.into_inner() = snapshot,
        }
    }
}

/// Where this replica stands with one shard.
#[derive(Debug, Clone)]
enum Holding {
    /// Not held.
    No,
    /// Held and synced here; last renewed at the instant.
    Yes { renewed: Instant },
    /// Held, but assigned to `to`: no new syncs; released once running ones stop.
    HandingOver {
        renewed: Instant,
        since: Instant,
        to: String,
        cancelled: bool,
    },
}

/// Runs this replica's side of the sharding (see the module doc).
pub struct ShardManager {
    cluster: Cluster,
    namespace: String,
    identity: String,
    count: ShardCount,
    timings: ShardTimings,
    seats: Vec<Seat>,
    holding: Vec<Holding>,
    observed: BTreeMap<String, Observation>,
    registered: Option<Instant>,
    /// The live replicas at the last round, and how many rounds in a row no replica joined.
    last_members: Vec<String>,
    calm_rounds: u32,
    table: ShardTable,
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
            .filter_map(|(name, lease)| {
                let observed = self.observed.get(name)?;
                match observed.judge(&self.identity, lease_duration(lease, &self.timings), now) {
                    Verdict::HeldBy(holder) => Some(holder),
                    Verdict::Ours | Verdict::Free => None,
                }
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
                self.observed.get(*name).is_some_and(|o| {
                    matches!(
                        o.judge(&self.identity, lease_duration(lease, &self.timings), now),
                        Verdict::HeldBy(_)
                    )
                })
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

    /// Creates or renews this replica's own Lease.
    async fn register(&mut self, current: Option<&Lease>, now: Instant) {
        let name = replica_lease_name(&self.identity);
        let verdict = match (current, self.observed.get(&name)) {
            (Some(lease), Some(observed)) => {
                observed.judge(&self.identity, lease_duration(lease, &self.timings), now)
            }
            _ => Verdict::Free,
        };
        if let Verdict::HeldBy(other) = verdict {
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
    async fn forget_gone_replicas(&mut self, by_name: &BTreeMap<String, Lease>, now: Instant) {
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

    /// One shard's step of a round.
    async fn step(
        &mut self,
        shard: u32,
        lease: Option<&Lease>,
        assigned: Option<String>,
        now: Instant,
    ) {
        let name = shard_lease_name(shard);
        let verdict = match (lease, self.observed.get(&name)) {
            (Some(l), Some(o)) => o.judge(&self.identity, lease_duration(l, &self.timings), now),
            _ => Verdict::Free,
        };
        let ours = assigned.as_deref() == Some(self.identity.as_str());
        let index = shard as usize;
        if let Verdict::HeldBy(holder) = &verdict {
            if !matches!(self.holding[index], Holding::No) {
                tracing::warn!(shard, %holder, "shard taken by another replica: stopping its syncs");
                self.seats[index].cancel(StopReason::ShardLost {
                    shard,
                    detail: format!("the lease is now held by {holder}"),
                });
                self.holding[index] = Holding::No;
            }
            return;
        }
        match self.holding[index].clone() {
            Holding::No => {
                if ours {
                    match self.write_lease(&name, "shard", lease).await {
                        Ok(true) => {
                            tracing::info!(shard, identity = %self.identity, "took shard");
                            self.holding[index] = Holding::Yes { renewed: now };
                            self.seats[index].grant();
                        }
                        Ok(false) => {}
                        Err(e) => tracing::warn!(shard, error = %e, "could not take shard"),
                    }
                }
            }
            Holding::Yes { renewed } => {
                let renewed = self.renew(&name, lease, renewed, now).await;
                self.holding[index] = match assigned {
                    Some(to) if to != self.identity => {
                        tracing::info!(shard, %to, "shard moves to another replica: finishing its running syncs");
                        self.seats[index].drain();
                        Holding::HandingOver {
                            renewed,
                            since: now,
                            to,
                            cancelled: false,
                        }
                    }
                    _ => Holding::Yes { renewed },
                };
            }
            Holding::HandingOver {
                renewed,
                since,
                to,
                cancelled,
            } => {
                if ours {
                    self.seats[index].grant();
                    let renewed = self.renew(&name, lease, renewed, now).await;
                    self.holding[index] = Holding::Yes { renewed };
                    return;
                }
                if self.seats[index].running() == 0 {
                    self.seats[index].cancel(StopReason::ShardHandedOver {
                        shard,
                        to: to.clone(),
                    });
                    self.release(&name, lease).await;
                    tracing::info!(shard, %to, "handed shard over");
                    self.holding[index] = Holding::No;
                    return;
                }
                let renewed = self.renew(&name, lease, renewed, now).await;
                let cancel_now = !cancelled
                    && now.saturating_duration_since(since) >= self.timings.handover_grace;
                if cancel_now {
                    tracing::warn!(shard, %to, "hand-over grace ran out: stopping the shard's running syncs");
                    self.seats[index].cancel(StopReason::ShardHandedOver {
                        shard,
                        to: to.clone(),
                    });
                }
                self.holding[index] = Holding::HandingOver {
                    renewed,
                    since,
                    to,
                    cancelled: cancelled || cancel_now,
                };
            }
        }
    }

    /// Renews a held shard Lease; returns when it was last renewed.
    async fn renew(
        &mut self,
        name: &str,
        lease: Option<&Lease>,
        renewed: Instant,
        now: Instant,
    ) -> Instant {
        match self.write_lease(name, "shard", lease).await {
            Ok(true) => now,
            Ok(false) => renewed,
            Err(e) => {
                tracing::warn!(lease = %name, error = %e, "renewing a shard lease failed; retrying");
                renewed
            }
        }
    }

    /// Stops the syncs of every held shard not renewed within the renew deadline: another
    /// replica may take it once the lease duration passes, which is later.
    fn enforce_deadlines(&mut self, now: Instant) {
        let deadline = self.timings.renew_deadline;
        for (index, holding) in self.holding.iter_mut().enumerate() {
            let renewed = match holding {
                Holding::Yes { renewed } | Holding::HandingOver { renewed, .. } => *renewed,
                Holding::No => continue,
            };
            if now.saturating_duration_since(renewed) < deadline {
                continue;
            }
            let shard = u32::try_from(index).unwrap_or(u32::MAX);
            tracing::warn!(
                shard,
                "no renewal of the shard lease succeeded in time: stopping its syncs"
            );
            self.seats[index].cancel(StopReason::ShardLost {
                shard,
                detail: format!("no renewal succeeded within {}s", deadline.as_secs()),
            });
            *holding = Holding::No;
        }
    }

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
        let mut replicas: Vec<String> = self
            .observed
            .iter()
            .filter(|(name, _)| name.starts_with("ferry-replica-"))
            .filter_map(
                |(_, o)| match o.judge(&self.identity, self.timings.lease_duration, now) {
                    Verdict::HeldBy(holder) => Some(holder),
                    Verdict::Ours | Verdict::Free => None,
                },
            )
            .collect();
        if self.registered.is_some() {
            replicas.push(self.identity.clone());
        }
        replicas.sort();
        replicas.dedup();
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

    /// Gives a Lease up (empty holder) if it is still ours.
    async fn release(&mut self, name: &str, lease: Option<&Lease>) {
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
    async fn write_lease(
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

fn role(lease: &Lease) -> Option<&str> {
    lease
        .metadata
        .labels
        .as_ref()?
        .get(LEASE_ROLE_LABEL)
        .map(String::as_str)
}

/// The lease's own duration, else ours.
fn lease_duration(lease: &Lease, timings: &ShardTimings) -> Duration {
    lease
        .spec
        .as_ref()
        .and_then(|s| s.lease_duration_seconds)
        .and_then(|s| u64::try_from(s).ok())
        .map_or(timings.lease_duration, Duration::from_secs)
}
