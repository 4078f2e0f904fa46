use serde_json::json;

use super::*;
use crate::cluster::ServedKind;
use crate::manifest::{Gvk, ObjectKey, Origin};
use crate::plan::guard::PruneGuard;
use crate::source::CommitInfo;

/// A plan entry for `kind` `name` in wave `wave`, complete as plan would leave it.
fn change(kind: &str, name: &str, wave: i32, action: Action) -> Change {
    let gvk = Gvk::new("", "v1", kind);
    let writes = matches!(
        action,
        Action::Create | Action::Update | Action::Recreate { .. }
    );
    Change {
        key: ObjectKey {
            group: String::new(),
            version: "v1".into(),
            kind: kind.into(),
            namespace: (kind != "Namespace").then(|| "apps".into()),
            name: name.into(),
        },
        origin: Some(Origin {
            file: "app.yaml".into(),
            document: 0,
            line: 3,
        }),
        wave,
        fields: Vec::new(),
        before: None,
        after: None,
        desired: writes.then(|| json!({"kind": kind, "metadata": {"name": name}})),
        kind: Some(ServedKind::new(&gvk, "things", kind != "Namespace")),
        note: None,
        uid: matches!(action, Action::Prune).then(|| format!("uid-{name}")),
        keep_dependents: false,
        staging: None,
        action,
    }
}

fn plan(changes: Vec<Change>) -> Plan {
    Plan {
        app: "web".into(),
        commit: CommitInfo {
            sha: "0123456789abcdef0123456789abcdef01234567".into(),
            author: "a".into(),
            email: "a@b".into(),
            time: Default::default(),
            subject: "s".into(),
            body: String::new(),
            reverts: None,
        },
        changes,
        stats: Default::default(),
        recorded: Default::default(),
        refusal: None,
        rendered: None,
    }
}

fn kept(reason: &str) -> Action {
    Action::Orphan {
        reason: reason.into(),
    }
}

fn names(changes: &[&Change]) -> Vec<String> {
    changes.iter().map(|c| c.key.name.clone()).collect()
}

#[test]
fn waves_go_in_ascending_order_and_prunes_after_them_namespaces_last() {
    let p = plan(vec![
        change("ConfigMap", "b", 10, Action::Update),
        change("Namespace", "apps", 0, Action::Unchanged),
        change("ConfigMap", "a", 10, Action::Create),
        change("Service", "svc", 5, Action::Create),
        change("Namespace", "old", 0, Action::Prune),
        change("ConfigMap", "gone", 10, Action::Prune),
        change("ConfigMap", "kept", 10, kept("opted out")),
    ]);
    let schedule = schedule(&p);
    let waves: Vec<(i32, Vec<String>)> = schedule
        .waves
        .iter()
        .map(|(w, members)| (*w, names(members)))
        .collect();
    assert_eq!(
        waves,
        [
            (0, vec!["apps".to_string()]),
            (5, vec!["svc".to_string()]),
            // Within a wave: plan order.
            (10, vec!["b".to_string(), "a".to_string()]),
        ]
    );
    assert_eq!(names(&schedule.prunes), ["gone", "kept", "old"]);
}

#[test]
fn a_changed_job_is_recreated_everything_else_written_in_place() {
    let recreate = change(
        "Job",
        "migrate",
        20,
        Action::Recreate {
            reason: "immutable".into(),
        },
    );
    assert_eq!(write_of(&recreate), Write::Recreate);
    assert_eq!(written(&recreate), Outcome::Recreated);
    let update = change("ConfigMap", "c", 10, Action::Update);
    assert_eq!(write_of(&update), Write::Apply);
    assert_eq!(written(&update), Outcome::Updated);
    let create = change("ConfigMap", "c", 10, Action::Create);
    assert_eq!(write_of(&create), Write::Apply);
    assert_eq!(written(&create), Outcome::Created);
    let unchanged = change("ConfigMap", "c", 10, Action::Unchanged);
    assert_eq!(write_of(&unchanged), Write::Nothing);
}

#[test]
fn after_a_failure_prunes_are_skipped_but_kept_objects_stay_kept() {
    let prune = change("ConfigMap", "gone", 10, Action::Prune);
    let keep = change("ConfigMap", "kept", 10, kept("opted out"));
    let halted = Some("wave 10 had 1 failed object(s)");
    assert_eq!(prune_step(&prune, None), PruneStep::Delete);
    assert_eq!(
        prune_step(&prune, halted),
        PruneStep::Skip("wave 10 had 1 failed object(s)".into())
    );
    assert_eq!(
        prune_step(&keep, halted),
        PruneStep::Keep("opted out".into())
    );
    assert_eq!(prune_step(&keep, None), PruneStep::Keep("opted out".into()));
}

#[test]
fn entries_not_attempted_are_skipped_only_when_they_would_have_written() {
    let reason = "interrupted: shutdown";
    let update = change("ConfigMap", "c", 10, Action::Update);
    assert_eq!(
        skipped(&update, reason).outcome,
        Outcome::Skipped(reason.into())
    );
    let unchanged = change("ConfigMap", "u", 10, Action::Unchanged);
    assert_eq!(skipped(&unchanged, reason).outcome, Outcome::Unchanged);
}

#[test]
fn a_delete_that_found_another_object_keeps_it() {
    assert_eq!(pruned(Ok(DeleteOutcome::Deleted)), Outcome::Pruned);
    assert_eq!(pruned(Ok(DeleteOutcome::Gone)), Outcome::Pruned);
    assert!(matches!(
        pruned(Ok(DeleteOutcome::Replaced)),
        Outcome::Kept(reason) if reason.contains("another uid")
    ));
    let failed = pruned(Err(ClusterError::Api {
        action: "deleting ConfigMap apps/gone".into(),
        code: 403,
        reason: "Forbidden".into(),
        message: "no".into(),
    }));
    assert!(matches!(failed, Outcome::Failed(m) if m.contains("403")));
}

#[test]
fn a_plan_is_refused_whole_when_invalid_refused_or_incomplete() {
    let ok = plan(vec![
        change("ConfigMap", "a", 10, Action::Update),
        // A create whose kind a CRD of the same plan defines resolves its kind later.
        Change {
            kind: None,
            ..change("Widget", "w", 10, Action::Create)
        },
    ]);
    assert!(check(&ok).is_ok());

    let invalid = plan(vec![
        change("ConfigMap", "a", 10, Action::Update),
        change(
            "ConfigMap",
            "bad",
            10,
            Action::Invalid {
                message: "data: Invalid value".into(),
            },
        ),
    ]);
    let Err(ApplyError::InvalidPlan(lines)) = check(&invalid) else {
        panic!("an invalid entry refuses the plan");
    };
    assert_eq!(
        lines,
        ["  ConfigMap apps/bad (app.yaml:3): data: Invalid value"]
    );

    let mut refused = plan(vec![change("ConfigMap", "gone", 10, Action::Prune)]);
    refused.refusal = PruneGuard::default().judge(1, 1);
    assert!(matches!(check(&refused), Err(ApplyError::PruneRefused(_))));

    let no_object = plan(vec![Change {
        desired: None,
        ..change("ConfigMap", "a", 10, Action::Update)
    }]);
    assert!(matches!(check(&no_object), Err(ApplyError::Incomplete(_))));
    let no_kind = plan(vec![Change {
        kind: None,
        ..change("ConfigMap", "gone", 10, Action::Prune)
    }]);
    assert!(matches!(check(&no_kind), Err(ApplyError::Incomplete(_))));
}
