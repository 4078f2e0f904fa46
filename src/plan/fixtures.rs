//! Test fixtures for the plan's decisions: bundles, served kinds, live objects as ferry left
//! them, and options, built as plain values (no cluster).

use std::collections::HashMap;

use serde_json::{json, Value};

use super::decide::{decide, PlanOptions};
use super::guard::PruneGuard;
use super::snapshot::{DryRun, LiveSnapshot, ObjectReads};
use super::{with_bookkeeping, Action, Plan};
use crate::cluster::ServedKind;
use crate::manifest::{default_wave, Bundle, Gvk, ObjectKey, Origin, Resource};
use crate::source::CommitInfo;

/// The app planned.
pub const APP: &str = "web";
/// The ferry install planning.
pub const INSTALL: &str = "ferry-system";

/// The commit planned.
pub fn commit() -> CommitInfo {
    CommitInfo {
        sha: "0123456789abcdef0123456789abcdef01234567".into(),
        author: "a".into(),
        email: "a@b".into(),
        time: Default::default(),
        subject: "Change things".into(),
        body: String::new(),
        reverts: None,
    }
}

fn never_completed(_: &ObjectKey, _: &Value) -> bool {
    false
}

/// Options as a plain `ferry sync --prune` of app [`APP`] uses them.
pub fn options(commit: &CommitInfo) -> PlanOptions<'_> {
    PlanOptions {
        app: APP,
        commit,
        prune: true,
        install: INSTALL,
        guard: PruneGuard::default(),
        take_over: false,
        yield_to_managers: &[],
        completed_job: &never_completed,
        default_steps: None,
    }
}

fn gvk_of(object: &Value) -> Gvk {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    Gvk::new(group, version, object["kind"].as_str().unwrap_or_default())
}

/// The served kind of an object, as discovery would report it.
pub fn served(object: &Value) -> ServedKind {
    let gvk = gvk_of(object);
    let cluster_scoped = matches!(gvk.kind.as_str(), "Namespace" | "CustomResourceDefinition");
    let plural = format!("{}s", gvk.kind.to_lowercase());
    ServedKind::new(&gvk, &plural, !cluster_scoped)
}

/// One resource from git, in its default wave.
pub fn resource(object: Value) -> Resource {
    let gvk = gvk_of(&object);
    let key = ObjectKey {
        group: gvk.group,
        version: gvk.version,
        kind: gvk.kind,
        namespace: object["metadata"]["namespace"].as_str().map(str::to_string),
        name: object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .into(),
    };
    Resource {
        wave: default_wave(&key.group, &key.kind),
        key,
        object,
        origin: Origin {
            file: "app.yaml".into(),
            document: 0,
            line: 1,
        },
    }
}

/// A bundle of these objects, in this order.
pub fn bundle(objects: &[Value]) -> Bundle {
    Bundle {
        resources: objects.iter().cloned().map(resource).collect(),
    }
}

/// Discovery's answer for every kind of the bundle.
pub fn kinds(bundle: &Bundle) -> HashMap<Gvk, ServedKind> {
    bundle
        .resources
        .iter()
        .map(|r| (r.key.gvk(), served(&r.object)))
        .collect()
}

/// The object as ferry left it live after applying it: its labels, a uid, and an `Apply`
/// entry of ferry's field manager.
pub fn applied(object: &Value) -> Value {
    let mut live = with_bookkeeping(object, APP, INSTALL, &commit());
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    live["metadata"]["uid"] = json!(format!("uid-{name}"));
    live["metadata"]["managedFields"] = json!([
        {"manager": "ferry", "operation": "Apply", "fieldsV1": {}}
    ]);
    live
}

/// The inventory LIST results: every object under its served kind.
pub fn listed(objects: &[Value]) -> Vec<(ServedKind, Vec<Value>)> {
    let mut by_kind: Vec<(ServedKind, Vec<Value>)> = Vec::new();
    for object in objects {
        let kind = served(object);
        match by_kind
            .iter_mut()
            .find(|(k, _)| k.resource.kind == kind.resource.kind)
        {
            Some((_, items)) => items.push(object.clone()),
            None => by_kind.push((kind, vec![object.clone()])),
        }
    }
    by_kind
}

/// A ConfigMap `name` in namespace `apps` with `data`.
pub fn config_map(name: &str, data: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "apps"},
        "data": data,
    })
}

/// The plan's entry for the object named `name`.
pub fn action<'p>(plan: &'p Plan, name: &str) -> &'p Action {
    &plan
        .changes
        .iter()
        .find(|c| c.key.name == name)
        .unwrap_or_else(|| panic!("no entry for {name} in {:?}", plan.changes))
        .action
}

/// The snapshot of a cluster holding `live` (as the inventory LIST returned it), where the
/// desired objects named in `reads` got those reads.
pub fn snapshot(live: &[Value], reads: Vec<(&Bundle, &str, ObjectReads)>) -> LiveSnapshot {
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

/// Reads where the dry-run answered `answer`.
pub fn dry_run(answer: DryRun) -> ObjectReads {
    ObjectReads {
        dry_run: Some(answer),
        ..Default::default()
    }
}

/// Reads of an object not in the inventory, not found by name, then dry-run.
pub fn not_found_then(answer: DryRun) -> ObjectReads {
    ObjectReads {
        found: Some(None),
        dry_run: Some(answer),
        ..Default::default()
    }
}

/// The plan [`decide`] makes.
pub fn plan_with(bundle: &Bundle, live: &LiveSnapshot, options: &PlanOptions<'_>) -> Plan {
    decide(bundle, &kinds(bundle), live, options).expect("decided")
}

/// `object` as another ferry app or install left it live.
pub fn owned_by(app: &str, install: &str, object: &Value) -> Value {
    let mut live = with_bookkeeping(object, app, install, &commit());
    live["metadata"]["uid"] = json!("uid-theirs");
    live
}

/// What ferry applied for ConfigMap `name`, live.
pub fn live_cm(name: &str) -> Value {
    applied(&config_map(name, json!({})))
}

/// A Namespace `name`.
pub fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}
