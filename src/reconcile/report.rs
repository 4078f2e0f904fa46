//! What a sync did: [`SyncReport`], and the verdicts read off it.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::apply::{self, ApplyReport};
use crate::cancel::StopReason;
use crate::history::SyncRecord;
use crate::manifest::Gvk;
use crate::plan::Plan;
use crate::rollout::GateOutcome;

/// What a sync did.
#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    /// The plan that was executed.
    pub plan: Plan,
    /// The apply result (absent for `--dry-run`).
    pub apply: Option<ApplyReport>,
    /// True when nothing was written on purpose.
    pub dry_run: bool,
    /// Rollout gate results, in wave order (empty with `--no-wait`).
    pub gates: Vec<GateOutcome>,
    /// The history record of this sync (none for dry runs and syncs that changed nothing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<SyncRecord>,
    /// Why the sync was stopped before it ended (lease lost, shutdown), when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<StopReason>,
    /// The kinds the app's inventory record holds after this sync (a dry run's: as read):
    /// the live watch takes them instead of re-reading the record.
    #[serde(skip)]
    pub inventory_kinds: BTreeSet<Gvk>,
}

impl SyncReport {
    /// True when everything applied and every gate passed.
    pub fn succeeded(&self) -> bool {
        self.apply.as_ref().is_none_or(ApplyReport::succeeded)
            && !self.gates.iter().any(GateOutcome::is_failure)
            && self.superseded_by().is_none()
            && !self.halted()
            && self.interrupted.is_none()
    }

    /// The newer commit that cancelled this sync's gate wait, if one did.
    pub fn superseded_by(&self) -> Option<&str> {
        self.gates.iter().find_map(GateOutcome::superseded_by)
    }

    /// True when a gate stopped later waves.
    pub fn halted(&self) -> bool {
        self.apply.as_ref().is_some_and(|a| {
            a.results
                .iter()
                .any(|r| matches!(r.outcome, apply::Outcome::Skipped(_)))
        })
    }

    /// The first failed gate, if any.
    pub fn failed_gate(&self) -> Option<&GateOutcome> {
        self.gates.iter().find(|g| g.is_failure())
    }
}
