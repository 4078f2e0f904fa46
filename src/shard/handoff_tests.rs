use super::*;

#[test]
fn every_trigger_survives_a_hand_off() {
    for trigger in [
        TriggerKind::Poll,
        TriggerKind::Webhook("gitea".into()),
        TriggerKind::Manual,
        TriggerKind::ManualForce,
        TriggerKind::Watch,
        TriggerKind::Drift,
        TriggerKind::Rollback(None),
        TriggerKind::Rollback(Some("abc1234".into())),
    ] {
        let cm = handoff_config_map("ferry-system", "logs", &trigger, "ferry-1");
        assert_eq!(read_handoff(&cm), Some(("logs".to_string(), trigger)));
        assert_eq!(cm.metadata.name.as_deref(), Some("ferry-handoff-logs"));
    }
}

#[test]
fn unknown_triggers_are_not_guessed() {
    assert_eq!(decode_trigger("revert"), None);
    assert_eq!(
        decode_trigger("rollback:"),
        None,
        "an empty sha is no rollback"
    );
    assert_eq!(
        decode_trigger("webhook:github"),
        Some(TriggerKind::Webhook("github".into()))
    );
    let mut cm = handoff_config_map("ns", "logs", &TriggerKind::Manual, "me");
    if let Some(data) = cm.data.as_mut() {
        data.remove("app");
    }
    assert_eq!(read_handoff(&cm), None);
}

#[test]
fn two_requests_differ_so_the_watch_sees_both() {
    let a = handoff_config_map("ns", "logs", &TriggerKind::Manual, "me");
    std::thread::sleep(std::time::Duration::from_millis(2));
    let b = handoff_config_map("ns", "logs", &TriggerKind::Manual, "me");
    assert_ne!(a.data, b.data);
}
