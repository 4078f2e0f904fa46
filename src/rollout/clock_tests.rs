use super::*;
use serde_json::json;

fn pod(ready: bool) -> Pod {
    serde_json::from_value(json!({"metadata": {"name": "crash-1", "uid": "u1"},
           "status": {"conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}}))
    .unwrap()
}

fn problem() -> PodProblem {
    PodProblem {
        pod: "crash-1".into(),
        pod_uid: "u1".into(),
        node: Some("kwok-worker-1".into()),
        container: Some("c".into()),
        reason: "CrashLoopBackOff".into(),
        message: String::new(),
        exit_code: Some(1),
    }
}

#[test]
fn a_brief_running_phase_does_not_restart_the_grace_period() {
    let grace = Duration::from_secs(20);
    let t0 = Instant::now();
    let mut clock = GraceClock::default();
    let problems = vec![problem()];
    clock.update(t0, &problems, &[pod(false)]);
    assert!(clock
        .persisted(t0 + Duration::from_secs(5), grace, &problems)
        .is_empty());
    // Restarted: running but not Ready, no problem visible.
    clock.update(t0 + Duration::from_secs(10), &[], &[pod(false)]);
    // Backing off again after the grace period: fails at once.
    let later = t0 + Duration::from_secs(21);
    clock.update(later, &problems, &[pod(false)]);
    assert_eq!(clock.persisted(later, grace, &problems).len(), 1);
}

#[test]
fn ready_or_gone_pods_restart_the_grace_period() {
    let grace = Duration::from_secs(20);
    let t0 = Instant::now();
    let mut clock = GraceClock::default();
    let problems = vec![problem()];
    clock.update(t0, &problems, &[pod(false)]);
    clock.update(t0 + Duration::from_secs(10), &[], &[pod(true)]);
    let later = t0 + Duration::from_secs(21);
    clock.update(later, &problems, &[pod(false)]);
    assert!(clock.persisted(later, grace, &problems).is_empty());
    clock.update(later, &[], &[]);
    assert_eq!(clock.since("u1"), None);
}
