use super::*;
use serde_json::json;

fn q(s: &str) -> Quantity {
    match parse(s) {
        Some(q) => q,
        None => panic!("{s} should parse"),
    }
}

#[test]
fn equal_quantities() {
    let table = [
        ("0.5", "500m"),
        ("1000M", "1G"),
        ("1Gi", "1073741824"),
        ("1e3", "1k"),
        ("1E3", "1k"),
        ("100m", "0.1"),
        ("1Ki", "1024"),
        ("1.5Gi", "1536Mi"),
        ("0", "0m"),
        ("-0", "0Gi"),
        ("+2", "2"),
        ("1n", "0.000000001"),
        ("1000u", "1m"),
        ("1E", "1000P"),
        ("1e-3", "1m"),
        ("12.", "12"),
        (".5", "500m"),
        ("10000000000000000000000000000000000000000000", "1e43"),
    ];
    for (a, b) in table {
        assert_eq!(q(a), q(b), "{a} == {b}");
    }
}

#[test]
fn unequal_quantities() {
    let table = [
        ("1Gi", "1G"),
        ("1", "1m"),
        ("-1", "1"),
        ("100m", "0.11"),
        ("1Mi", "1M"),
        ("0.3", "300.000001m"),
    ];
    for (a, b) in table {
        assert_ne!(q(a), q(b), "{a} != {b}");
    }
}

#[test]
fn invalid_strings() {
    for s in [
        "", "abc", "1x", "1 Gi", "Gi", "1e", "1.2.3", "--1", "1KiB", "e3", ".", "1ki",
    ] {
        assert!(parse(s).is_none(), "{s:?} should not parse");
    }
}

#[test]
fn json_numbers_and_strings() {
    assert_eq!(Quantity::from_value(&json!(0.5)), parse("500m"));
    assert_eq!(Quantity::from_value(&json!(2)), parse("2000m"));
    assert_eq!(Quantity::from_value(&json!(true)), None);
    assert_eq!(values_equal(&json!(0.25), &json!("250m")), Some(true));
    assert_eq!(values_equal(&json!("x"), &json!("250m")), None);
    assert!((q("1.5Gi").to_f64() - 1610612736.0).abs() < 1e-3);
    assert!((q("-250m").to_f64() + 0.25).abs() < 1e-12);
}
