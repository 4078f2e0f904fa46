use super::*;

fn cm() -> Gvk {
    Gvk::new("", "v1", "ConfigMap")
}

fn seen(app: Option<&str>, uid: &str, fingerprint: u64, writer: &str) -> SeenObject {
    SeenObject {
        object: format!("ConfigMap ns/{uid}"),
        uid: uid.into(),
        app: app.map(Into::into),
        fingerprint,
        last_writers: vec![writer.into()],
    }
}

const DEBOUNCE: Duration = Duration::from_secs(1);

/// Three apps' objects of one kind, listed once.
fn listed(now: Instant) -> LiveDispatch {
    let mut d = LiveDispatch::new(["a", "b", "c"].map(String::from), DEBOUNCE);
    d.reset_kind(&cm());
    d.observe(&cm(), LiveEvent::Relisting, now);
    for (app, uid) in [("a", "a1"), ("a", "a2"), ("b", "b1"), ("c", "c1")] {
        d.observe(
            &cm(),
            LiveEvent::Listed(seen(Some(app), uid, 1, "ferry")),
            now,
        );
    }
    d.observe(&cm(), LiveEvent::ListDone, now);
    d
}

#[test]
fn an_edit_asks_only_the_owning_app_after_the_debounce() {
    let t0 = Instant::now();
    let mut d = listed(t0);
    assert_eq!(d.next_due(), None, "the first list is no change");
    // ferry's own apply to b's object, then a hand edit of a's, twice in a burst.
    d.observe(
        &cm(),
        LiveEvent::Changed(seen(Some("b"), "b1", 2, "ferry")),
        t0,
    );
    d.observe(
        &cm(),
        LiveEvent::Changed(seen(Some("a"), "a1", 2, "kubectl-edit")),
        t0,
    );
    let later = t0 + Duration::from_millis(500);
    d.observe(
        &cm(),
        LiveEvent::Changed(seen(Some("a"), "a2", 2, "kubectl-edit")),
        later,
    );
    assert_eq!(d.next_due(), Some(t0 + DEBOUNCE), "not moved by the burst");
    assert!(d.take_due(later).is_empty(), "still quiet time");
    assert_eq!(
        d.take_due(t0 + DEBOUNCE),
        vec![(
            "a".to_string(),
            vec!["ConfigMap ns/a1".to_string(), "ConfigMap ns/a2".to_string()]
        )]
    );
    assert_eq!(d.next_due(), None, "one request per burst");
}

#[test]
fn deletions_go_to_the_app_that_owned_the_uid_even_when_relabelled() {
    let t0 = Instant::now();
    let mut d = listed(t0);
    // Deleted (as a selector watch reports an object whose app label was removed).
    d.observe(
        &cm(),
        LiveEvent::Deleted(seen(None, "c1", 2, "kubectl-label")),
        t0,
    );
    // Relabelled from a to b: gone from a, new for b.
    d.observe(
        &cm(),
        LiveEvent::Changed(seen(Some("b"), "a2", 2, "kubectl-label")),
        t0,
    );
    let due = d.take_due(t0 + DEBOUNCE);
    let apps: Vec<&str> = due.iter().map(|(app, _)| app.as_str()).collect();
    assert_eq!(apps, ["a", "b", "c"], "{due:?}");
}

#[test]
fn a_relist_reports_vanished_objects_to_their_app_and_other_apps_are_ignored() {
    let t0 = Instant::now();
    let mut d = listed(t0);
    // An app of another config (same labels, not registered) and an unlabelled object.
    d.observe(
        &cm(),
        LiveEvent::Changed(seen(Some("zz"), "z1", 1, "kubectl")),
        t0,
    );
    d.observe(
        &cm(),
        LiveEvent::Changed(seen(None, "n1", 1, "kubectl")),
        t0,
    );
    assert_eq!(d.next_due(), None);
    // The watch reconnects: b1 is gone, the others unchanged.
    d.observe(&cm(), LiveEvent::Relisting, t0);
    for (app, uid) in [("a", "a1"), ("a", "a2"), ("c", "c1")] {
        d.observe(
            &cm(),
            LiveEvent::Listed(seen(Some(app), uid, 1, "ferry")),
            t0,
        );
    }
    d.observe(&cm(), LiveEvent::ListDone, t0);
    assert_eq!(
        d.take_due(t0 + DEBOUNCE),
        vec![(
            "b".to_string(),
            vec!["1 object(s) deleted while the watch reconnected".to_string()]
        )]
    );
    // A kind no longer watched: its late events are dropped.
    d.forget_kind(&cm());
    d.observe(
        &cm(),
        LiveEvent::Deleted(seen(Some("a"), "a1", 1, "kubectl")),
        t0,
    );
    assert_eq!(d.next_due(), None);
}

#[test]
fn an_app_new_to_a_watched_kind_counts_edits_of_its_new_objects() {
    let t0 = Instant::now();
    let mut d = LiveDispatch::new(["a", "b"].map(String::from), DEBOUNCE);
    d.reset_kind(&cm());
    d.observe(&cm(), LiveEvent::Relisting, t0);
    d.observe(
        &cm(),
        LiveEvent::Listed(seen(Some("a"), "a1", 1, "ferry")),
        t0,
    );
    d.observe(&cm(), LiveEvent::ListDone, t0);
    // b's first object of the kind, created by ferry, then edited by hand.
    d.observe(
        &cm(),
        LiveEvent::Changed(seen(Some("b"), "b1", 1, "ferry")),
        t0,
    );
    assert_eq!(d.next_due(), None);
    d.observe(
        &cm(),
        LiveEvent::Changed(seen(Some("b"), "b1", 2, "kubectl")),
        t0,
    );
    assert_eq!(d.take_due(t0 + DEBOUNCE).len(), 1);
    // A relist right after keeps b's object known (no false deletion).
    d.observe(&cm(), LiveEvent::Relisting, t0);
    d.observe(
        &cm(),
        LiveEvent::Listed(seen(Some("a"), "a1", 1, "ferry")),
        t0,
    );
    d.observe(
        &cm(),
        LiveEvent::Listed(seen(Some("b"), "b1", 2, "kubectl")),
        t0,
    );
    d.observe(&cm(), LiveEvent::ListDone, t0);
    assert_eq!(d.next_due(), None);
}
