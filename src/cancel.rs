//! Stopping a running sync before its next write.
//!
//! A replica that loses its leader Lease, or gets SIGTERM, must not go on writing: the sync it
//! runs stops before its next wave, before its prunes, and while a gate waits. The owner keeps
//! a [`Canceller`]; every stage that writes gets a [`Cancel`] and checks it before each write.
//! The reason travels with it, so the history record says why the sync was interrupted.

use std::fmt;

use serde::Serialize;
use tokio::sync::watch;

/// Why a running sync was stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "camelCase")]
pub enum StopReason {
    /// This replica no longer holds the leader Lease: another replica may be writing.
    LeaseLost {
        /// What the election saw (another holder, or no renewal within the deadline).
        detail: String,
    },
    /// ferry was asked to stop (SIGTERM / SIGINT).
    Shutdown,
    /// This replica no longer holds the Lease of the app's shard (`--shards`).
    ShardLost {
        /// The shard.
        shard: u32,
        /// What the replica saw (another holder, or no renewal within the deadline).
        detail: String,
    },
    /// The app's shard moved to another replica (a replica joined or came back) and the
    /// hand-over grace ran out before this sync finished.
    ShardHandedOver {
        /// The shard.
        shard: u32,
        /// The replica it moves to.
        to: String,
    },
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::LeaseLost { detail } => write!(f, "lost the leader lease ({detail})"),
            StopReason::Shutdown => write!(f, "ferry was stopped"),
            StopReason::ShardLost { shard, detail } => {
                write!(f, "lost the lease of shard {shard} ({detail})")
            }
            StopReason::ShardHandedOver { shard, to } => {
                write!(f, "shard {shard} was handed over to {to}")
            }
        }
    }
}

/// The owner's side: cancels every [`Cancel`] made from it, once (the first reason wins).
#[derive(Debug, Clone)]
pub struct Canceller(std::sync::Arc<watch::Sender<Option<StopReason>>>);

impl Canceller {
    /// Cancels with `reason` unless already cancelled.
    pub fn cancel(&self, reason: StopReason) {
        self.0.send_if_modified(|current| {
            if current.is_some() {
                return false;
            }
            *current = Some(reason);
            true
        });
    }

    /// A token observing this canceller.
    pub fn token(&self) -> Cancel {
        Cancel(Some(self.0.subscribe()))
    }
}

/// A canceller and a token observing it.
pub fn channel() -> (Canceller, Cancel) {
    let (tx, rx) = watch::channel(None);
    (Canceller(std::sync::Arc::new(tx)), Cancel(Some(rx)))
}

/// The checking side: cheap to clone; [`Cancel::never`] never fires.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Option<watch::Receiver<Option<StopReason>>>);

impl Cancel {
    /// A token that is never cancelled.
    pub fn never() -> Cancel {
        Cancel(None)
    }

    /// Why the sync must stop, once it must.
    pub fn reason(&self) -> Option<StopReason> {
        self.0.as_ref().and_then(|rx| rx.borrow().clone())
    }

    /// True once cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.reason().is_some()
    }

    /// Resolves with the reason once cancelled; never resolves for [`Cancel::never`] (or when
    /// the canceller is gone without cancelling).
    pub async fn cancelled(&self) -> StopReason {
        let Some(rx) = &self.0 else {
            return std::future::pending().await;
        };
        let mut rx = rx.clone();
        let reason = match rx.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone(),
            // The canceller is gone without cancelling: no reason to give.
            Err(_) => None,
        };
        match reason {
            Some(reason) => reason,
            None => std::future::pending().await,
        }
    }
}

#[cfg(test)]
#[path = "cancel_tests.rs"]
mod tests;
