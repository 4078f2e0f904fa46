//! Closing the history records of syncs whose ferry died mid-sync.
//!
//! Every sync closes its app's stale records itself; `ferry serve`'s leader also looks every
//! [`HEARTBEAT_INTERVAL`] so a record left by a killed replica is closed even while nothing
//! changes in git. Only the replica that leads does either: a standby never writes history.
//! With `--shards`, each replica sweeps the apps of the shards it holds.

use std::collections::BTreeSet;

use tokio::sync::watch;

use super::{Engine, ReconcileError};
use crate::history::HEARTBEAT_INTERVAL;
use crate::shard::ShardTable;

/// Marks the syncs of the apps in `apps` left `InProgress` by a ferry that stopped renewing
/// their heartbeat (killed mid-sync) as interrupted, so history never shows a sync as running
/// forever; a sync whose heartbeat is fresh is left alone. One list of the history records for
/// all apps; returns the (app, seq)s closed.
pub async fn close_interrupted_of(
    engine: &Engine,
    apps: &BTreeSet<String>,
) -> Result<Vec<(String, u64)>, ReconcileError> {
    Ok(engine.history().close_stale_of(apps).await?)
}

/// Which of its apps a janitor sweeps.
#[derive(Debug, Clone)]
pub enum JanitorScope {
    /// Every app (one replica, or the leader of `--leader-elect`).
    All,
    /// The apps whose shard this replica holds at the sweep (`--shards`).
    HeldShards(ShardTable),
}

/// `ferry serve`: one janitor for all its apps. Once `start` turns true (this replica leads,
/// or there is no election), closes the stale records of the apps in `scope`, then again
/// every [`HEARTBEAT_INTERVAL`] until `stop`; each sweep lists the history ConfigMaps once.
pub fn spawn_janitor(
    engine: Engine,
    apps: BTreeSet<String>,
    scope: JanitorScope,
    mut start: watch::Receiver<bool>,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        tokio::select! {
            started = start.wait_for(|go| *go) => if started.is_err() { return },
            _ = stop.wait_for(|s| *s) => return,
        }
        loop {
            if *stop.borrow() {
                return;
            }
            let swept: BTreeSet<String> = match &scope {
                JanitorScope::All => apps.clone(),
                JanitorScope::HeldShards(table) => apps
                    .iter()
                    .filter(|a| table.syncs_here(a))
                    .cloned()
                    .collect(),
            };
            let closed = if swept.is_empty() {
                Ok(Vec::new())
            } else {
                close_interrupted_of(&engine, &swept).await
            };
            match closed {
                Ok(closed) => {
                    for (app, seq) in closed {
                        eprintln!("ferry serve: {app}: marked sync #{seq} interrupted in history");
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not check history for interrupted syncs");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(HEARTBEAT_INTERVAL) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    })
}
