use super::shas_match;

#[test]
fn sha_prefixes_match_either_way() {
    assert!(shas_match("0123456789abcdef", "0123"));
    assert!(shas_match("0123456789abcdef", "0123456789ABCDEF"));
    assert!(shas_match("0123456", "0123456789abcdef"));
    assert!(!shas_match("0123456789abcdef", "012"));
    assert!(!shas_match("0123456789abcdef", "1234"));
}
