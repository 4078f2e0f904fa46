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
mod tests {
    use super::*;
    use crate::manifest::ObjectKey;
    use crate::source::CommitInfo;
    use serde_json::json;

    fn key(kind: &str, name: &str) -> ObjectKey {
        ObjectKey {
            group: String::new(),
            version: "v1".into(),
            kind: kind.into(),
            namespace: Some("ns".into()),
            name: name.into(),
        }
    }

    fn change(
        kind: &str,
        name: &str,
        action: Action,
        desired: Option<serde_json::Value>,
    ) -> Change {
        Change {
            key: key(kind, name),
            origin: None,
            wave: 0,
            action,
            fields: Vec::new(),
            before: None,
            after: None,
            desired,
            kind: None,
            note: None,
            uid: None,
        }
    }

    #[test]
    fn plan_then_apply_fills_objects() {
        let job =
            json!({"kind": "Job", "spec": {"template": {"spec": {"restartPolicy": "Never"}}}});
        let plan = Plan {
            app: "a".into(),
            commit: CommitInfo {
                sha: "abc1234".into(),
                author: String::new(),
                email: String::new(),
                time: Default::default(),
                subject: String::new(),
                body: String::new(),
                reverts: None,
            },
            changes: vec![
                change("Job", "migrate", Action::Create, Some(job.clone())),
                change("ConfigMap", "c", Action::Unchanged, None),
                change("Secret", "s", Action::Prune, None),
            ],
            stats: Default::default(),
            recorded: Default::default(),
            refusal: None,
        };
        let mut record = SyncRecord::new("a", 1, &plan.commit, "manual");
        record.record_plan(&plan);
        assert_eq!(record.objects[0].spec_hash, Some(job_spec_hash(&job)));
        assert_eq!(record.objects[0].result, RESULT_PENDING);
        assert_eq!(record.objects[1].result, RESULT_UNCHANGED);
        let report = ApplyReport {
            results: vec![
                ObjectResult {
                    key: key("Job", "migrate"),
                    origin: None,
                    wave: 0,
                    outcome: Outcome::Created,
                    live: None,
                },
                ObjectResult {
                    key: key("Secret", "s"),
                    origin: None,
                    wave: 0,
                    outcome: Outcome::Skipped("wave 0 failed".into()),
                    live: None,
                },
                ObjectResult {
                    key: key("Service", "extra"),
                    origin: None,
                    wave: 0,
                    outcome: Outcome::Failed("boom".into()),
                    live: None,
                },
            ],
            waves_applied: vec![0],
            interrupted: false,
        };
        record.record_apply(&report);
        assert_eq!(record.objects[0].result, RESULT_APPLIED);
        assert_eq!(record.objects[2].action, "prune");
        assert_eq!(record.objects[2].result, RESULT_SKIPPED);
        assert_eq!(record.objects[3].result, RESULT_FAILED);
        assert_eq!(record.objects[3].message.as_deref(), Some("boom"));
    }
}
