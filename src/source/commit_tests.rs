use super::*;

#[test]
fn finds_reverted_sha_in_git_revert_message() {
    let msg = "Revert \"bump\"\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567.\n";
    assert_eq!(
        reverted_sha(msg).as_deref(),
        Some("0123456789abcdef0123456789abcdef01234567")
    );
    assert_eq!(reverted_sha("bump nginx"), None);
    assert_eq!(reverted_sha("This reverts commit xyz"), None);
}

#[test]
fn a_range_revert_names_every_commit() {
    let msg = "Revert to 1234567: undo 2 commits\n\nThis reverts commit aaaaaaa1.\nThis reverts commit bbbbbbb2.\n";
    assert_eq!(reverted_shas(msg), vec!["aaaaaaa1", "bbbbbbb2"]);
    assert!(same_commit("aaaaaaa", "aaaaaaa1"));
    assert!(!same_commit("aaaaaa", "aaaaaa1"), "too short to be a sha");
    assert!(!same_commit("aaaaaaa2", "aaaaaaa1"));
}

#[test]
fn short_sha_is_seven_digits_or_all_of_a_shorter_one() {
    assert_eq!(short_sha("0123456789abcdef"), "0123456");
    assert_eq!(short_sha("0123"), "0123");
    assert_eq!(short_sha(""), "");
    // Never panics on a multi-byte character at the cut (a hand-written `[..7]` would).
    assert_eq!(short_sha("012345é"), "012345é");
}
