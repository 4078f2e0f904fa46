//! The election's expiry logic, with the monotonic clock injected as explicit instants.

use super::*;

fn mark(holder: &str, renew: &str, rv: &str) -> LeaseMark {
    LeaseMark {
        holder: holder.into(),
        renew_time: Some(renew.into()),
        resource_version: Some(rv.into()),
    }
}

const LEASE: Duration = Duration::from_secs(15);

#[test]
fn a_standby_waits_a_full_lease_after_first_seeing_it_whatever_renew_time_says() {
    let t0 = Instant::now();
    let mut seen = Observation::default();
    // renewTime years in the past by the wall clock: a wall-clock check would call this
    // expired at once. The monotonic clock starts now.
    seen.observe(mark("a", "2001-01-01T00:00:00Z", "7"), t0);
    assert_eq!(seen.judge("b", LEASE, t0), Verdict::HeldBy("a".into()));
    let almost = t0 + LEASE - Duration::from_millis(1);
    assert_eq!(seen.judge("b", LEASE, almost), Verdict::HeldBy("a".into()));
    assert_eq!(seen.judge("b", LEASE, t0 + LEASE), Verdict::Free);
}

#[test]
fn a_renewal_in_the_future_by_the_wall_clock_does_not_extend_the_lease() {
    let t0 = Instant::now();
    let mut seen = Observation::default();
    seen.observe(mark("a", "2999-01-01T00:00:00Z", "7"), t0);
    assert_eq!(seen.judge("b", LEASE, t0 + LEASE), Verdict::Free);
}

#[test]
fn every_change_restarts_the_clock_and_rereading_the_same_lease_does_not() {
    let t0 = Instant::now();
    let mut seen = Observation::default();
    seen.observe(mark("a", "r1", "7"), t0);
    // Read again unchanged: the clock keeps running from t0.
    seen.observe(mark("a", "r1", "7"), t0 + Duration::from_secs(10));
    assert_eq!(seen.judge("b", LEASE, t0 + LEASE), Verdict::Free);
    // Renewed (new renewTime and resourceVersion) at t0+10: held until t0+25.
    let t10 = t0 + Duration::from_secs(10);
    seen.observe(mark("a", "r2", "8"), t10);
    assert_eq!(
        seen.judge("b", LEASE, t0 + Duration::from_secs(24)),
        Verdict::HeldBy("a".into())
    );
    assert_eq!(seen.judge("b", LEASE, t10 + LEASE), Verdict::Free);
    // A write that changes only the resourceVersion is a sign of life too.
    let t20 = t0 + Duration::from_secs(20);
    seen.observe(mark("a", "r2", "9"), t20);
    assert_eq!(
        seen.judge("b", LEASE, t10 + LEASE),
        Verdict::HeldBy("a".into())
    );
}

#[test]
fn a_released_lease_is_free_and_our_own_is_ours() {
    let t0 = Instant::now();
    let mut seen = Observation::default();
    assert_eq!(
        seen.judge("b", LEASE, t0),
        Verdict::Free,
        "never seen: free"
    );
    seen.observe(mark("", "r1", "7"), t0);
    assert_eq!(seen.judge("b", LEASE, t0), Verdict::Free);
    seen.observe(mark("b", "r2", "8"), t0);
    assert_eq!(seen.judge("b", LEASE, t0), Verdict::Ours);
    // Someone overwrote the holder: from that moment it is theirs for a full lease.
    let t1 = t0 + Duration::from_secs(1);
    seen.observe(mark("c", "r2", "9"), t1);
    assert_eq!(seen.judge("b", LEASE, t1), Verdict::HeldBy("c".into()));
}

#[test]
fn renewals_give_up_before_the_lease_can_expire_for_others() {
    let t = ElectionTimings::default();
    assert!(t.renew_deadline < t.lease_duration);
    assert!(t.retry_period < t.renew_deadline);
}
