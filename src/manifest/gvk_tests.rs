use super::*;

#[test]
fn displays_as_api_version_and_kind() {
    assert_eq!(
        Gvk::new("apps", "v1", "DaemonSet").to_string(),
        "apps/v1 DaemonSet"
    );
    assert_eq!(Gvk::new("", "v1", "ConfigMap").to_string(), "v1 ConfigMap");
    assert_eq!(Gvk::new("", "v1", "ConfigMap").api_version(), "v1");
}

#[test]
fn orders_by_group_then_version_then_kind() {
    // The inventory record is written in this order: it must stay the tuple order it replaced.
    let mut kinds = [
        Gvk::new("batch", "v1", "Job"),
        Gvk::new("apps", "v1", "StatefulSet"),
        Gvk::new("", "v1", "Service"),
        Gvk::new("apps", "v1", "DaemonSet"),
    ];
    kinds.sort();
    let names: Vec<String> = kinds.iter().map(ToString::to_string).collect();
    assert_eq!(
        names,
        [
            "v1 Service",
            "apps/v1 DaemonSet",
            "apps/v1 StatefulSet",
            "batch/v1 Job"
        ]
    );
}
