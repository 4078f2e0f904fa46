//! Cancelling a gate's wait when a newer commit arrives (or the sync is cancelled).
//!
//! `ferry serve` learns about new commits while a sync is still gating (a webhook, a poll, a
//! file event). Waiting out a broken rollout's timeout before applying the fix would make the
//! fix wait too, so the app loop publishes the newest head it has seen, and every gate of the
//! running sync stops as soon as that head differs from the commit it is rolling out.

use tokio::sync::watch;

use super::runner::Watch;
use super::{GateOutcome, GateResult};

/// Publishes the newest commit seen on an app's tracked ref (sender side).
#[derive(Debug)]
pub struct HeadSender(watch::Sender<Option<String>>);

impl HeadSender {
    /// Records `sha` as the newest commit. Gates rolling out another commit stop waiting.
    pub fn publish(&self, sha: &str) {
        self.0.send_if_modified(|current| {
            if current.as_deref() == Some(sha) {
                return false;
            }
            *current = Some(sha.to_string());
            true
        });
    }
}

/// A channel carrying the newest commit seen on an app's tracked ref.
pub fn head_channel() -> (HeadSender, watch::Receiver<Option<String>>) {
    let (tx, rx) = watch::channel(None);
    (HeadSender(tx), rx)
}

/// What a gate checks to know whether the commit it rolls out is still the newest.
#[derive(Debug, Clone)]
pub struct Supersede {
    newest: watch::Receiver<Option<String>>,
    rolling_out: String,
}

impl Supersede {
    /// Gates rolling out commit `rolling_out` are superseded once `newest` names another commit.
    pub fn new(newest: watch::Receiver<Option<String>>, rolling_out: &str) -> Supersede {
        Supersede {
            newest,
            rolling_out: rolling_out.to_string(),
        }
    }

    /// The newer commit, once one is known.
    pub fn newer(&self) -> Option<String> {
        self.newest
            .borrow()
            .as_ref()
            .filter(|sha| **sha != self.rolling_out)
            .cloned()
    }

    /// Resolves with the newer commit once one is known; never resolves if none comes (or
    /// the sender is gone).
    pub async fn wait(&mut self) -> String {
        loop {
            if let Some(sha) = self.newer() {
                return sha;
            }
            if self.newest.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }
}

/// Ending a gate's wait early: a newer commit, or a cancelled sync.
impl Watch<'_> {
    /// Ends the gate because the sync was cancelled (lease lost, shutdown).
    pub(super) async fn interrupted(self, reason: String) -> GateOutcome {
        let message = self.last_message.clone();
        let elapsed = self.started.elapsed();
        tracing::info!(object = %self.target, %reason, "sync cancelled: gate stops waiting");
        self.finish(GateResult::Interrupted {
            reason,
            message,
            elapsed,
        })
        .await
    }

    /// Ends the gate because a newer commit arrived.
    pub(super) async fn superseded(self, by: String) -> GateOutcome {
        let message = self.last_message.clone();
        let elapsed = self.started.elapsed();
        tracing::info!(object = %self.target, newer_commit = %by, "a newer commit arrived: gate stops waiting");
        self.finish(GateResult::Superseded {
            by,
            message,
            elapsed,
        })
        .await
    }
}

#[cfg(test)]
#[path = "supersede_tests.rs"]
mod tests;
