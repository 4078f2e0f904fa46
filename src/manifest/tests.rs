use super::*;

fn key(group: &str, kind: &str, ns: Option<&str>) -> ObjectKey {
    ObjectKey {
        group: group.into(),
        version: "v1".into(),
        kind: kind.into(),
        namespace: ns.map(Into::into),
        name: "fluentd".into(),
    }
}

#[test]
fn key_display_and_api_version() {
    let ds = key("apps", "DaemonSet", Some("logging"));
    assert_eq!(ds.to_string(), "DaemonSet logging/fluentd");
    assert_eq!(ds.api_version(), "apps/v1");
    let ns = key("", "Namespace", None);
    assert_eq!(ns.to_string(), "Namespace fluentd");
    assert_eq!(ns.api_version(), "v1");
}

#[test]
fn object_name_is_the_key_display() {
    let ds = key("apps", "DaemonSet", Some("logging"));
    assert_eq!(
        object_name("DaemonSet", Some("logging"), "fluentd"),
        ds.to_string()
    );
    assert_eq!(
        object_name("Namespace", None, "fluentd"),
        "Namespace fluentd"
    );
}

#[test]
fn origin_and_problem_display() {
    let o = Origin {
        file: "apps/fluentd.yaml".into(),
        document: 1,
        line: 12,
    };
    assert_eq!(o.to_string(), "apps/fluentd.yaml:12");
    assert_eq!(
        Problem::at(&o, "bad").to_string(),
        "apps/fluentd.yaml:12: bad"
    );
    assert_eq!(
        Problem::new("a.yaml", 0, "too big").to_string(),
        "a.yaml: too big"
    );
}

#[test]
fn invalid_display_lists_every_problem() {
    let e = ManifestError::Invalid(vec![
        Problem::new("a.yaml", 3, "missing kind"),
        Problem::new("b.yaml", 9, "missing apiVersion"),
    ]);
    assert_eq!(
        e.to_string(),
        "2 problem(s) in manifests:\na.yaml:3: missing kind\nb.yaml:9: missing apiVersion"
    );
    assert_eq!(e.problems().len(), 2);
}

#[test]
fn default_limits() {
    let l = Limits::default();
    assert_eq!(l.max_file_bytes, 4 << 20);
    assert_eq!(l.max_documents_per_file, 5000);
    assert_eq!(l.max_resources, 50_000);
    assert_eq!(l.max_object_bytes, 1_572_864);
}
