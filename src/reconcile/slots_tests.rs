use std::time::Duration;

use super::{SyncPriority, SyncSlots};

/// Lets spawned waiters run until they are queued.
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn never_more_than_the_limit_run() {
    let slots = SyncSlots::new(2);
    let a = slots.acquire(SyncPriority::Background).await;
    let _b = slots.acquire(SyncPriority::Background).await;
    assert_eq!(slots.running(), 2);
    let waiter = {
        let slots = slots.clone();
        tokio::spawn(async move { slots.acquire(SyncPriority::Background).await })
    };
    settle().await;
    assert_eq!(slots.waiting(SyncPriority::Background), 1);
    assert!(!waiter.is_finished(), "a third sync waits");
    drop(a);
    let _c = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(slots.running(), 2);
    assert_eq!(slots.waiting(SyncPriority::Background), 0);
}

#[tokio::test]
async fn triggered_syncs_go_first_then_arrival_order() {
    let slots = SyncSlots::new(1);
    let held = slots.acquire(SyncPriority::Background).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut tasks = Vec::new();
    for (name, priority) in [
        ("poll-1", SyncPriority::Background),
        ("poll-2", SyncPriority::Background),
        ("hook-1", SyncPriority::Triggered),
        ("hook-2", SyncPriority::Triggered),
    ] {
        let (slots, tx) = (slots.clone(), tx.clone());
        tasks.push(tokio::spawn(async move {
            let _slot = slots.acquire(priority).await;
            tx.send(name).unwrap();
            settle().await;
        }));
        settle().await;
    }
    assert_eq!(slots.waiting(SyncPriority::Triggered), 2);
    assert_eq!(slots.waiting(SyncPriority::Background), 2);
    drop(held);
    for task in tasks {
        task.await.unwrap();
    }
    let mut order = Vec::new();
    while let Ok(name) = rx.try_recv() {
        order.push(name);
    }
    assert_eq!(order, ["hook-1", "hook-2", "poll-1", "poll-2"]);
    assert_eq!(slots.running(), 0);
}

#[tokio::test]
async fn a_waiter_that_gives_up_loses_no_slot() {
    let slots = SyncSlots::new(1);
    let held = slots.acquire(SyncPriority::Background).await;
    let gave_up = {
        let slots = slots.clone();
        tokio::spawn(async move { slots.acquire(SyncPriority::Triggered).await })
    };
    settle().await;
    gave_up.abort();
    let _ = gave_up.await;
    assert_eq!(slots.waiting(SyncPriority::Triggered), 0);
    drop(held);
    assert_eq!(slots.running(), 0, "the slot went back to the pool");
    let _again = tokio::time::timeout(
        Duration::from_secs(5),
        slots.acquire(SyncPriority::Background),
    )
    .await
    .unwrap();
}
