//! Tests of YAML document parsing.

use super::*;
use serde_json::json;

fn parse(text: &str) -> Result<Value, DocError> {
    parse_document(text, 1, budget_for(text.len(), 16))
}

#[test]
fn plain_values() {
    let v =
        parse("a: 1\nb: [x, true, null, 1.5, -3, 1e3, 2.0]\nc: {d: \"0644\"}\n1: one\n").unwrap();
    assert_eq!(
        v,
        json!({"a": 1, "b": ["x", true, null, 1.5, -3, 1000, 2], "c": {"d": "0644"}, "1": "one"})
    );
    assert_eq!(v["b"][5].to_string(), "1000");
}

#[test]
fn yaml_1_2_scalars() {
    // serde_yaml follows YAML 1.2: `yes` and `0644` are strings, unlike kubectl's YAML 1.1.
    let v = parse("a: yes\nb: 0644\nc: 0o644\n").unwrap();
    assert_eq!(v, json!({"a": "yes", "b": "0644", "c": 420}));
}

#[test]
fn anchors_and_merge_keys() {
    let text =
        "base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\nmany:\n  <<: [{p: 1}, {p: 2, q: 2}]\n";
    let v = parse(text).unwrap();
    assert_eq!(v["use"], json!({"x": 1, "y": 3}));
    assert_eq!(v["many"], json!({"p": 1, "q": 2}));
    let err = parse("a:\n  <<: 5\n").unwrap_err();
    assert!(err.message.contains("merge key"), "{err:?}");
}

#[test]
fn duplicate_keys_are_refused_at_their_line() {
    let err = parse_document("a: 1\nb:\n  c: 1\n  c: 2\n", 10, MIN_BUDGET).unwrap_err();
    assert_eq!(err.line, Some(13), "{err:?}");
    assert!(err.message.contains("duplicate key `c`"), "{err:?}");
}

#[test]
fn syntax_error_lines_are_file_lines() {
    // Line 3 of the document, which starts at file line 7, is file line 9.
    let err = parse_document("---\na: 1\n b: 2\n", 7, MIN_BUDGET).unwrap_err();
    assert_eq!(err.line, Some(9), "{err:?}");
    assert!(!err.message.contains("line 3"), "{err:?}");
}

#[test]
fn tags_and_non_json_values() {
    assert!(parse("a: !Ref x\n").unwrap_err().message.contains("!Ref"));
    assert!(parse("a: .nan\n").is_err());
    assert!(parse("a: 99999999999999999999999\n").is_err());
    assert_eq!(parse("a: !!str 12\n").unwrap(), json!({"a": "12"}));
}

#[test]
fn billion_laughs_fails_fast() {
    let mut text = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (prev, name) in "abcdefgh".chars().zip("bcdefghi".chars()) {
        let refs = vec![format!("*{prev}"); 9].join(",");
        text.push_str(&format!("{name}: &{name} [{refs}]\n"));
    }
    let started = std::time::Instant::now();
    let err = parse(&text).unwrap_err();
    assert!(err.message.contains("billion laughs"), "{err:?}");
    // Not a timing assertion on speed, only a guard against a hang.
    assert!(started.elapsed().as_secs() < 30);
}

#[test]
fn quadratic_alias_growth_hits_the_budget() {
    // One large anchor repeated many times: few alias jumps, so serde_yaml's repetition
    // limit does not fire, but the expansion is huge.
    let big = "x".repeat(100_000);
    let mut text = format!("a: &a \"{big}\"\nb: [");
    text.push_str(&vec!["*a"; 2000].join(","));
    text.push_str("]\n");
    let err = parse(&text).unwrap_err();
    assert!(err.message.contains("billion laughs"), "{err:?}");
    assert!(err.message.contains("aliases are expanded"), "{err:?}");
    // Modest reuse of anchors is fine.
    assert!(parse("a: &a {x: 1}\nb: *a\nc: *a\n").is_ok());
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let text = format!("a: {}{}\n", "[".repeat(500), "]".repeat(500));
    let err = parse(&text).unwrap_err();
    assert!(err.message.contains("nested too deeply"), "{err:?}");
}

#[test]
fn shift_lines_rewrites_every_line_number() {
    assert_eq!(
        shift_lines("x at line 3 column 1, while parsing at line 1 column 2", 6),
        "x at line 9 column 1, while parsing at line 7 column 2"
    );
    assert_eq!(shift_lines("the line is fine", 6), "the line is fine");
}

#[test]
fn an_error_at_the_end_of_input_stays_inside_the_file() {
    // The YAML reader places it one line past the last (on a line of its own, or past a
    // missing final newline); ferry reports the document's last line.
    for (text, first, want) in [
        ("a: 1\nb: [x\n", 1, 2),
        ("a: 1\nb: [x", 1, 2),
        ("a: 1\nb: \"open\n\n\n", 4, 5),
        ("a: 1\r\nb: {x\r\n", 10, 11),
    ] {
        let err = parse_document(text, first, budget_for(text.len(), 16)).unwrap_err();
        assert_eq!(err.line, Some(want), "{text:?}: {err:?}");
        assert!(
            err.message.contains("at the end of the document"),
            "{err:?}"
        );
    }
    // An error inside the document keeps its line and column.
    let err = parse("a: 1\n\tb: 2\nc: 3\n").unwrap_err();
    assert_eq!(err.line, Some(2), "{err:?}");
    assert!(err.message.contains("at column"), "{err:?}");
}

#[test]
fn an_unclosed_quote_is_reported_where_it_opens() {
    let text = "a: 1\nb: \"open\nc: 2\nd: 3\n";
    let err = parse_document(text, 7, budget_for(text.len(), 16)).unwrap_err();
    assert_eq!(err.line, Some(8), "{err:?}");
    assert!(err.message.contains("quoted scalar at line 8"), "{err:?}");
}

#[test]
fn tabs_and_control_characters_get_their_line_and_a_reason() {
    let err = parse("a:\n  b: 1\n\tc: 2\n").unwrap_err();
    assert_eq!(err.line, Some(3), "{err:?}");
    assert!(err.message.contains("indented with a tab"), "{err:?}");
    let err = parse("a: 1\r\nb:\r\n\t- x\r\n").unwrap_err();
    assert_eq!(err.line, Some(3), "{err:?}");
    assert!(err.message.contains("indented with a tab"), "{err:?}");
    // The reader gives only a byte position for these.
    let err = parse_document("a: 1\nb: 2\nc: x\u{1}y\n", 4, 1 << 20).unwrap_err();
    assert_eq!(err.line, Some(6), "{err:?}");
    assert!(err.message.contains("control characters"), "{err:?}");
    assert!(!err.message.contains("position"), "{err:?}");
    // The position counts bytes.
    let err = parse("é: üüüüüü\nb: x\u{1}\n").unwrap_err();
    assert_eq!(err.line, Some(2), "{err:?}");
}
