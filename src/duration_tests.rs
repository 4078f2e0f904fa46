use super::*;

#[test]
fn parses_like_go_plus_days() {
    let cases: &[(&str, u64)] = &[
        ("90s", 90_000),
        ("5m", 300_000),
        ("1h30m", 5_400_000),
        ("1.5h", 5_400_000),
        ("500ms", 500),
        ("1d2h3m4s", 93_784_000),
        (" 2h ", 7_200_000),
        ("0s", 0),
    ];
    for (text, millis) in cases {
        assert_eq!(
            parse_duration(text),
            Ok(Duration::from_millis(*millis)),
            "{text}"
        );
    }
}

#[test]
fn bad_durations_say_why() {
    let cases: &[(&str, &str)] = &[
        ("", "empty"),
        ("30", "'30' has no unit"),
        ("2w", "unknown unit 'w'"),
        ("2 h", "unexpected ' '"),
        ("-1h", "cannot be negative"),
        ("h", "unexpected 'h'"),
        ("1.2.3s", "unexpected '.'"),
        ("99999999999999999999s", "too large"),
    ];
    for (text, want) in cases {
        let err = parse_duration(text).unwrap_err().to_string();
        assert!(err.contains(want), "{text}: {err} should contain {want}");
    }
}
