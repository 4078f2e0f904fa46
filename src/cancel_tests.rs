use super::*;
use std::time::Duration;

#[tokio::test]
async fn the_first_reason_wins_and_wakes_waiters() {
    let (canceller, token) = channel();
    assert!(!token.is_cancelled());
    let waiter = tokio::spawn({
        let token = token.clone();
        async move { token.cancelled().await }
    });
    canceller.cancel(StopReason::LeaseLost {
        detail: "holder is b".into(),
    });
    canceller.cancel(StopReason::Shutdown);
    let woke = tokio::time::timeout(Duration::from_secs(1), waiter).await;
    let expected = StopReason::LeaseLost {
        detail: "holder is b".into(),
    };
    assert_eq!(woke.ok().and_then(Result::ok), Some(expected.clone()));
    assert_eq!(canceller.token().reason(), Some(expected));
}

#[tokio::test]
async fn never_is_never_cancelled() {
    let token = Cancel::never();
    assert!(!token.is_cancelled());
    let waited = tokio::time::timeout(Duration::from_millis(30), token.cancelled()).await;
    assert!(waited.is_err());
}
