//! Sync windows across time zones and DST changes, and a brute-force cross-check.

use super::tests::*;
use super::*;

#[test]
fn time_zone_shifts_the_window_with_dst() {
    let w = window("0 9 * * *", "1h", Some("Europe/Berlin"));
    assert_eq!(w.time_zone(), chrono_tz::Europe::Berlin);
    // Winter (CET, UTC+1): 09:00 Berlin is 08:00 UTC.
    assert_active(
        &w,
        &[
            ("2026-01-15T07:59:59Z", false),
            ("2026-01-15T08:00:00Z", true),
            ("2026-01-15T08:59:59Z", true),
            ("2026-01-15T09:00:00Z", false),
        ],
    );
    // Summer (CEST, UTC+2): 09:00 Berlin is 07:00 UTC.
    assert_active(
        &w,
        &[
            ("2026-07-15T06:59:59Z", false),
            ("2026-07-15T07:00:00Z", true),
            ("2026-07-15T07:59:59Z", true),
            ("2026-07-15T08:00:00Z", false),
        ],
    );
    // The day after the spring change is already on summer time.
    assert!(w.is_active(at("2026-03-30T07:30:00Z")));
    assert!(!w.is_active(at("2026-03-30T08:30:00Z")));
    assert_eq!(
        w.next_start(at("2026-01-15T12:00:00Z")),
        Some(at("2026-01-16T08:00:00Z"))
    );
    // A zone far from UTC, where the local date differs: 09:00 in Tokyo is 00:00 UTC.
    let w = window("0 9 * * 1", "1h", Some("Asia/Tokyo")); // Mondays in Tokyo
    assert!(w.is_active(at("2026-11-23T00:30:00Z")));
    assert!(!w.is_active(at("2026-11-24T00:30:00Z")));
}

#[test]
fn window_spanning_a_dst_change_lasts_its_real_duration() {
    // 2026-03-29: Berlin clocks go from 02:00 CET to 03:00 CEST at 01:00 UTC.
    let w = window("0 0 * * *", "4h", Some("Europe/Berlin"));
    // Midnight CET is 23:00 UTC the day before; four real hours later is 03:00 UTC.
    assert!(w.is_active(at("2026-03-28T23:00:00Z")));
    assert!(w.is_active(at("2026-03-29T02:59:59Z")));
    assert!(!w.is_active(at("2026-03-29T03:00:00Z")));
}

#[test]
fn a_start_the_clock_skips_opens_when_the_clock_jumps() {
    // 02:30 does not exist in Berlin on 2026-03-29: the clock jumps to 03:00 CEST (01:00 UTC).
    let w = window("30 2 * * *", "1h", Some("Europe/Berlin"));
    assert_active(
        &w,
        &[
            ("2026-03-29T00:59:59Z", false),
            ("2026-03-29T01:00:00Z", true),
            ("2026-03-29T01:59:59Z", true),
            ("2026-03-29T02:00:00Z", false),
            // The day before (CET) and after (CEST) are ordinary.
            ("2026-03-28T01:30:00Z", true),
            ("2026-03-30T00:30:00Z", true),
        ],
    );
    assert_eq!(
        w.next_start(at("2026-03-28T12:00:00Z")),
        Some(at("2026-03-29T01:00:00Z"))
    );
}

#[test]
fn a_start_the_clock_repeats_opens_twice() {
    // 2026-10-25: Berlin clocks go back from 03:00 CEST to 02:00 CET at 01:00 UTC, so 02:30
    // happens at 00:30 UTC and again at 01:30 UTC.
    let w = window("30 2 * * *", "15m", Some("Europe/Berlin"));
    assert_active(
        &w,
        &[
            ("2026-10-25T00:29:59Z", false),
            ("2026-10-25T00:30:00Z", true),
            ("2026-10-25T00:45:00Z", false),
            ("2026-10-25T01:29:59Z", false),
            ("2026-10-25T01:30:00Z", true),
            ("2026-10-25T01:44:59Z", true),
            ("2026-10-25T01:45:00Z", false),
        ],
    );
    assert_eq!(
        w.next_start(at("2026-10-25T00:00:00Z")),
        Some(at("2026-10-25T00:30:00Z"))
    );
    assert_eq!(
        w.next_start(at("2026-10-25T00:40:00Z")),
        Some(at("2026-10-25T01:30:00Z"))
    );
    assert_eq!(
        w.next_start(at("2026-10-25T01:40:00Z")),
        Some(at("2026-10-26T01:30:00Z"))
    );
    // Every quarter hour during the repeated hour: both passes are covered.
    let w = window("*/15 2 * * *", "15m", Some("Europe/Berlin"));
    for instant in [
        "2026-10-25T00:10:00Z",
        "2026-10-25T00:50:00Z",
        "2026-10-25T01:10:00Z",
        "2026-10-25T01:50:00Z",
    ] {
        assert!(w.is_active(at(instant)), "{instant}");
    }
    assert!(!w.is_active(at("2026-10-25T02:10:00Z")));
    assert_eq!(
        w.next_start(at("2026-10-25T00:40:00Z")),
        Some(at("2026-10-25T00:45:00Z"))
    );
}

#[test]
fn unknown_time_zones_are_rejected() {
    for zone in ["Mars/Olympus_Mons", "", "europe/berlin", "CEST"] {
        let err = compile_error("0 9 * * *", "1h", Some(zone));
        assert_eq!(
            err,
            format!(
                "unknown time zone '{zone}': expected an IANA name such as 'Europe/Berlin' or \
                 'UTC'"
            )
        );
    }
    for zone in ["UTC", "Etc/UTC", "America/New_York", " Europe/Berlin "] {
        window("0 9 * * *", "1h", Some(zone));
    }
}

/// Cross-checks `is_active` and `next_start` against a scan of every minute: a window is open
/// at `now` when some minute in `(now - duration, now]` reads, in the window's zone, a time the
/// schedule matches. (Readings the clock skips never appear in such a scan, so the schedules
/// below avoid the spring-forward hour.)
#[test]
fn agrees_with_a_minute_by_minute_scan() {
    use chrono::{Datelike, Weekday};
    type Matches = fn(&NaiveDateTime) -> bool;
    let cases: &[(&str, &str, &str, Matches)] = &[
        ("30 22 * * 1-5", "2h", "Europe/Berlin", |t| {
            t.minute() == 30 && t.hour() == 22 && t.weekday().number_from_monday() <= 5
        }),
        ("0 */6 * * *", "90m", "Europe/Berlin", |t| {
            t.minute() == 0 && t.hour() % 6 == 0
        }),
        ("15 9-17 * * sat,sun", "20m", "America/New_York", |t| {
            t.minute() == 15
                && (9..=17).contains(&t.hour())
                && matches!(t.weekday(), Weekday::Sat | Weekday::Sun)
        }),
        ("0 12 13 * 5", "1h", "UTC", |t| {
            t.minute() == 0 && t.hour() == 12 && (t.day() == 13 || t.weekday() == Weekday::Fri)
        }),
        // The repeated hour of the autumn change in Berlin (samples below avoid March).
        ("*/10 2 * * *", "5m", "Europe/Berlin", |t| {
            t.minute() % 10 == 0 && t.hour() == 2
        }),
    ];
    let periods = [
        (at("2026-10-20T00:00:00Z"), at("2026-11-04T00:00:00Z")),
        (at("2026-03-25T00:00:00Z"), at("2026-04-02T00:00:00Z")),
    ];
    for (schedule, duration, zone, matches) in cases {
        let w = window(schedule, duration, Some(zone));
        let tz: Tz = zone.parse().unwrap();
        let reads_a_start = |t: DateTime<Utc>| matches(&t.with_timezone(&tz).naive_local());
        for (period, (from, to)) in periods.iter().enumerate() {
            if period == 1 && schedule.starts_with("*/10 2") {
                continue;
            }
            // Every minute reading a start, from a day before the period to 8 days after it.
            let mut starts = Vec::new();
            let mut minute = *from - TimeDelta::days(1);
            while minute < *to + TimeDelta::days(8) {
                if reads_a_start(minute) {
                    starts.push(minute);
                }
                minute += TimeDelta::minutes(1);
            }
            let mut now = *from;
            while now < *to {
                // The latest start at or before now, and the first one after it.
                let i = starts.partition_point(|s| *s <= now);
                let want = i > 0 && now < starts[i - 1] + w.duration();
                assert_eq!(w.is_active(now), want, "{w} at {now}");
                assert_eq!(w.next_start(now), starts.get(i).copied(), "{w} after {now}");
                now += TimeDelta::seconds(7 * 60 + 13);
            }
        }
    }
}
