use super::*;

/// An instant from RFC 3339 text.
pub(super) fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("bad test instant {text}: {e}"))
        .with_timezone(&Utc)
}

pub(super) fn cfg(
    kind: WindowKind,
    schedule: &str,
    duration: &str,
    tz: Option<&str>,
) -> SyncWindowConfig {
    SyncWindowConfig {
        kind,
        schedule: schedule.to_string(),
        duration: duration.to_string(),
        time_zone: tz.map(str::to_string),
    }
}

pub(super) fn window(schedule: &str, duration: &str, tz: Option<&str>) -> SyncWindow {
    SyncWindow::compile(&cfg(WindowKind::Allow, schedule, duration, tz))
        .unwrap_or_else(|e| panic!("{schedule} / {duration} / {tz:?}: {e}"))
}

pub(super) fn compile_error(schedule: &str, duration: &str, tz: Option<&str>) -> String {
    match SyncWindow::compile(&cfg(WindowKind::Allow, schedule, duration, tz)) {
        Ok(_) => panic!("{schedule} / {duration} / {tz:?} compiled"),
        Err(e) => e.to_string(),
    }
}

/// Asserts `is_active` at each (instant, expected) pair.
pub(super) fn assert_active(w: &SyncWindow, cases: &[(&str, bool)]) {
    for (instant, want) in cases {
        assert_eq!(w.is_active(at(instant)), *want, "{w} at {instant}");
    }
}

#[test]
fn allow_window_start_is_inclusive_and_end_exclusive() {
    let w = window("0 9 * * *", "8h", None);
    assert_active(
        &w,
        &[
            ("2026-11-23T08:59:59Z", false),
            ("2026-11-23T08:59:59.999Z", false),
            ("2026-11-23T09:00:00Z", true),
            ("2026-11-23T09:00:00.001Z", true),
            ("2026-11-23T12:00:00Z", true),
            ("2026-11-23T16:59:59Z", true),
            ("2026-11-23T16:59:59.999Z", true),
            ("2026-11-23T17:00:00Z", false),
            ("2026-11-23T23:00:00Z", false),
            ("2026-11-24T03:00:00Z", false),
        ],
    );
}

#[test]
fn allow_windows_check_says_when_the_next_one_opens() {
    let windows = SyncWindows::compile(&[cfg(WindowKind::Allow, "0 6 * * *", "2h", None)]).unwrap();
    assert!(!windows.is_empty());
    assert_eq!(windows.check(at("2026-11-24T07:00:00Z")), Ok(()));
    assert_eq!(
        windows.check(at("2026-11-23T22:00:00Z")),
        Err("outside every allow window; next opens at 2026-11-24T06:00:00Z".to_string())
    );
    // Right at the close, the next opening is tomorrow's.
    assert_eq!(
        windows.check(at("2026-11-24T08:00:00Z")),
        Err("outside every allow window; next opens at 2026-11-25T06:00:00Z".to_string())
    );
}

#[test]
fn next_opening_is_the_earliest_over_all_allow_windows() {
    let windows = SyncWindows::compile(&[
        cfg(WindowKind::Allow, "0 18 * * *", "1h", None),
        cfg(WindowKind::Allow, "0 6 * * *", "1h", Some("Europe/Berlin")),
        cfg(WindowKind::Allow, "0 12 * * *", "1h", None),
    ])
    .unwrap();
    // 06:00 Berlin is 05:00 UTC in November.
    assert_eq!(
        windows.check(at("2026-11-23T20:00:00Z")),
        Err("outside every allow window; next opens at 2026-11-24T05:00:00Z".to_string())
    );
    assert_eq!(
        windows.check(at("2026-11-24T07:00:00Z")),
        Err("outside every allow window; next opens at 2026-11-24T12:00:00Z".to_string())
    );
    assert_eq!(windows.check(at("2026-11-24T05:30:00Z")), Ok(()));
    assert_eq!(windows.check(at("2026-11-24T18:59:59Z")), Ok(()));
}

#[test]
fn deny_overrides_allow() {
    let windows = SyncWindows::compile(&[
        cfg(WindowKind::Allow, "0 0 * * *", "24h", None),
        cfg(WindowKind::Deny, "0 22 * * *", "8h", Some("Europe/Berlin")),
    ])
    .unwrap();
    // 22:00 Berlin is 21:00 UTC in winter; the deny lasts until 06:00 Berlin, 05:00 UTC.
    assert_eq!(windows.check(at("2026-11-23T12:00:00Z")), Ok(()));
    assert_eq!(windows.check(at("2026-11-23T20:59:59Z")), Ok(()));
    let denied = "inside deny window '0 22 * * *' for 8h (Europe/Berlin)".to_string();
    assert_eq!(
        windows.check(at("2026-11-23T21:00:00Z")),
        Err(denied.clone())
    );
    assert_eq!(windows.check(at("2026-11-24T04:59:59Z")), Err(denied));
    assert_eq!(windows.check(at("2026-11-24T05:00:00Z")), Ok(()));
}

#[test]
fn deny_is_reported_before_a_closed_allow_window() {
    let windows = SyncWindows::compile(&[
        cfg(WindowKind::Allow, "0 9 * * *", "1h", None),
        cfg(WindowKind::Deny, "0 22 * * *", "1h", None),
    ])
    .unwrap();
    assert_eq!(
        windows.check(at("2026-11-23T22:30:00Z")),
        Err("inside deny window '0 22 * * *' for 1h (UTC)".to_string())
    );
    assert_eq!(
        windows.check(at("2026-11-23T23:30:00Z")),
        Err("outside every allow window; next opens at 2026-11-24T09:00:00Z".to_string())
    );
}

#[test]
fn deny_only_windows_allow_everything_else() {
    let windows = SyncWindows::compile(&[cfg(WindowKind::Deny, "0 22 * * *", "8h", None)]).unwrap();
    assert_eq!(windows.check(at("2026-11-23T12:00:00Z")), Ok(()));
    assert!(windows.check(at("2026-11-23T23:00:00Z")).is_err());
}

#[test]
fn empty_windows_always_allow() {
    let windows = SyncWindows::compile(&[]).unwrap();
    assert!(windows.is_empty());
    assert!(windows.windows().is_empty());
    for instant in [
        "2026-01-01T00:00:00Z",
        "2026-06-15T12:34:56Z",
        "2026-11-23T23:59:59Z",
    ] {
        assert_eq!(windows.check(at(instant)), Ok(()));
    }
    assert!(SyncWindows::default().is_empty());
}

#[test]
fn durations() {
    let cases: &[(&str, i64)] = &[
        ("90s", 90),
        ("30m", 1_800),
        ("2h", 7_200),
        ("1h30m", 5_400),
        ("1d", 86_400),
        ("1d2h3m4s", 93_784),
        ("90m", 5_400),
        ("366d", 366 * 86_400),
        ("1.5h", 5_400),
    ];
    for (text, seconds) in cases {
        assert_eq!(
            parse_duration(text),
            Ok(TimeDelta::seconds(*seconds)),
            "{text}"
        );
    }
    // Surrounding blanks in the config are ignored, and the text is kept for messages.
    let w = window("0 9 * * *", " 1h30m ", None);
    assert_eq!(w.duration(), TimeDelta::minutes(90));
    assert_eq!(w.to_string(), "allow window '0 9 * * *' for 1h30m (UTC)");
}

#[test]
fn bad_durations_are_explained() {
    let cases: &[(&str, &str)] = &[
        ("", "empty"),
        ("30", "'30' has no unit"),
        ("2x", "unknown unit 'x'"),
        ("5w", "unknown unit 'w'"),
        ("2 h", "unexpected ' '"),
        ("-1h", "cannot be negative"),
        ("0m", "more than zero"),
        ("0h0m", "more than zero"),
        ("367d", "366-day maximum"),
        ("99999999999999999999s", "too large"),
        ("h", "unexpected 'h'"),
    ];
    for (text, want) in cases {
        let err = compile_error("0 9 * * *", text, None);
        assert!(
            err.starts_with(&format!("bad duration '{text}': ")),
            "{text}: {err}"
        );
        assert!(err.contains(want), "{text}: {err} should contain {want}");
    }
}

#[test]
fn bad_cron_expressions_say_which_and_why() {
    let cases: &[(&str, &str)] = &[
        ("61 * * * *", "minute field '61': 61 is out of range 0-59"),
        ("0 24 * * *", "hour field '24': 24 is out of range 0-23"),
        (
            "0 0 0 * *",
            "day-of-month field '0': 0 is out of range 1-31",
        ),
        ("0 0 * 13 *", "month field '13': 13 is out of range 1-12"),
        ("0 0 * * 8", "day-of-week field '8': 8 is out of range 0-7"),
        (
            "0 0 * * funday",
            "'funday' is not a number 0-7 or one of sun,mon",
        ),
        (
            "0 0 * foo *",
            "'foo' is not a number 1-12 or one of jan,feb",
        ),
        ("x * * * *", "minute field 'x': 'x' is not a number 0-59"),
        (
            "* * * *",
            "expected 5 fields (minute hour day-of-month month day-of-week), found 4",
        ),
        (
            "0 0 9 * * *",
            "found 6 (seconds and years are not supported)",
        ),
        ("", "found 0"),
        ("*/0 * * * *", "step '0' is not a positive number"),
        ("*/x * * * *", "step 'x' is not a positive number"),
        ("0 17-9 * * *", "range 17-9 runs backwards"),
        ("0 1,,2 * * *", "empty list item"),
        ("0 0 L * *", "'L' is not a number 1-31"),
        ("0 0 * * 5#3", "day-of-week field '5#3'"),
        ("? * * * *", "minute field '?'"),
        ("0 0 31 4 *", "never matches a date"),
        ("0 0 30 2 *", "never matches a date"),
        ("@reboot", "@reboot is not a time"),
        ("@fortnightly", "unknown macro '@fortnightly'"),
    ];
    for (expression, want) in cases {
        let err = compile_error(expression, "1h", None);
        assert!(
            err.starts_with(&format!("bad cron expression '{expression}': ")),
            "{expression}: {err}"
        );
        assert!(
            err.contains(want),
            "{expression}: {err} should contain {want}"
        );
    }
}

#[test]
fn the_first_bad_window_fails_the_set() {
    let err = SyncWindows::compile(&[
        cfg(WindowKind::Allow, "0 9 * * *", "1h", None),
        cfg(WindowKind::Deny, "0 9 * * *", "forever", None),
    ])
    .unwrap_err();
    assert!(matches!(err, WindowError::Duration { .. }), "{err}");
}

#[test]
fn config_reads_from_yaml() {
    let yaml = "\
- kind: allow
  schedule: '0 9 * * 1-5'
  duration: 8h
  timeZone: Europe/Berlin
- kind: deny
  schedule: '0 22 * * *'
  duration: 30m
";
    let cfgs: Vec<SyncWindowConfig> = serde_yaml::from_str(yaml).unwrap();
    assert_eq!(
        cfgs,
        vec![
            cfg(
                WindowKind::Allow,
                "0 9 * * 1-5",
                "8h",
                Some("Europe/Berlin")
            ),
            cfg(WindowKind::Deny, "0 22 * * *", "30m", None),
        ]
    );
    let windows = SyncWindows::compile(&cfgs).unwrap();
    assert_eq!(windows.windows().len(), 2);
    assert_eq!(windows.windows()[0].kind(), WindowKind::Allow);
    assert_eq!(windows.windows()[1].schedule(), "0 22 * * *");

    let json = serde_json::to_value(&cfgs[1]).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"kind": "deny", "schedule": "0 22 * * *", "duration": "30m"})
    );
    let json = serde_json::to_value(&cfgs[0]).unwrap();
    assert_eq!(json["timeZone"], "Europe/Berlin");

    let unknown_field = "kind: allow\nschedule: '0 9 * * *'\nduration: 1h\ntz: UTC\n";
    let err = serde_yaml::from_str::<SyncWindowConfig>(unknown_field).unwrap_err();
    assert!(err.to_string().contains("unknown field `tz`"), "{err}");
    let bad_kind = "kind: maybe\nschedule: '0 9 * * *'\nduration: 1h\n";
    let err = serde_yaml::from_str::<SyncWindowConfig>(bad_kind).unwrap_err();
    assert!(err.to_string().contains("unknown variant `maybe`"), "{err}");
}
