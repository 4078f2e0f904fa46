use super::*;

#[test]
fn requests_coalesce_and_routine_ones_never_replace_specific_ones() {
    let requests = SyncRequests::new("web", None);
    assert_eq!(requests.app(), "web");
    assert_eq!(requests.take(), None);

    requests.request(TriggerKind::Poll);
    requests.request(TriggerKind::Webhook("github".into()));
    requests.request(TriggerKind::Drift);
    requests.request(TriggerKind::Poll);
    assert_eq!(requests.take(), Some(TriggerKind::Webhook("github".into())));
    assert_eq!(requests.take(), None);

    requests.request(TriggerKind::Drift);
    requests.request(TriggerKind::Poll);
    assert_eq!(
        requests.take(),
        Some(TriggerKind::Poll),
        "the newest routine request wins"
    );

    requests.request(TriggerKind::Manual);
    requests.request(TriggerKind::Watch);
    assert_eq!(
        requests.take(),
        Some(TriggerKind::Watch),
        "the newest specific request wins"
    );

    let received = requests.received();
    assert_eq!(received.get(&SyncTrigger::Poll), Some(&3));
    assert_eq!(received.get(&SyncTrigger::Drift), Some(&2));
    assert_eq!(received.get(&SyncTrigger::Webhook), Some(&1));
    assert_eq!(received.get(&SyncTrigger::Manual), Some(&1));
}

#[test]
fn a_retry_keeps_what_arrived_meanwhile_and_is_not_counted() {
    let requests = SyncRequests::new("web", Some(TriggerKind::Poll));
    assert_eq!(requests.take(), Some(TriggerKind::Poll));
    requests.request(TriggerKind::Drift);
    requests.request_unless_pending(TriggerKind::Poll);
    assert_eq!(requests.take(), Some(TriggerKind::Drift));
    requests.request_unless_pending(TriggerKind::Poll);
    assert_eq!(requests.take(), Some(TriggerKind::Poll));
    assert_eq!(requests.received().get(&SyncTrigger::Poll), None);
}

#[tokio::test]
async fn a_request_wakes_a_waiting_loop_and_one_made_before_the_wait_is_kept() {
    let requests = SyncRequests::new("web", None);
    requests.request(TriggerKind::Watch);
    tokio::time::timeout(std::time::Duration::from_secs(5), requests.notified())
        .await
        .expect("a request made before the wait wakes it");
    let waiter = requests.clone();
    let woken = tokio::spawn(async move { waiter.notified().await });
    tokio::task::yield_now().await;
    requests.request(TriggerKind::Manual);
    tokio::time::timeout(std::time::Duration::from_secs(5), woken)
        .await
        .expect("woken")
        .expect("joined");
}
