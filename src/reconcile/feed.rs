//! The live feed of app changes `ferry serve`'s web UI streams (Server-Sent Events): every
//! change of an app's status, and every rollout gate event (the events the CLI's progress
//! lines show). Sending never blocks a sync: a slow reader misses events and is told so.

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::rollout::GateEvent;

/// How many changes a reader may fall behind before it misses some.
const BACKLOG: usize = 1024;

/// One change of one app.
#[derive(Debug, Clone)]
pub struct AppChange {
    /// The app.
    pub app: Arc<str>,
    /// What changed.
    pub what: ChangeKind,
}

/// What changed about an app.
#[derive(Debug, Clone)]
pub enum ChangeKind {
    /// Its status (read it again with [`AppHandle::status`](super::worker::AppHandle::status)).
    Status,
    /// A rollout gate reported progress.
    Gate(GateEvent),
}

/// A cloneable sender of app changes; every clone sends to the same readers.
#[derive(Debug, Clone)]
pub struct StatusFeed {
    sender: broadcast::Sender<AppChange>,
}

impl Default for StatusFeed {
    fn default() -> StatusFeed {
        let (sender, _) = broadcast::channel(BACKLOG);
        StatusFeed { sender }
    }
}

impl StatusFeed {
    /// Sends a change to the current readers (none: dropped).
    pub fn send(&self, app: &Arc<str>, what: ChangeKind) {
        // An error only means nobody is reading now.
        let _ = self.sender.send(AppChange {
            app: app.clone(),
            what,
        });
    }

    /// A reader of the changes sent from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<AppChange> {
        self.sender.subscribe()
    }
}
