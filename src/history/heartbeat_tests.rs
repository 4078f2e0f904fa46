use super::*;

#[test]
fn the_annotation_is_read_when_valid() {
    let mut cm = ConfigMap::default();
    assert_eq!(annotated(&cm), None);
    cm.metadata.annotations = Some(
        [(
            HEARTBEAT_ANNOTATION.to_string(),
            "2026-01-02T03:04:05.678Z".to_string(),
        )]
        .into(),
    );
    let beat = annotated(&cm).unwrap();
    assert_eq!(beat.to_rfc3339(), "2026-01-02T03:04:05.678+00:00");
    cm.metadata.annotations = Some([(HEARTBEAT_ANNOTATION.into(), "soon".into())].into());
    assert_eq!(annotated(&cm), None);
    assert!(STALE_AFTER > HEARTBEAT_INTERVAL * 3);
}
