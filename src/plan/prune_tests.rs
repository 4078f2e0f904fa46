//! The prune decisions (through [`decide`]), from snapshot fixtures.

use serde_json::json;

use super::super::decide::decide;
use super::super::fixtures::{
    action, applied, bundle, commit, config_map, kinds, live_cm, namespace, options, owned_by,
    plan_with, snapshot, APP,
};
use super::super::guard::PruneGuard;
use super::super::{Action, Plan};
use super::*;

#[test]
fn objects_of_another_install_are_neither_pruned_nor_counted() {
    let git = bundle(&[]);
    let other_install = owned_by(APP, "ferry-two", &config_map("theirs", json!({})));
    let live = snapshot(&[other_install], vec![]);
    let c = commit();
    let plan = plan_with(&git, &live, &options(&c));
    assert!(plan.changes.is_empty(), "{:?}", plan.changes);
    assert_eq!(plan.refusal, None);
}

#[test]
fn an_object_no_longer_in_git_is_pruned_by_uid_after_the_desired_ones() {
    let git = bundle(&[config_map("keep", json!({}))]);
    let live = snapshot(&[live_cm("gone"), live_cm("keep")], vec![]);
    let c = commit();
    let plan = plan_with(&git, &live, &options(&c));
    assert_eq!(*action(&plan, "gone"), Action::Prune);
    let names: Vec<&str> = plan.changes.iter().map(|c| c.key.name.as_str()).collect();
    assert_eq!(names, ["keep", "gone"]);
    let prune = &plan.changes[1];
    assert_eq!(
        prune.uid.as_deref(),
        Some("uid-gone"),
        "deleted by uid only"
    );
    assert!(prune.kind.is_some(), "apply needs the kind to delete it");
    assert_eq!(plan.refusal, None, "1 of 2 is the 50% the guard allows");
}

#[test]
fn objects_are_kept_when_pruning_is_off_opted_out_or_not_applied_by_ferry() {
    let git = bundle(&[config_map("keep", json!({}))]);
    let mut opted_out = live_cm("opted-out");
    opted_out["metadata"]["annotations"]["ferry.dev/prune"] = json!("false");
    let mut labelled_by_hand = live_cm("by-hand");
    labelled_by_hand["metadata"]["managedFields"] =
        json!([{"manager": "kubectl", "operation": "Update", "fieldsV1": {}}]);
    let live = snapshot(
        &[
            live_cm("keep"),
            live_cm("k1"),
            live_cm("k2"),
            opted_out,
            labelled_by_hand,
        ],
        vec![],
    );
    let c = commit();
    let reason = |plan: &Plan, name: &str| match action(plan, name) {
        Action::Orphan { reason } => reason.clone(),
        other => panic!("{name}: expected kept, got {other:?}"),
    };
    let plan = plan_with(&git, &live, &options(&c));
    assert!(reason(&plan, "opted-out").contains("ferry.dev/prune"));
    assert!(reason(&plan, "by-hand").contains("never applied it"));
    let no_prune = PlanOptions {
        prune: false,
        ..options(&c)
    };
    let plan = plan_with(&git, &live, &no_prune);
    assert!(reason(&plan, "k1").contains("pruning is off"));
    assert_eq!(plan.refusal, None, "keeping is never refused");
}

#[test]
fn the_prune_guard_refuses_a_plan_that_prunes_more_than_its_share() {
    let git = bundle(&[config_map("keep", json!({}))]);
    let live = snapshot(&[live_cm("keep"), live_cm("a"), live_cm("b")], vec![]);
    let c = commit();
    let plan = plan_with(&git, &live, &options(&c));
    let refusal = plan.refusal.as_ref().expect("2 of 3 is over 50%");
    assert_eq!((refusal.prunes, refusal.live), (2, 3));
    assert_eq!(*action(&plan, "a"), Action::Prune, "entries stay prunes");

    let allowed = PlanOptions {
        guard: PruneGuard {
            allow_mass_prune: true,
            ..PruneGuard::default()
        },
        ..options(&c)
    };
    assert_eq!(plan_with(&git, &live, &allowed).refusal, None);
    let everything = bundle(&[]);
    let plan = plan_with(&everything, &live, &options(&c));
    assert!(plan.refusal.unwrap().rule.contains("every object"));
}

#[test]
fn a_namespace_holding_objects_ferry_does_not_manage_is_kept() {
    let git = bundle(&[config_map("keep", json!({}))]);
    let mut live = snapshot(
        &[
            live_cm("keep"),
            applied(&namespace("old")),
            applied(&namespace("empty")),
        ],
        vec![],
    );
    let c = commit();
    let options = PlanOptions {
        guard: PruneGuard {
            allow_mass_prune: true,
            ..PruneGuard::default()
        },
        ..options(&c)
    };
    // Who lives there is a read: without it there is no decision.
    let err = decide(&git, &kinds(&git), &live, &options).unwrap_err();
    assert!(err.to_string().contains("namespace empty"), "{err}");

    live.residents.insert(
        "old".into(),
        vec![Resident {
            kind: "PersistentVolumeClaim".into(),
            name: "data".into(),
        }],
    );
    live.residents.insert("empty".into(), Vec::new());
    let plan = plan_with(&git, &live, &options);
    let Action::Orphan { reason } = action(&plan, "old") else {
        panic!("expected kept: {:?}", plan.changes);
    };
    assert!(reason.contains("PersistentVolumeClaim data"), "{reason}");
    assert_eq!(*action(&plan, "empty"), Action::Prune);
}

#[test]
fn a_namespace_git_still_uses_or_a_system_one_is_kept_without_asking_who_lives_there() {
    // `apps` still holds a desired ConfigMap; `default` is never deleted.
    let git = bundle(&[config_map("keep", json!({}))]);
    let live = snapshot(
        &[
            live_cm("keep"),
            applied(&namespace("apps")),
            applied(&namespace("default")),
        ],
        vec![],
    );
    let c = commit();
    let options = PlanOptions {
        guard: PruneGuard {
            allow_mass_prune: true,
            ..PruneGuard::default()
        },
        ..options(&c)
    };
    let plan = plan_with(&git, &live, &options);
    let reason = |name: &str| match action(&plan, name) {
        Action::Orphan { reason } => reason.clone(),
        other => panic!("{name}: expected kept, got {other:?}"),
    };
    assert!(reason("apps").contains("git still wants objects"));
    assert!(reason("default").contains("system namespace"));
}
