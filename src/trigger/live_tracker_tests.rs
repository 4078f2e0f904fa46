use super::*;

fn seen(uid: &str, fingerprint: u64, writer: &str) -> SeenObject {
    SeenObject {
        object: format!("ConfigMap ns/{uid}"),
        uid: uid.into(),
        app: Some("a".into()),
        fingerprint,
        last_writers: vec![writer.into()],
    }
}

#[test]
fn only_changes_by_others_count_after_the_first_list() {
    let mut t = LiveTracker::default();
    assert!(t.observe(LiveEvent::Relisting).is_empty());
    assert!(t
        .observe(LiveEvent::Listed(seen("a", 1, "kubectl")))
        .is_empty());
    assert!(t
        .observe(LiveEvent::Listed(seen("b", 1, "ferry")))
        .is_empty());
    assert!(t.observe(LiveEvent::ListDone).is_empty(), "initial state");
    assert!(
        t.observe(LiveEvent::Changed(seen("a", 2, "ferry")))
            .is_empty(),
        "ferry's own apply"
    );
    assert!(
        t.observe(LiveEvent::Changed(seen("a", 2, "kube-controller-manager")))
            .is_empty(),
        "same fingerprint: a status write"
    );
    assert_eq!(
        t.observe(LiveEvent::Changed(seen("a", 3, "kubectl-edit"))),
        vec!["ConfigMap ns/a"]
    );
    assert_eq!(
        t.observe(LiveEvent::Deleted(seen("b", 1, "ferry"))),
        vec!["ConfigMap ns/b"]
    );
}

#[test]
fn a_relist_reports_what_changed_or_vanished_meanwhile() {
    let mut t = LiveTracker::default();
    t.observe(LiveEvent::Relisting);
    for uid in ["a", "b", "c"] {
        t.observe(LiveEvent::Listed(seen(uid, 1, "ferry")));
    }
    t.observe(LiveEvent::ListDone);
    // The watch reconnects: a changed by someone, c gone.
    assert!(t.observe(LiveEvent::Relisting).is_empty());
    assert_eq!(
        t.observe(LiveEvent::Listed(seen("a", 2, "kubectl-patch"))),
        vec!["ConfigMap ns/a"]
    );
    assert!(t
        .observe(LiveEvent::Listed(seen("b", 1, "ferry")))
        .is_empty());
    assert_eq!(
        t.observe(LiveEvent::ListDone),
        vec!["1 object(s) deleted while the watch reconnected"]
    );
    assert!(t.observe(LiveEvent::Relisting).is_empty());
    t.observe(LiveEvent::Listed(seen("a", 2, "kubectl-patch")));
    t.observe(LiveEvent::Listed(seen("b", 1, "ferry")));
    assert!(t.observe(LiveEvent::ListDone).is_empty(), "nothing new");
}

#[test]
fn a_staged_rollout_step_is_ferrys_own_write() {
    let mut t = LiveTracker::default();
    t.observe(LiveEvent::Relisting);
    t.observe(LiveEvent::Listed(seen("a", 1, "ferry")));
    t.observe(LiveEvent::ListDone);
    assert!(
        t.observe(LiveEvent::Changed(seen("a", 2, "ferry-rollout")))
            .is_empty(),
        "a partition lowered by the staged rollout is not drift"
    );
    assert_eq!(
        t.observe(LiveEvent::Changed(seen("a", 3, "kubectl-edit")))
            .len(),
        1
    );
}
