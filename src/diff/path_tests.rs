use super::*;
use serde_json::json;

#[test]
fn renders_dotted_keyed_and_quoted_segments() {
    let p = FieldPath::root()
        .field("spec")
        .field("containers")
        .child(Segment::Key(vec![("name".into(), json!("nginx"))]))
        .field("image");
    assert_eq!(p.to_string(), "spec.containers[name=nginx].image");

    let p = FieldPath::root()
        .field("metadata")
        .field("labels")
        .field("app.kubernetes.io/name");
    assert_eq!(
        p.to_string(),
        r#"metadata.labels["app.kubernetes.io/name"]"#
    );

    let p = FieldPath::root()
        .field("ports")
        .child(Segment::Key(vec![
            ("containerPort".into(), json!(53)),
            ("protocol".into(), json!("UDP")),
        ]))
        .child(Segment::Index(2));
    assert_eq!(p.to_string(), "ports[containerPort=53,protocol=UDP][2]");
    assert_eq!(FieldPath::root().to_string(), "");
}

#[test]
fn quantity_paths() {
    let p = FieldPath::root()
        .field("resources")
        .field("limits")
        .field("cpu");
    assert!(p.is_quantity());
    assert!(!FieldPath::root().field("spec").field("cpu").is_quantity());
}
