//! Spreading apps over `ferry serve` replicas with Kubernetes Leases (`--shards`).
//!
//! - **Apps → shards** by a stable hash of the app name ([`shard_of`]): SHA-256, so every
//!   replica and every ferry version maps an app to the same shard.
//! - **Shards → replicas** by rendezvous hashing with bounded load ([`assign::assign`]) over
//!   the replicas that are alive: each replica renews a Lease of its own
//!   (`ferry-replica-<identity>`), and one that stops renewing is dead once its Lease has not
//!   changed for the lease duration. Adding a replica moves about `1/replicas` of the shards,
//!   and only to the new one.
//! - **The fence is the shard's Lease** (`ferry-shard-<n>`): a replica syncs the apps of a
//!   shard only while it holds that shard's Lease, judged the way `cluster::leader` judges
//!   the leader Lease (monotonic clock, renew deadline shorter than the lease). A replica that
//!   loses a shard cancels its syncs before their next write; one that hands a shard over (the
//!   assignment moved) lets running syncs finish for a grace period first, then releases the
//!   Lease so the new owner takes it at once.
//! - **Webhooks reach any replica**: the one that receives a push verifies it and, for an app
//!   whose shard another replica holds, writes a hand-off ConfigMap that every replica watches
//!   ([`handoff`]); the owner's watch turns it into the same webhook trigger.
//!
//! Kubernetes is the coordination engine: Leases and one ConfigMap per handed-off app, no
//! protocol of ferry's own.

pub mod assign;
pub mod handoff;
mod leases;
pub mod manager;
pub mod route;
mod step;
pub mod table;
pub mod tenure;

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

pub use manager::{ShardManager, ShardTimings};
pub use route::{RequestRouter, Routed};
pub use table::{ShardSnapshot, ShardTable};
pub use tenure::{Ownership, Seat, Tenure};

/// The shard count `--shards auto` uses: enough for up to 16 replicas, and fine-grained
/// enough that a 4th replica takes about a quarter of the apps.
pub const AUTO_SHARDS: u32 = 16;

/// The most shards `--shards` accepts (each is a Lease renewed every retry period).
pub const MAX_SHARDS: u32 = 256;

/// Label on every Lease of the sharding: `shard` or `replica`.
pub const LEASE_ROLE_LABEL: &str = "ferry.dev/lease";

/// Annotation on a shard Lease: the shard count of the replica that wrote it, so replicas
/// started with different `--shards` never split one app between two shards.
pub const SHARD_COUNT_ANNOTATION: &str = "ferry.dev/shards";

/// How many shards the apps are spread over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardCount(u32);

impl ShardCount {
    /// `count` shards; `None` outside 1..=[`MAX_SHARDS`].
    pub fn new(count: u32) -> Option<ShardCount> {
        (1..=MAX_SHARDS)
            .contains(&count)
            .then_some(ShardCount(count))
    }

    /// The number of shards.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for ShardCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A `--shards` value that is neither `auto` nor a count in range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--shards takes \"auto\" or a number of shards from 1 to {MAX_SHARDS}, not {0:?}")]
pub struct ShardCountError(String);

impl FromStr for ShardCount {
    type Err = ShardCountError;

    fn from_str(s: &str) -> Result<ShardCount, ShardCountError> {
        if s.eq_ignore_ascii_case("auto") {
            return Ok(ShardCount(AUTO_SHARDS));
        }
        s.trim()
            .parse::<u32>()
            .ok()
            .and_then(ShardCount::new)
            .ok_or_else(|| ShardCountError(s.to_string()))
    }
}

/// The shard of `app` among `count`: the first 8 bytes of SHA-256 of the name, modulo the
/// count. Stable across processes, platforms and versions.
pub fn shard_of(app: &str, count: ShardCount) -> u32 {
    let digest = Sha256::digest(app.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let hash = u64::from_be_bytes(first);
    // The remainder is below the count, itself a u32.
    u32::try_from(hash % u64::from(count.get())).unwrap_or(0)
}

/// The Lease of shard `shard`.
pub fn shard_lease_name(shard: u32) -> String {
    format!("ferry-shard-{shard}")
}

/// The Lease a replica renews to show it is alive: `ferry-replica-<identity>`, the identity
/// lowercased with every character a Lease name may not hold turned into `-`.
pub fn replica_lease_name(identity: &str) -> String {
    let mut name: String = identity
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '-' | '.') => c,
            _ => '-',
        })
        .collect();
    name.truncate(200);
    let name = name.trim_matches(|c| c == '-' || c == '.');
    format!("ferry-replica-{name}")
}

#[cfg(test)]
mod tests;
