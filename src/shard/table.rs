//! The read view of the sharding that `/api/apps`, `/readyz`, the janitor and hand-offs use.

use std::sync::{Arc, RwLock};

use serde::Serialize;

use super::{shard_of, ShardCount};

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
    pub(super) count: ShardCount,
    pub(super) snapshot: Arc<RwLock<ShardSnapshot>>,
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

    pub(super) fn publish(&self, snapshot: ShardSnapshot) {
        match self.snapshot.write() {
            Ok(mut s) => *s = snapshot,
            Err(poisoned) => *poisoned.into_inner() = snapshot,
        }
    }
}
