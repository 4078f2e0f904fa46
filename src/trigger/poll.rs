//! The poll trigger: asks an app for a sync every interval.

use std::time::Duration;

use tokio::sync::watch;

use super::SyncRequests;
use crate::trigger::TriggerKind;

/// Requests a poll sync of `app` every `interval` until `shutdown` turns true. The first poll
/// is the app's initial sync, requested when its loop starts.
pub fn spawn_poller(app: SyncRequests, interval: Duration, mut shutdown: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(100)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            tokio::select! {
                _ = ticker.tick() => app.request(TriggerKind::Poll),
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
        }
    });
}
