use super::*;

#[test]
fn names_are_padded_and_labels_complete() {
    assert_eq!(record_name("logs", 7), "ferry-history-logs-000007");
    assert_eq!(record_name("logs", 1234567), "ferry-history-logs-1234567");
    let labels = record_labels("logs", 7);
    assert_eq!(labels[MANAGED_BY_LABEL], "ferry-system");
    assert_eq!(labels[APP_LABEL], "logs");
    assert_eq!(labels[HISTORY_LABEL], "true");
    assert_eq!(labels[SEQ_LABEL], "7");
    assert_eq!(
        selector(Some("logs")),
        "ferry.dev/history=true,ferry.dev/app=logs"
    );
}

#[test]
fn app_names_are_validated() {
    assert!(validate_app("logs").is_ok());
    assert!(validate_app("web.prod-2").is_ok());
    assert!(validate_app("").is_err());
    assert!(validate_app("Web").is_err());
    assert!(validate_app("a_b").is_err());
    assert!(validate_app("-a").is_err());
    assert!(validate_app(&"a".repeat(64)).is_err());
}

#[test]
fn expiry_keeps_the_newest() {
    assert_eq!(expired(&[1, 2, 3, 4, 5], 3), vec![2, 1]);
    assert_eq!(expired(&[5, 3, 4], 3), Vec::<u64>::new());
    assert_eq!(expired(&[2, 1], 0), vec![1]);
    assert_eq!(expired(&[], 50), Vec::<u64>::new());
}

#[test]
fn seq_comes_from_label_or_name() {
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some(record_name("logs", 12));
    assert_eq!(stored_seq(&cm), Some(12));
    cm.metadata.labels = Some(record_labels("logs", 13));
    assert_eq!(stored_seq(&cm), Some(13));
}
