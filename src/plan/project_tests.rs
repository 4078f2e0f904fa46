use super::*;
use serde_json::json;

#[test]
fn keeps_only_desired_paths() {
    let live = json!({"spec": {"backoffLimit": 4, "completions": 1, "template": {"spec": {
        "containers": [{"name": "c", "image": "a", "imagePullPolicy": "Always"}],
        "restartPolicy": "Never"}}}});
    let desired = json!({"spec": {"backoffLimit": 4, "template": {"spec": {
        "containers": [{"name": "c", "image": "b"}]}}}});
    assert_eq!(
        project_onto(&live, &desired),
        json!({"spec": {"backoffLimit": 4, "template": {"spec": {
            "containers": [{"name": "c", "image": "a"}]}}}})
    );
}
