use super::*;

#[test]
fn a_drained_tenure_lets_running_syncs_finish_and_a_cancel_stops_them() {
    let mut seat = Seat::new();
    let ownership = seat.subscribe();
    assert!(ownership.borrow().is_none());
    seat.grant();
    let tenure = ownership.borrow().clone().expect("granted");
    assert_eq!(tenure.epoch, 1);
    let running = tenure.running();
    assert_eq!(seat.running(), 1);
    seat.drain();
    assert!(ownership.borrow().is_none());
    assert!(
        !tenure.cancel.is_cancelled(),
        "draining does not stop a running sync"
    );
    seat.cancel(StopReason::Shutdown);
    assert_eq!(tenure.cancel.reason(), Some(StopReason::Shutdown));
    drop(running);
    assert_eq!(seat.running(), 0);
}

#[test]
fn each_grant_is_a_new_epoch_with_a_fresh_cancel() {
    let mut seat = Seat::new();
    let ownership = seat.subscribe();
    seat.grant();
    seat.grant();
    let first = ownership.borrow().clone().expect("granted");
    assert_eq!(first.epoch, 1, "granting a granted seat changes nothing");
    seat.cancel(StopReason::Shutdown);
    seat.grant();
    let second = ownership.borrow().clone().expect("granted again");
    assert_eq!(second.epoch, 2);
    assert!(first.cancel.is_cancelled());
    assert!(!second.cancel.is_cancelled());
}
