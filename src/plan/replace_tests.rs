//! Replacing keeping pods and pruning keeping dependents, through [`decide`].

use serde_json::{json, Value};

use super::super::fixtures::{
    action, applied, bundle, commit, config_map, dry_run, live_cm, options, plan_with, snapshot,
};
use super::super::snapshot::DryRun;
use super::super::Action;
use super::*;

fn daemonset(selector: Value, replace: Option<&str>) -> Value {
    let mut ds = json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "apps"},
        "spec": {
            "selector": {"matchLabels": selector},
            "template": {"metadata": {"labels": {"app": "agent", "tier": "node"}},
                         "spec": {"containers": [{"name": "a", "image": "agent:1"}]}},
        },
    });
    if let Some(value) = replace {
        ds["metadata"]["annotations"] = json!({ REPLACE_ANNOTATION: value });
    }
    ds
}

const IMMUTABLE: &str = "DaemonSet.apps \"agent\" is invalid: spec.selector: Invalid value: \
    v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"agent\"}}: field is immutable";

/// The plan of `desired` over the live DaemonSet with selector {app}, the dry-run
/// answering `answer`.
fn plan_over_live(desired: Value, answer: DryRun) -> crate::plan::Plan {
    let live = applied(&daemonset(json!({"app": "agent"}), None));
    let git = bundle(&[desired]);
    let c = commit();
    plan_with(
        &git,
        &snapshot(&[live], vec![(&git, "agent", dry_run(answer))]),
        &options(&c),
    )
}

fn rejected(message: &str) -> DryRun {
    DryRun::Rejected {
        code: 422,
        message: message.into(),
    }
}

#[test]
fn an_immutable_selector_change_is_refused_with_the_way_out() {
    let plan = plan_over_live(
        daemonset(json!({"app": "agent", "tier": "node"}), None),
        rejected(IMMUTABLE),
    );
    let Action::Invalid { message } = action(&plan, "agent") else {
        panic!("{:?}", plan.changes);
    };
    assert!(message.contains("field is immutable"), "{message}");
    assert!(message.contains("ferry.dev/replace: orphan"), "{message}");
    assert!(!plan.changes[0].keep_dependents);
}

#[test]
fn an_annotated_immutable_change_is_a_replace_keeping_pods() {
    let desired = daemonset(json!({"app": "agent", "tier": "node"}), Some("orphan"));
    let plan = plan_over_live(desired, rejected(IMMUTABLE));
    let change = &plan.changes[0];
    let Action::Recreate { reason } = &change.action else {
        panic!("{:?}", plan.changes);
    };
    assert!(reason.contains("keeping its pods"), "{reason}");
    assert!(
        change.keep_dependents,
        "deleted with propagationPolicy Orphan"
    );
    assert!(change.desired.is_some(), "apply needs what to create");
    let paths: Vec<&str> = change.fields.iter().map(|f| f.path.as_str()).collect();
    assert!(
        paths.iter().any(|p| p.starts_with("spec.selector")),
        "{paths:?}"
    );
}

#[test]
fn the_annotation_never_turns_other_refusals_or_unknown_values_into_a_replace() {
    let desired = daemonset(json!({"app": "agent", "tier": "node"}), Some("orphan"));
    let plan = plan_over_live(
        desired,
        rejected("spec.template.spec.containers[0].image: Required value"),
    );
    assert!(matches!(action(&plan, "agent"), Action::Invalid { .. }));

    let desired = daemonset(json!({"app": "agent", "tier": "node"}), Some("yes"));
    let plan = plan_over_live(desired, rejected(IMMUTABLE));
    let Action::Invalid { message } = action(&plan, "agent") else {
        panic!("{:?}", plan.changes);
    };
    assert!(message.contains("\"yes\" is not understood"), "{message}");
}

#[test]
fn a_prune_keeps_dependents_only_when_the_live_object_asks() {
    let mut orphaned = live_cm("orphaned");
    orphaned["metadata"]["annotations"][DELETE_PROPAGATION_ANNOTATION] = json!("orphan");
    let mut unknown = live_cm("unknown");
    unknown["metadata"]["annotations"][DELETE_PROPAGATION_ANNOTATION] = json!("cascade");
    let git = bundle(&[config_map("keep", json!({}))]);
    let live = snapshot(
        &[live_cm("keep"), live_cm("plain"), orphaned, unknown],
        vec![],
    );
    let c = commit();
    let plan = plan_with(&git, &live, &options(&c));
    let change = |name: &str| plan.changes.iter().find(|c| c.key.name == name).unwrap();
    assert_eq!(change("orphaned").action, Action::Prune);
    assert!(change("orphaned").keep_dependents);
    assert_eq!(change("plain").action, Action::Prune);
    assert!(!change("plain").keep_dependents);
    let Action::Orphan { reason } = &change("unknown").action else {
        panic!("{:?}", change("unknown"));
    };
    assert!(reason.contains("not pruned"), "{reason}");
}
