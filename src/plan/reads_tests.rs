//! The read phase against a fake cluster: it reads exactly what the decisions ask for.

use std::sync::Mutex;

use serde_json::json;

use super::super::decide::decide;
use super::super::fixtures::{applied, bundle, commit, config_map, kinds, options};
use super::super::Action;
use super::*;
use crate::manifest::Bundle;

/// A cluster holding `objects`, whose dry-runs return the object sent (or reject the ones
/// named in `rejects`, or fail outright for `unreachable`), logging every call.
struct Fake {
    objects: Vec<Value>,
    rejects: Vec<&'static str>,
    unreachable: Vec<&'static str>,
    calls: Mutex<Vec<String>>,
}

impl Fake {
    fn new(objects: Vec<Value>) -> Fake {
        Fake {
            objects,
            rejects: Vec::new(),
            unreachable: Vec::new(),
            calls: Mutex::new(Vec::new()),
        }
    }

    fn log(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }

    fn calls(&self) -> Vec<String> {
        let mut calls = self.calls.lock().unwrap().clone();
        calls.sort();
        calls
    }
}

fn api_error(code: u16, message: &str) -> ClusterError {
    ClusterError::Api {
        action: "fake".into(),
        code,
        reason: String::new(),
        message: message.into(),
    }
}

impl LiveReads for Fake {
    fn list_labelled(
        &self,
        kind: &ServedKind,
        _selector: &str,
    ) -> impl Future<Output = Result<Vec<Value>, ClusterError>> + Send {
        self.log(format!("list {}", kind.resource.kind));
        let items = self
            .objects
            .iter()
            .filter(|o| o["kind"] == kind.resource.kind.as_str())
            .cloned()
            .collect();
        async move { Ok(items) }
    }

    fn get(
        &self,
        _kind: &ServedKind,
        namespace: Option<&str>,
        name: &str,
    ) -> impl Future<Output = Result<Option<Value>, ClusterError>> + Send {
        self.log(format!("get {}/{name}", namespace.unwrap_or_default()));
        let found = self
            .objects
            .iter()
            .find(|o| {
                o["metadata"]["name"] == name && o["metadata"]["namespace"] == json!(namespace)
            })
            .cloned();
        async move { Ok(found) }
    }

    fn dry_run(
        &self,
        _kind: &ServedKind,
        namespace: Option<&str>,
        name: &str,
        object: &Value,
    ) -> impl Future<Output = Result<Value, ClusterError>> + Send {
        self.log(format!("dry-run {}/{name}", namespace.unwrap_or_default()));
        let result = if self.rejects.contains(&name) {
            Err(api_error(422, "data.k: Invalid value"))
        } else if self.unreachable.contains(&name) {
            Err(api_error(503, "etcd leader changed"))
        } else {
            Ok(object.clone())
        };
        async move { result }
    }

    fn foreign_residents(
        &self,
        namespace: &str,
        _app: &str,
        _limit: usize,
    ) -> impl Future<Output = Result<Vec<Resident>, ClusterError>> + Send {
        self.log(format!("residents {namespace}"));
        async move { Ok(Vec::new()) }
    }
}

fn input<'a>(
    bundle: &'a Bundle,
    kinds: &'a HashMap<crate::manifest::Gvk, ServedKind>,
    options: super::super::PlanOptions<'a>,
) -> PlanInput<'a> {
    PlanInput {
        bundle,
        kinds,
        inventory_kinds: Some(&[]),
        concurrency: 2,
        options,
    }
}

#[tokio::test]
async fn reads_only_what_the_decisions_need() {
    let same = config_map("same", json!({"k": "v"}));
    let git = bundle(&[
        same.clone(),
        config_map("changed", json!({"k": "new"})),
        config_map("new", json!({"k": "v"})),
    ]);
    let fake = Fake::new(vec![
        applied(&same),
        applied(&config_map("changed", json!({"k": "old"}))),
    ]);
    let kinds = kinds(&git);
    let c = commit();
    let live = read_live(&fake, &input(&git, &kinds, options(&c)))
        .await
        .expect("read");
    assert_eq!(
        fake.calls(),
        [
            "dry-run apps/changed",
            "dry-run apps/new",
            "get apps/new",
            "list ConfigMap"
        ],
        "no read for the unchanged object, a lookup only for the one not in the inventory"
    );
    let plan = decide(&git, &kinds, &live, &options(&c)).expect("decided");
    let actions: Vec<&Action> = plan.changes.iter().map(|c| &c.action).collect();
    assert_eq!(
        actions,
        [&Action::Unchanged, &Action::Update, &Action::Create]
    );
}

#[tokio::test]
async fn a_rejected_object_is_an_answer_and_an_unreachable_server_an_error() {
    let git = bundle(&[config_map("bad", json!({"k": "v"}))]);
    let kinds = kinds(&git);
    let c = commit();
    let mut fake = Fake::new(Vec::new());
    fake.rejects.push("bad");
    let live = read_live(&fake, &input(&git, &kinds, options(&c)))
        .await
        .expect("a rejection is read, not a failure");
    let plan = decide(&git, &kinds, &live, &options(&c)).expect("decided");
    assert!(matches!(plan.changes[0].action, Action::Invalid { .. }));

    let mut fake = Fake::new(Vec::new());
    fake.unreachable.push("bad");
    let err = read_live(&fake, &input(&git, &kinds, options(&c)))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("etcd leader changed"), "{err}");
}

#[tokio::test]
async fn asks_who_lives_in_a_namespace_only_before_pruning_it() {
    let ns =
        |name: &str| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
    let git = bundle(&[ns("apps"), config_map("keep", json!({}))]);
    let fake = Fake::new(vec![
        applied(&ns("apps")),
        applied(&config_map("keep", json!({}))),
        applied(&ns("old")),
    ]);
    let kinds = kinds(&git);
    let c = commit();
    let live = read_live(&fake, &input(&git, &kinds, options(&c)))
        .await
        .expect("read");
    assert!(fake.calls().contains(&"residents old".to_string()));
    assert_eq!(
        fake.calls()
            .iter()
            .filter(|c| c.starts_with("residents"))
            .count(),
        1
    );
    let plan = decide(&git, &kinds, &live, &options(&c)).expect("decided");
    let old = plan.changes.iter().find(|c| c.key.name == "old").unwrap();
    assert_eq!(old.action, Action::Prune);
}

#[tokio::test]
async fn an_app_without_an_inventory_record_lists_nothing_and_looks_each_object_up() {
    let same = config_map("same", json!({"k": "v"}));
    let git = bundle(&[same.clone(), config_map("new", json!({"k": "v"}))]);
    // A labelled leftover: found by the next plan, once the first sync recorded its kind.
    let fake = Fake::new(vec![
        applied(&same),
        applied(&config_map("left", json!({}))),
    ]);
    let kinds = kinds(&git);
    let c = commit();
    let mut never_synced = input(&git, &kinds, options(&c));
    never_synced.inventory_kinds = None;
    let live = read_live(&fake, &never_synced).await.expect("read");
    assert_eq!(
        fake.calls(),
        ["dry-run apps/new", "get apps/new", "get apps/same"],
        "no LIST without a record: every desired object is looked up instead"
    );
    let plan = decide(&git, &kinds, &live, &options(&c)).expect("decided");
    let actions: Vec<&Action> = plan.changes.iter().map(|c| &c.action).collect();
    assert_eq!(
        actions,
        [&Action::Unchanged, &Action::Create],
        "nothing pruned yet"
    );
}
