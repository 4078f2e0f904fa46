//! The plan's decisions from snapshot fixtures: what the read phase saw in, the plan out.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::super::fixtures::{
    action, applied, bundle, commit, config_map, kinds, listed, options, APP, INSTALL,
};
use super::super::guard::PruneGuard;
use super::super::snapshot::{DryRun, LiveSnapshot, ObjectReads};
use super::super::with_bookkeeping;
use super::*;
use crate::cluster::Resident;

/// The snapshot of a cluster holding `live` (as the inventory LIST returned it), where the
/// desired objects named in `reads` got those reads.
fn snapshot(live: &[Value], reads: Vec<(&Bundle, &str, ObjectReads)>) -> LiveSnapshot {
    let mut objects = HashMap::new();
    for (bundle, name, read) in reads {
        let resource = bundle
            .resources
            .iter()
            .find(|r| r.key.name == name)
            .expect("a desired object of that name");
        objects.insert(resource.key.clone(), read);
    }
    LiveSnapshot {
        listed: listed(live),
        objects,
        residents: HashMap::new(),
    }
}

fn dry_run(answer: DryRun) -> ObjectReads {
    ObjectReads {
        dry_run: Some(answer),
        ..Default::default()
    }
}

fn not_found_then(answer: DryRun) -> ObjectReads {
    ObjectReads {
        found: Some(None),
        dry_run: Some(answer),
        ..Default::default()
    }
}

fn plan_with(bundle: &Bundle, live: &LiveSnapshot, options: &PlanOptions<'_>) -> Plan {
    decide(bundle, &kinds(bundle), live, options).expect("decided")
}

#[test]
fn a_new_object_is_a_create_validated_by_its_dry_run() {
    let git = bundle(&[config_map("settings", json!({"k": "v"}))]);
    let after = applied(&config_map("settings", json!({"k": "v"})));
    let live = snapshot(
        &[],
        vec![(&git, "settings", not_found_then(DryRun::Accepted(after)))],
    );
    let c = commit();
    let plan = plan_with(&git, &live, &options(&c));
    assert_eq!(*action(&plan, "settings"), Action::Create);
    let change = &plan.changes[0];
    let desired = change
        .desired
        .as_ref()
        .expect("a create carries what apply sends");
    assert_eq!(desired["metadata"]["labels"]["ferry.dev/app"], APP);
    assert_eq!(change.after.as_ref().unwrap()["data"]["k"], "v");
    assert!(plan.has_changes());
}

#[test]
fn a_live_object_that_already_matches_is_unchanged_without_a_dry_run() {
    let cm = config_map("settings", json!({"k": "v"}));
    let git = bundle(std::slice::from_ref(&cm));
    // No reads at all for it: the local check alone decides.
    let live = snapshot(&[applied(&cm)], vec![]);
    let c = commit();
    let plan = plan_with(&git, &live, &options(&c));
    assert_eq!(*action(&plan, "settings"), Action::Unchanged);
    assert_eq!(plan.stats.skipped_dry_runs, 1);
    assert!(!plan.has_changes());
}

#[test]
fn a_changed_object_is_an_update_with_the_dry_runs_field_diff() {
    let git = bundle(&[config_map("settings", json!({"k": "new"}))]);
    let live_cm = applied(&config_map("settings", json!({"k": "old"})));
    let after = applied(&config_map("settings", json!({"k": "new"})));
    let live = snapshot(
        &[live_cm],
        vec![(&git, "settings", dry_run(DryRun::Accepted(after)))],
    );
    let c = commit();
    let plan = plan_with(&git, &live, &options(&c));
    assert_eq!(*action(&plan, "settings"), Action::Update);
    let paths: Vec<&str> = plan.changes[0]
        .fields
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(paths, ["data.k"]);
    assert_eq!(plan.stats.skipped_dry_runs, 0);
}

#[test]
fn a_dry_run_that_changes_nothing_is_unchanged() {
    // The local check cannot prove it (git sets a field the server defaults away), the
    // dry-run can.
    let git = bundle(&[config_map("settings", json!({"k": "v", "extra": "x"}))]);
    let live_cm = applied(&config_map("settings", json!({"k": "v"})));
    let live = snapshot(
        std::slice::from_ref(&live_cm),
        vec![(&git, "settings", dry_run(DryRun::Accepted(live_cm.clone())))],
    );
    let c = commit();
    let plan = plan_with(&git, &live, &options(&c));
    assert_eq!(*action(&plan, "settings"), Action::Unchanged);
    assert!(plan.changes[0].desired.is_none(), "nothing to apply");
}

#[test]
fn a_decision_without_its_read_is_an_error_not_a_guess() {
    let git = bundle(&[config_map("settings", json!({"k": "new"}))]);
    let live_cm = applied(&config_map("settings", json!({"k": "old"})));
    let live = snapshot(&[live_cm], vec![]);
    let c = commit();
    let err = decide(&git, &kinds(&git), &live, &options(&c)).unwrap_err();
    assert!(matches!(err, PlanError::Unread(_)), "{err}");
    assert!(err.to_string().contains("a dry-run"), "{err}");
}

fn job(image: &str, labels: Value) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "migrate", "namespace": "apps", "labels": labels},
        "spec": {"template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "m", "image": image}],
        }}},
    })
}

#[test]
fn a_job_whose_immutable_spec_changed_is_recreated() {
    let git = bundle(&[job("migrate:2", json!({}))]);
    let live = snapshot(&[applied(&job("migrate:1", json!({})))], vec![]);
    let c = commit();
    let plan = plan_with(&git, &live, &options(&c));
    let Action::Recreate { reason } = action(&plan, "migrate") else {
        panic!("expected a recreate: {:?}", plan.changes);
    };
    assert!(reason.contains("immutable"), "{reason}");
    assert!(plan.changes[0]
        .fields
        .iter()
        .any(|f| f.path.starts_with("spec.template")));
}

#[test]
fn a_job_whose_metadata_alone_changed_is_updated_in_place() {
    let git = bundle(&[job("migrate:1", json!({"team": "db"}))]);
    let live = snapshot(&[applied(&job("migrate:1", json!({})))], vec![]);
    let c = commit();
    let plan = plan_with(&git, &live, &options(&c));
    assert_eq!(*action(&plan, "migrate"), Action::Update);
}

#[test]
fn a_gone_job_that_completed_with_this_spec_is_not_run_again() {
    let git = bundle(&[job("migrate:1", json!({}))]);
    let live = snapshot(
        &[],
        vec![(
            &git,
            "migrate",
            ObjectReads {
                found: Some(None),
                ..Default::default()
            },
        )],
    );
    let c = commit();
    let completed = |key: &ObjectKey, _: &Value| key.name == "migrate";
    let opts = PlanOptions {
        completed_job: &completed,
        ..options(&c)
    };
    let plan = plan_with(&git, &live, &opts);
    assert_eq!(*action(&plan, "migrate"), Action::Unchanged);
    assert!(plan.changes[0]
        .note
        .as_deref()
        .unwrap()
        .contains("not re-run"));
}

#[test]
fn an_object_the_server_rejects_is_invalid_with_its_message() {
    let git = bundle(&[config_map("settings", json!({"k": "v"}))]);
    let rejected = DryRun::Rejected {
        code: 422,
        message: "data.k: Invalid value".into(),
    };
    let live = snapshot(&[], vec![(&git, "settings", not_found_then(rejected))]);
    let c = commit();
    let plan = plan_with(&git, &live, &options(&c));
    assert_eq!(
        *action(&plan, "settings"),
        Action::Invalid {
            message: "data.k: Invalid value".into()
        }
    );
    assert_eq!(plan.invalid().count(), 1);
}

fn owned_by(app: &str, install: &str, object: &Value) -> Value {
    let mut live = with_bookkeeping(object, app, install, &commit());
    live["metadata"]["uid"] = json!("uid-theirs");
    live
}

#[test]
fn an_object_of_another_ferry_app_is_invalid_unless_taken_over() {
    let cm = config_map("settings", json!({"k": "v"}));
    let git = bundle(std::slice::from_ref(&cm));
    let theirs = owned_by("other", INSTALL, &cm);
    let reads = ObjectReads {
        found: Some(Some(theirs.clone())),
        dry_run: Some(DryRun::Accepted(applied(&cm))),
        ..Default::default()
    };
    let live = snapshot(&[], vec![(&git, "settings", reads)]);
    let c = commit();
    let plan = plan_with(&git, &live, &options(&c));
    let Action::Invalid { message } = action(&plan, "settings") else {
        panic!("expected invalid: {:?}", plan.changes);
    };
    assert!(message.contains("ferry app \"other\""), "{message}");
    assert!(message.contains("--take-over"), "{message}");

    let taking = PlanOptions {
        take_over: true,
        ..options(&c)
    };
    let plan = plan_with(&git, &live, &taking);
    assert_eq!(
        *action(&plan, "settings"),
        Action::Update,
        "its labels move"
    );
    assert!(plan.changes[0]
        .note
        .as_deref()
        .unwrap()
        .contains("taken over from ferry app \"other\""));
}

#[test]
fn an_object_nobody_manages_is_adopted_by_an_update() {
    let cm = config_map("settings", json!({"k": "v"}));
    let git = bundle(std::slice::from_ref(&cm));
    let mut by_hand = cm.clone();
    by_hand["metadata"]["uid"] = json!("uid-by-hand");
    let reads = ObjectReads {
        found: Some(Some(by_hand)),
        dry_run: Some(DryRun::Accepted(applied(&cm))),
        ..Default::default()
    };
    let live = snapshot(&[], vec![(&git, "settings", reads)]);
    let c = commit();
    let plan = plan_with(&git, &live, &options(&c));
    assert_eq!(*action(&plan, "settings"), Action::Update);
    let paths: Vec<&str> = plan.changes[0]
        .fields
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(
        paths,
        ["metadata.labels"],
        "ferry adds its labels to what it adopts"
    );
}

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

/// What ferry applied for ConfigMap `name`, live.
fn live_cm(name: &str) -> Value {
    applied(&config_map(name, json!({})))
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

fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
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

#[test]
fn an_object_bound_for_a_namespace_of_the_same_commit_is_dry_run_in_a_stand_in() {
    let mut cm = config_map("settings", json!({"k": "v"}));
    cm["metadata"]["namespace"] = json!("fresh");
    let git = bundle(&[namespace("fresh"), cm.clone()]);
    let mut in_default = applied(&cm);
    in_default["metadata"]["namespace"] = json!("default");
    let namespace_not_found = DryRun::Rejected {
        code: 404,
        message: "namespaces \"fresh\" not found".into(),
    };
    let stand_in = ObjectReads {
        found: Some(None),
        dry_run: Some(namespace_not_found.clone()),
        stand_in_taken: Some(false),
        stand_in_dry_run: Some(DryRun::Accepted(in_default)),
    };
    let live = snapshot(
        &[],
        vec![
            (
                &git,
                "fresh",
                not_found_then(DryRun::Accepted(applied(&namespace("fresh")))),
            ),
            (&git, "settings", stand_in.clone()),
        ],
    );
    let c = commit();
    let plan = plan_with(&git, &live, &options(&c));
    // The Namespace (wave 0) comes first, whatever the file order.
    assert_eq!(plan.changes[0].key.name, "fresh");
    assert_eq!(*action(&plan, "settings"), Action::Create);
    let change = &plan.changes[1];
    assert!(change
        .note
        .as_deref()
        .unwrap()
        .contains("dry-run in namespace default"));
    assert_eq!(
        change.after.as_ref().unwrap()["metadata"]["namespace"],
        "fresh"
    );

    // An unrelated object of that name in the stand-in namespace: created without a dry-run.
    let taken = ObjectReads {
        stand_in_taken: Some(true),
        stand_in_dry_run: None,
        ..stand_in
    };
    let mut live = live;
    live.objects.insert(change.key.clone(), taken);
    let plan = plan_with(&git, &live, &options(&c));
    assert_eq!(*action(&plan, "settings"), Action::Create);
    assert!(plan.changes[1]
        .note
        .as_deref()
        .unwrap()
        .contains("not dry-run"));

    // A 404 for a namespace nobody creates is the commit's fault.
    let elsewhere = bundle(&[config_map("settings", json!({"k": "v"}))]);
    let live = snapshot(
        &[],
        vec![(&elsewhere, "settings", not_found_then(namespace_not_found))],
    );
    let plan = plan_with(&elsewhere, &live, &options(&c));
    assert!(matches!(action(&plan, "settings"), Action::Invalid { .. }));
}

#[test]
fn an_object_of_a_kind_its_own_commit_defines_is_created_without_a_dry_run() {
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced", "names": {"kind": "Widget"},
                 "versions": [{"name": "v1", "served": true}]},
    });
    let widget = json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w", "namespace": "apps"},
    });
    let git = bundle(&[crd.clone(), widget]);
    let mut served = kinds(&git);
    served.retain(|gvk, _| gvk.kind != "Widget");
    let live = snapshot(
        &[],
        vec![(
            &git,
            "widgets.example.com",
            not_found_then(DryRun::Accepted(applied(&crd))),
        )],
    );
    let c = commit();
    let plan = decide(&git, &served, &live, &options(&c)).expect("decided");
    assert_eq!(*action(&plan, "w"), Action::Create);
    let change = plan.changes.iter().find(|c| c.key.name == "w").unwrap();
    assert!(
        change.kind.is_none(),
        "apply resolves it once the CRD is in"
    );
    assert!(change
        .note
        .as_deref()
        .unwrap()
        .contains("CustomResourceDefinition"));

    // A kind nobody defines is the caller's bug.
    let only_widget = bundle(&[json!({
        "apiVersion": "example.com/v1", "kind": "Gadget",
        "metadata": {"name": "g", "namespace": "apps"},
    })]);
    let err = decide(&only_widget, &HashMap::new(), &live, &options(&c)).unwrap_err();
    assert!(matches!(err, PlanError::UnresolvedKind(_)), "{err}");
}

#[test]
fn fields_another_controller_took_over_through_scale_are_left_to_it() {
    let sts = |replicas: u32| {
        json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "db", "namespace": "apps"},
            "spec": {"replicas": replicas, "serviceName": "db"},
        })
    };
    let git = bundle(&[sts(3)]);
    let mut live_sts = applied(&sts(5));
    live_sts["metadata"]["managedFields"] = json!([
        {"manager": "ferry", "operation": "Apply", "fieldsV1": {"f:spec": {"f:serviceName": {}}}},
        {"manager": "hpa", "operation": "Update", "subresource": "scale",
         "fieldsV1": {"f:spec": {"f:replicas": {}}}},
    ]);
    let live = snapshot(&[live_sts], vec![]);
    let c = commit();
    let plan = plan_with(&git, &live, &options(&c));
    assert_eq!(*action(&plan, "db"), Action::Unchanged);
    assert_eq!(plan.stats.skipped_dry_runs, 1);
    let note = plan.changes[0].note.as_deref().unwrap();
    assert!(
        note.contains("left to other field managers: spec.replicas"),
        "{note}"
    );
}
