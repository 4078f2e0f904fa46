//! The plan's decisions per desired object, from snapshot fixtures: what the read phase saw
//! in, the plan out. (Prune decisions: `prune_tests.rs`.)

use std::collections::HashMap;

use serde_json::{json, Value};

use super::super::fixtures::{
    action, applied, bundle, commit, config_map, dry_run, kinds, namespace, not_found_then,
    options, owned_by, plan_with, snapshot, APP, INSTALL,
};
use super::super::snapshot::{DryRun, ObjectReads};
use super::*;

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
