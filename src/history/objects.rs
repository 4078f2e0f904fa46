//! Filling a record's objects from the plan and the apply report.

use super::job_spec_hash;
use super::record::{
    ObjectRecord, SyncRecord, RESULT_APPLIED, RESULT_FAILED, RESULT_INVALID, RESULT_KEPT,
    RESULT_PENDING, RESULT_SKIPPED, RESULT_UNCHANGED,
};
use crate::apply::{ApplyReport, ObjectResult, Outcome};
use crate::plan::{Action, Change, Plan};

impl ObjectRecord {
    /// The planned entry for one change: its action, result `pending` (or `unchanged`, or
    /// `invalid` with the server's message), and for a Job the hash of its spec in git.
    pub fn from_change(change: &Change) -> ObjectRecord {
        let result = match &change.action {
            Action::Unchanged => RESULT_UNCHANGED,
            Action::Invalid { .. } => RESULT_INVALID,
            Action::Orphan { .. } => RESULT_KEPT,
            _ => RESULT_PENDING,
        };
        let mut record = ObjectRecord::new(
            change.key.kind.clone(),
            change.key.namespace.clone(),
            change.key.name.clone(),
            change.action.verb(),
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
                (RESULT_APPLIED, None)
            }
            Outcome::Unchanged => (RESULT_UNCHANGED, None),
            Outcome::Kept(why) => (RESULT_KEPT, Some(why.clone())),
            Outcome::Failed(why) => (RESULT_FAILED, Some(why.clone())),
            Outcome::Skipped(why) => (RESULT_SKIPPED, Some(why.clone())),
        };
        self.result = result.to_string();
        self.message = message;
    }

    fn from_result(result: &ObjectResult) -> ObjectRecord {
        let action = match &result.outcome {
            Outcome::Created => "create",
            Outcome::Updated => "update",
            Outcome::Recreated => "recreate",
            Outcome::Pruned => "prune",
            Outcome::Kept(_) => "orphan",
            Outcome::Unchanged | Outcome::Failed(_) | Outcome::Skipped(_) => "unknown",
        };
        let mut record = ObjectRecord::new(
            result.key.kind.clone(),
            result.key.namespace.clone(),
            result.key.name.clone(),
            action,
            RESULT_PENDING,
        );
        record.apply_outcome(&result.outcome);
        record
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
