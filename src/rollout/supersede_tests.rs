use super::*;
use std::time::Duration;

#[tokio::test]
async fn only_a_different_commit_supersedes() {
    let (sender, rx) = head_channel();
    let mut gate = Supersede::new(rx, "aaa");
    assert_eq!(gate.newer(), None);
    sender.publish("aaa");
    let early = tokio::time::timeout(Duration::from_millis(50), gate.wait()).await;
    assert!(early.is_err(), "the same commit must not supersede");
    sender.publish("bbb");
    let newer = tokio::time::timeout(Duration::from_secs(1), gate.wait()).await;
    assert_eq!(newer.ok().as_deref(), Some("bbb"));
}

#[tokio::test]
async fn a_dropped_sender_never_supersedes() {
    let (sender, rx) = head_channel();
    let mut gate = Supersede::new(rx, "aaa");
    drop(sender);
    let waited = tokio::time::timeout(Duration::from_millis(50), gate.wait()).await;
    assert!(waited.is_err());
}
