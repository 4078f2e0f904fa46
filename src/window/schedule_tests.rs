//! How a window reads its cron schedule: weekdays, day fields, steps, ranges, macros.

use super::tests::{assert_active, at, window};

#[test]
fn overnight_window_spans_midnight() {
    let w = window("0 22 * * *", "8h", None);
    assert_active(
        &w,
        &[
            ("2026-11-23T21:59:59Z", false),
            ("2026-11-23T22:00:00Z", true),
            ("2026-11-23T23:59:59Z", true),
            ("2026-11-24T00:00:00Z", true),
            ("2026-11-24T05:59:59Z", true),
            ("2026-11-24T06:00:00Z", false),
            ("2026-11-24T12:00:00Z", false),
        ],
    );
}

#[test]
fn weekday_only_schedule() {
    // Mondays to Fridays at 22:30 for 2h; 2026-11-23 is a Monday, 2026-11-28 a Saturday.
    let w = window("30 22 * * 1-5", "2h", None);
    assert_active(
        &w,
        &[
            ("2026-11-23T22:29:59Z", false),
            ("2026-11-23T22:30:00Z", true), // Monday
            ("2026-11-24T00:29:59Z", true), // Monday's window, after midnight
            ("2026-11-24T00:30:00Z", false),
            ("2026-11-27T22:30:00Z", true),  // Friday
            ("2026-11-28T00:15:00Z", true),  // Friday's window spills into Saturday
            ("2026-11-28T00:30:00Z", false), // ... and ends
            ("2026-11-28T22:30:00Z", false), // Saturday
            ("2026-11-29T22:30:00Z", false), // Sunday
            ("2026-11-30T23:00:00Z", true),  // Monday again
        ],
    );
    assert_eq!(
        w.next_start(at("2026-11-27T23:00:00Z")),
        Some(at("2026-11-30T22:30:00Z"))
    );
}

#[test]
fn day_of_week_spellings() {
    // 2026-11-29 is a Sunday: 0, 7 and sun all mean Sunday; names are case-insensitive.
    for schedule in [
        "0 12 * * 0",
        "0 12 * * 7",
        "0 12 * * sun",
        "0 12 * * SUN",
        "0 12 * * 6-7",
    ] {
        let w = window(schedule, "1h", None);
        assert!(w.is_active(at("2026-11-29T12:30:00Z")), "{schedule}");
        assert!(
            !w.is_active(at("2026-11-23T12:30:00Z")),
            "{schedule} on Monday"
        );
    }
    let w = window("0 12 * * Mon-Fri", "1h", None);
    assert!(w.is_active(at("2026-11-23T12:30:00Z")));
    assert!(!w.is_active(at("2026-11-29T12:30:00Z")));
    let w = window("0 12 * * mon,wed,fri", "1h", None);
    assert!(w.is_active(at("2026-11-25T12:30:00Z"))); // Wednesday
    assert!(!w.is_active(at("2026-11-24T12:30:00Z"))); // Tuesday
    let w = window("0 12 * * */2", "1h", None); // Sun, Tue, Thu, Sat
    assert!(w.is_active(at("2026-11-24T12:30:00Z")));
    assert!(!w.is_active(at("2026-11-23T12:30:00Z")));
}

#[test]
fn day_of_month_or_day_of_week_when_both_are_restricted() {
    // Cron's rule: the 13th of the month, and every Friday.
    let w = window("0 12 13 * 5", "1h", None);
    assert_active(
        &w,
        &[
            ("2026-11-13T12:30:00Z", true), // Friday the 13th
            ("2026-11-20T12:30:00Z", true), // a Friday
            ("2026-10-13T12:30:00Z", true), // a Tuesday, the 13th
            ("2026-11-19T12:30:00Z", false),
        ],
    );
    // With a `*`-led day field the two are ANDed: odd days that are Fridays.
    let w = window("0 12 */2 * 5", "1h", None);
    assert!(w.is_active(at("2026-11-13T12:30:00Z"))); // Friday, odd
    assert!(!w.is_active(at("2026-11-20T12:30:00Z"))); // Friday, even
    assert!(!w.is_active(at("2026-11-15T12:30:00Z"))); // Sunday, odd
}

#[test]
fn steps_lists_ranges_and_months() {
    let w = window("*/15 * * * *", "5m", None);
    assert_active(
        &w,
        &[
            ("2026-11-23T10:14:59Z", false),
            ("2026-11-23T10:15:00Z", true),
            ("2026-11-23T10:19:59Z", true),
            ("2026-11-23T10:20:00Z", false),
            ("2026-11-23T10:45:00Z", true),
        ],
    );
    let w = window("0 9-17/4 * * *", "30m", None); // 09, 13, 17
    assert!(w.is_active(at("2026-11-23T13:10:00Z")));
    assert!(w.is_active(at("2026-11-23T17:10:00Z")));
    assert!(!w.is_active(at("2026-11-23T11:10:00Z")));
    let w = window("0 0 1 jan,jul *", "1d", None);
    assert!(w.is_active(at("2026-07-01T10:00:00Z")));
    assert!(!w.is_active(at("2026-06-01T10:00:00Z")));
    let w = window("5/20 * * * *", "1m", None); // minutes 5, 25, 45
    assert!(w.is_active(at("2026-11-23T10:25:30Z")));
    assert!(!w.is_active(at("2026-11-23T10:15:30Z")));
}

#[test]
fn macros() {
    let w = window("@daily", "1h", None);
    assert!(w.is_active(at("2026-11-23T00:30:00Z")));
    assert!(!w.is_active(at("2026-11-23T01:30:00Z")));
    let w = window("@weekly", "1h", None); // Sunday midnight
    assert!(w.is_active(at("2026-11-29T00:30:00Z")));
    assert!(!w.is_active(at("2026-11-28T00:30:00Z")));
    assert!(window("@hourly", "1m", None).is_active(at("2026-11-23T07:00:30Z")));
}

#[test]
fn dense_schedules_and_long_durations_stay_cheap() {
    let w = window("* * * * *", "30d", None);
    assert!(w.is_active(at("2026-11-23T10:00:30Z")));
    let w = window("* * * * *", "1s", None);
    assert!(w.is_active(at("2026-11-23T10:00:00.5Z")));
    assert!(!w.is_active(at("2026-11-23T10:00:01Z")));
    // Sparse: Feb 29 only, in leap years.
    let w = window("0 0 29 2 *", "1d", None);
    assert!(w.is_active(at("2028-02-29T12:00:00Z")));
    assert!(!w.is_active(at("2027-03-01T12:00:00Z")));
    assert_eq!(
        w.next_start(at("2026-11-23T00:00:00Z")),
        Some(at("2028-02-29T00:00:00Z"))
    );
    // A long window started long ago still covers now.
    let w = window("0 0 1 1 *", "300d", None);
    assert!(w.is_active(at("2026-10-01T00:00:00Z")));
    assert!(!w.is_active(at("2026-12-01T00:00:00Z")));
}
