//! What counts as a change someone else made, from one kind's watch events: the live
//! watch's judgement per app (see [`super::live`]).

use std::collections::{HashMap, HashSet};

use crate::cluster::{LiveEvent, SeenObject, FIELD_MANAGER, ROLLOUT_FIELD_MANAGER};

/// Decides, from one kind's watch events, which ones are changes someone else made.
#[derive(Debug, Default)]
pub struct LiveTracker {
    known: HashMap<String, u64>,
    relisted: Option<HashSet<String>>,
    listed_once: bool,
}

impl LiveTracker {
    /// Feeds one event; returns the objects it shows changed by someone else (usually none or
    /// one; a relist after a disconnect can report several).
    pub fn observe(&mut self, event: LiveEvent) -> Vec<String> {
        match event {
            LiveEvent::Relisting => {
                self.relisted = Some(HashSet::new());
                Vec::new()
            }
            LiveEvent::Listed(seen) => {
                if let Some(listed) = self.relisted.as_mut() {
                    listed.insert(seen.uid.clone());
                }
                let before = self.known.insert(seen.uid.clone(), seen.fingerprint);
                // Changed while the watch was down: the writer is no longer knowable.
                let changed = self.listed_once
                    && before != Some(seen.fingerprint)
                    && !written_by_ferry(&seen);
                if changed {
                    vec![seen.object]
                } else {
                    Vec::new()
                }
            }
            LiveEvent::ListDone => {
                let listed = self.relisted.take().unwrap_or_default();
                let gone = self.known.len() - listed.len().min(self.known.len());
                self.known.retain(|uid, _| listed.contains(uid));
                let first = !self.listed_once;
                self.listed_once = true;
                if first || gone == 0 {
                    Vec::new()
                } else {
                    vec![format!(
                        "{gone} object(s) deleted while the watch reconnected"
                    )]
                }
            }
            LiveEvent::Changed(seen) => {
                let before = self.known.insert(seen.uid.clone(), seen.fingerprint);
                if before != Some(seen.fingerprint) && !written_by_ferry(&seen) {
                    vec![seen.object]
                } else {
                    Vec::new()
                }
            }
            LiveEvent::Deleted(seen) => {
                self.known.remove(&seen.uid);
                vec![seen.object]
            }
        }
    }
}

/// Written by ferry itself: its apply, or a staged rollout's step (partition, strategy, mark).
fn written_by_ferry(seen: &SeenObject) -> bool {
    !seen.last_writers.is_empty()
        && seen
            .last_writers
            .iter()
            .all(|w| w == FIELD_MANAGER || w == ROLLOUT_FIELD_MANAGER)
}

#[cfg(test)]
#[path = "live_tracker_tests.rs"]
mod tests;
