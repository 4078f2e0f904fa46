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

fn change(kind: &str, name: &str, action: Action, desired: Option<serde_json::Value>) -> Change {
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
        keep_dependents: false,
        staging: None,
    }
}

#[test]
fn plan_then_apply_fills_objects() {
    let job = json!({"kind": "Job", "spec": {"template": {"spec": {"restartPolicy": "Never"}}}});
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
        rendered: None,
    };
    let mut record = SyncRecord::new("a", 1, &plan.commit, crate::trigger::SyncTrigger::Manual);
    record.record_plan(&plan);
    assert_eq!(record.objects[0].spec_hash, Some(job_spec_hash(&job)));
    assert_eq!(record.objects[0].result, RecordedResult::Pending);
    assert_eq!(record.objects[1].result, RecordedResult::Unchanged);
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
    assert_eq!(record.objects[0].result, RecordedResult::Applied);
    assert_eq!(record.objects[2].action, RecordedAction::Prune);
    assert_eq!(record.objects[2].result, RecordedResult::Skipped);
    assert_eq!(record.objects[3].result, RecordedResult::Failed);
    assert_eq!(record.objects[3].message.as_deref(), Some("boom"));
}
