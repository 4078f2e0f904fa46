use super::*;
use serde_json::json;

fn commit() -> CommitInfo {
    CommitInfo {
        sha: "0123456789abcdef0123456789abcdef01234567".into(),
        author: "a".into(),
        email: "a@b".into(),
        time: Default::default(),
        subject: "Bump fluentd".into(),
        body: String::new(),
        reverts: None,
    }
}

#[test]
fn daemonsets_get_change_cause_and_everything_gets_labels() {
    let ds = json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "f", "labels": {"x": "y"}}});
    let out = with_bookkeeping(&ds, "logs", "ferry-system", &commit());
    assert_eq!(out["metadata"]["labels"]["x"], "y");
    assert_eq!(out["metadata"]["labels"][MANAGED_BY_LABEL], "ferry");
    assert_eq!(out["metadata"]["labels"][APP_LABEL], "logs");
    assert_eq!(out["metadata"]["labels"][INSTALL_LABEL], "ferry-system");
    assert_eq!(
        out["metadata"]["annotations"][CHANGE_CAUSE_ANNOTATION],
        "ferry 0123456: Bump fluentd"
    );
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
    let out = with_bookkeeping(&cm, "logs", "ferry-system", &commit());
    assert!(out["metadata"]["annotations"]
        .get(CHANGE_CAUSE_ANNOTATION)
        .is_none());
    assert_eq!(
        out["metadata"]["annotations"][COMMIT_ANNOTATION],
        commit().sha.as_str()
    );
}
