use super::*;
use serde_json::json;

#[test]
fn guard_refuses_all_and_more_than_the_share() {
    let guard = PruneGuard::default();
    assert_eq!(guard.judge(0, 0), None);
    assert_eq!(guard.judge(0, 10), None);
    assert_eq!(guard.judge(5, 10), None, "exactly 50% is allowed");
    let over = guard.judge(6, 10).expect("60% is refused");
    assert!(over.to_string().contains("6 of the app's 10"), "{over}");
    assert!(over.to_string().contains("--allow-mass-prune"), "{over}");
    let all = guard.judge(3, 3).expect("all is refused");
    assert!(all.rule.contains("every object"), "{}", all.rule);
    let empty_ok = PruneGuard {
        allow_empty: true,
        ..guard
    };
    assert_eq!(empty_ok.judge(3, 3), None);
    assert!(empty_ok.judge(2, 3).is_some(), "allowEmpty is not a share");
    let once = PruneGuard {
        allow_mass_prune: true,
        ..guard
    };
    assert_eq!(once.judge(10, 10), None);
    let loose = PruneGuard {
        max_percent: 100,
        ..guard
    };
    assert_eq!(loose.judge(9, 10), None);
    assert!(loose.judge(10, 10).is_some(), "all still needs allowEmpty");
}

fn labelled(app: &str, install: Option<&str>) -> Value {
    let mut labels = json!({"app.kubernetes.io/managed-by": "ferry", "ferry.dev/app": app});
    if let Some(i) = install {
        labels[INSTALL_LABEL] = i.into();
    }
    json!({"metadata": {"name": "x", "labels": labels}})
}

#[test]
fn owners_are_told_apart_by_app_and_install() {
    assert_eq!(
        foreign_owner(&labelled("a", None), "a", "ferry-system"),
        None
    );
    assert_eq!(
        foreign_owner(&labelled("a", Some("ferry-system")), "a", "ferry-system"),
        None
    );
    assert_eq!(
        foreign_owner(&labelled("b", None), "a", "ferry-system"),
        Some(ForeignOwner::App("b".into()))
    );
    assert_eq!(
        foreign_owner(&labelled("a", Some("ferry-two")), "a", "ferry-system"),
        Some(ForeignOwner::Install("ferry-two".into()))
    );
    let unlabelled = json!({"metadata": {"name": "x", "labels": {"ferry.dev/app": "b"}}});
    assert_eq!(foreign_owner(&unlabelled, "a", "ferry-system"), None);
}

#[test]
fn only_ferrys_apply_entry_counts_as_ferrys() {
    let by = |manager: &str, operation: &str| json!({"metadata": {"managedFields": [{"manager": manager, "operation": operation, "fieldsV1": {}}]}});
    assert!(applied_by_ferry(&by("ferry", "Apply")));
    assert!(!applied_by_ferry(&by("ferry", "Update")));
    assert!(!applied_by_ferry(&by(
        "kubectl-client-side-apply",
        "Update"
    )));
    assert!(!applied_by_ferry(&json!({"metadata": {}})));
}

#[test]
fn system_and_own_namespaces_are_protected() {
    for ns in PROTECTED_NAMESPACES {
        assert!(protected_namespace(ns, "ferry-system").is_some(), "{ns}");
    }
    assert!(protected_namespace("ferry-system", "ferry-system").is_some());
    assert!(protected_namespace("logging", "ferry-system").is_none());
}
