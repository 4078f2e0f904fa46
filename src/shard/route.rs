//! Where a sync request (webhook, `POST /api/apps/<app>/sync`) goes when the apps are
//! sharded: into the app's own mailbox here, and, when another replica holds the app's
//! shard, to that replica through a hand-off ([`super::handoff`]).

use super::handoff::hand_off;
use super::ShardTable;
use crate::cluster::{Cluster, ClusterError};
use crate::trigger::{SyncRequests, TriggerKind};

/// Routes sync requests of a sharded `ferry serve`.
#[derive(Clone)]
pub struct RequestRouter {
    table: ShardTable,
    cluster: Cluster,
    namespace: String,
    identity: String,
}

/// Where a request went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routed {
    /// This replica holds the app's shard: its loop syncs.
    Here,
    /// Handed to the replica holding the shard (`None`: nobody holds it right now; whoever
    /// takes it syncs the app).
    HandedOff {
        /// The app's shard.
        shard: u32,
        /// Its holder as last seen.
        owner: Option<String>,
    },
}

impl RequestRouter {
    /// A router for replica `identity`, writing hand-offs in `namespace`.
    pub fn new(
        table: ShardTable,
        cluster: Cluster,
        namespace: impl Into<String>,
        identity: impl Into<String>,
    ) -> RequestRouter {
        RequestRouter {
            table,
            cluster,
            namespace: namespace.into(),
            identity: identity.into(),
        }
    }

    /// The shared view of who holds what.
    pub fn table(&self) -> &ShardTable {
        &self.table
    }

    /// Requests a sync of `app` by `trigger`. The request always lands in the app's mailbox
    /// here too (it coalesces, and is served if this replica takes the shard); an error means
    /// the hand-off could not be written, so the owner may not have heard of it.
    pub async fn route(
        &self,
        app: &str,
        requests: &SyncRequests,
        trigger: TriggerKind,
    ) -> Result<Routed, ClusterError> {
        requests.request(trigger.clone());
        if self.table.syncs_here(app) {
            return Ok(Routed::Here);
        }
        let (shard, owner) = self.table.owner_of(app);
        hand_off(
            &self.cluster,
            &self.namespace,
            app,
            &trigger,
            &self.identity,
        )
        .await?;
        tracing::info!(%app, shard, owner = owner.as_deref().unwrap_or("nobody yet"), "handed a sync request to the shard's owner");
        Ok(Routed::HandedOff { shard, owner })
    }
}
