use super::*;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ManagedFieldsEntry, Time};
use std::collections::BTreeMap;

fn entry(manager: &str, at: &str) -> ManagedFieldsEntry {
    ManagedFieldsEntry {
        manager: Some(manager.into()),
        time: Some(Time(at.parse().unwrap())),
        ..Default::default()
    }
}

#[test]
fn status_writes_keep_the_fingerprint_of_generational_kinds() {
    let mut ds = ObjectMeta {
        generation: Some(2),
        resource_version: Some("100".into()),
        labels: Some(BTreeMap::from([("app".into(), "agent".into())])),
        ..Default::default()
    };
    let before = fingerprint(&ds);
    ds.resource_version = Some("101".into());
    assert_eq!(fingerprint(&ds), before, "a status write is not drift");
    ds.generation = Some(3);
    assert_ne!(fingerprint(&ds), before, "a spec change is");
    let mut cm = ObjectMeta {
        resource_version: Some("7".into()),
        ..Default::default()
    };
    let before = fingerprint(&cm);
    cm.resource_version = Some("8".into());
    assert_ne!(fingerprint(&cm), before);
}

#[test]
fn the_newest_managed_fields_entries_name_the_last_writers() {
    let meta = ObjectMeta {
        managed_fields: Some(vec![
            entry("ferry", "2026-11-23T10:00:00Z"),
            entry("kubectl-edit", "2026-11-23T10:05:00Z"),
            entry("kube-controller-manager", "2026-11-23T10:05:00Z"),
        ]),
        ..Default::default()
    };
    assert_eq!(
        last_writers(&meta),
        vec!["kube-controller-manager", "kubectl-edit"]
    );
    assert!(last_writers(&ObjectMeta::default()).is_empty());
}
