use super::*;
use crate::manifest::{ObjectKey, Origin};

fn res(group: &str, kind: &str, name: &str, wave: i32) -> Resource {
    Resource {
        key: ObjectKey {
            group: group.into(),
            version: "v1".into(),
            kind: kind.into(),
            namespace: None,
            name: name.into(),
        },
        object: serde_json::Value::Null,
        origin: Origin {
            file: "f.yaml".into(),
            document: 0,
            line: 1,
        },
        wave,
    }
}

#[test]
fn default_waves_order_dependencies_first() {
    let ns = default_wave("", "Namespace");
    let crd = default_wave("apiextensions.k8s.io", "CustomResourceDefinition");
    let role = default_wave("rbac.authorization.k8s.io", "ClusterRole");
    let pc = default_wave("scheduling.k8s.io", "PriorityClass");
    let quota = default_wave("", "ResourceQuota");
    let sa = default_wave("", "ServiceAccount");
    let cm = default_wave("", "ConfigMap");
    let pdb = default_wave("policy", "PodDisruptionBudget");
    let svc = default_wave("", "Service");
    let ds = default_wave("apps", "DaemonSet");
    let sts = default_wave("apps", "StatefulSet");
    let job = default_wave("batch", "Job");
    let cr = default_wave("example.com", "Widget");
    assert_eq!((ns, crd), (0, 0));
    assert_eq!((role, pc, quota), (1, 1, 1));
    assert_eq!((sa, cm, pdb, svc), (2, 2, 2, 2));
    assert_eq!((ds, sts, job, cr), (3, 3, 3, 3));
    assert!(ns < role && role < sa && sa < ds);
}

#[test]
fn kinds_are_matched_with_their_group() {
    assert_eq!(default_wave("example.com", "Namespace"), 3);
    assert_eq!(default_wave("example.com", "Secret"), 3);
    assert_eq!(default_wave("", "CustomResourceDefinition"), 3);
}

#[test]
fn waves_are_ascending_and_stable() {
    let bundle = Bundle {
        resources: vec![
            res("apps", "DaemonSet", "a", 3),
            res("", "ConfigMap", "b", 2),
            res("", "Namespace", "c", 0),
            res("apps", "StatefulSet", "d", 3),
            res("", "ConfigMap", "e", 2),
            res("batch", "Job", "f", -1),
        ],
    };
    let waves: Vec<(i32, Vec<&str>)> = bundle
        .waves()
        .into_iter()
        .map(|(w, rs)| (w, rs.iter().map(|r| r.key.name.as_str()).collect()))
        .collect();
    assert_eq!(
        waves,
        vec![
            (-1, vec!["f"]),
            (0, vec!["c"]),
            (2, vec!["b", "e"]),
            (3, vec!["a", "d"])
        ]
    );
    let mut sorted = bundle.clone();
    sorted.sort_by_wave();
    let names: Vec<&str> = sorted
        .resources
        .iter()
        .map(|r| r.key.name.as_str())
        .collect();
    assert_eq!(names, ["f", "c", "b", "e", "a", "d"]);
    assert!(Bundle::default().waves().is_empty());
}
