use super::*;

#[test]
fn wire_names_are_the_display_names_and_unknown_names_read() {
    let known = [
        SyncTrigger::Manual,
        SyncTrigger::Poll,
        SyncTrigger::Webhook,
        SyncTrigger::Watch,
        SyncTrigger::Drift,
        SyncTrigger::SelfHeal,
        SyncTrigger::Rollback,
        SyncTrigger::RevertPolicy,
        SyncTrigger::RevertFallback,
    ];
    for trigger in known {
        let wire = serde_json::to_string(&trigger).unwrap();
        assert_eq!(wire, format!("\"{trigger}\""));
        assert_eq!(serde_json::from_str::<SyncTrigger>(&wire).unwrap(), trigger);
    }
    // A name from another ferry version reads, and is written back as it was.
    let cron: SyncTrigger = serde_json::from_str("\"cron\"").unwrap();
    assert_eq!(cron, SyncTrigger::Other("cron".into()));
    assert_eq!(cron.to_string(), "cron");
    assert_eq!(serde_json::to_string(&cron).unwrap(), "\"cron\"");
}

#[test]
fn requests_record_their_trigger_without_forge_or_override() {
    assert_eq!(
        TriggerKind::Webhook("github".into()).sync_trigger(),
        SyncTrigger::Webhook
    );
    assert_eq!(TriggerKind::ManualForce.sync_trigger(), SyncTrigger::Manual);
    assert_eq!(TriggerKind::Drift.sync_trigger().to_string(), "drift");
}
