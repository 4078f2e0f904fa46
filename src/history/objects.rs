//! Filling a record's objects from the plan and the apply report.

use super::job_spec_hash;
use super::record::{ObjectRecord, SyncRecord};
use super::values::{RecordedAction, RecordedResult};
use crate::apply::{ApplyReport, ObjectResult, Outcome};
use crate::plan::{Action, Change, Plan};

impl ObjectRecord {
    /// The planned entry for one change: its action, result `pending` (or `unchanged`, or
    /// `invalid` with the server's message), and for a Job the hash of its spec in git.
    pub fn from_change(change: &Change) -> ObjectRecord {
        let result = match &change.action {
            Action::Unchanged => RecordedResult::Unchanged,
            Action::Invalid { .. } => RecordedResult::Invalid,
            Action::Orphan { .. } => RecordedResult::Kept,
            _ => RecordedResult::Pending,
        };
        let mut record = ObjectRecord::new(
            change.key.kind.clone(),
            change.key.namespace.clone(),
            change.key.name.clone(),
            RecordedAction::from(&change.action),
            result,
        );
        record.message = match &change.action {
            Action::Invalid { message } => Some(message.clone()),
            Action::Orphan { reason } => Some(reason.clone()),
            _ => None,
        };
        if change.key.kind == "Job" {
            record.spec_hash = change.desired.as_ref().map(job_spec_hash);
        }
        record
    }

    /// Records what apply did: `applied`, `unchanged`, `kept`, `failed` or `skipped`, with
    /// the message when there is one.
    pub fn apply_outcome(&mut self, outcome: &Outcome) {
        let (result, message) = match outcome {
            Outcome::Created | Outcome::Updated | Outcome::Recreated | Outcome::Pruned => {
                (RecordedResult::Applied, None)
            }
            Outcome::Unchanged => (RecordedResult::Unchanged, None),
            Outcome::Kept(why) => (RecordedResult::Kept, Some(why.clone())),
            Outcome::Failed(why) => (RecordedResult::Failed, Some(why.clone())),
            Outcome::Skipped(why) => (RecordedResult::Skipped, Some(why.clone())),
        };
        self.result = result;
        self.message = message;
    }

    fn from_result(result: &ObjectResult) -> ObjectRecord {
        let action = match &result.outcome {
            Outcome::Created => RecordedAction::Create,
            Outcome::Updated => RecordedAction::Update,
            Outcome::Recreated => RecordedAction::Recreate,
            Outcome::Pruned => RecordedAction::Prune,
            Outcome::Kept(_) => RecordedAction::Orphan,
            Outcome::Unchanged | Outcome::Failed(_) | Outcome::Skipped(_) => {
                RecordedAction::Unknown
            }
        };
        let mut record = ObjectRecord::new(
            result.key.kind.clone(),
            result.key.namespace.clone(),
            result.key.name.clone(),
            action,
            RecordedResult::Pending,
        );
        record.apply_outcome(&result.outcome);
        record
    }
}

impl From<&Action> for RecordedAction {
    /// The planned action as recorded (its [`Action::verb`]).
    fn from(action: &Action) -> RecordedAction {
        match action {
            Action::Create => RecordedAction::Create,
            Action::Update => RecordedAction::Update,
            Action::Recreate { .. } => RecordedAction::Recreate,
            Action::Prune => RecordedAction::Prune,
            Action::Orphan { .. } => RecordedAction::Orphan,
            Action::Unchanged => RecordedAction::Unchanged,
            Action::Invalid { .. } => RecordedAction::Invalid,
        }
    }
}

impl SyncRecord {
    /// Replaces the objects with the plan's entries, in plan order (see
    /// [`ObjectRecord::from_change`]).
    pub fn record_plan(&mut self, plan: &Plan) {
        self.objects = plan.changes.iter().map(ObjectRecord::from_change).collect();
    }

    /// Updates each object with its apply result; objects the plan did not list are added.
    pub fn record_apply(&mut self, report: &ApplyReport) {
        for result in &report.results {
            let key = &result.key;
            match self.object_mut(&key.kind, key.namespace.as_deref(), &key.name) {
                Some(object) => object.apply_outcome(&result.outcome),
                None => self.objects.push(ObjectRecord::from_result(result)),
            }
        }
    }
}

#[cfg(test)]
#[path = "objects_tests.rs"]
mod tests;
