use super::*;

#[test]
fn reasons_read_as_before() {
    let cases = [
        (NotWanted::OtherRepository, "another repository"),
        (
            NotWanted::PinnedToCommit("abc1234".into()),
            "pinned to commit abc1234",
        ),
        (NotWanted::NotABranchPush, "not a branch push"),
        (
            NotWanted::OtherRef {
                pushed: "refs/heads/dev".into(),
                followed: "refs/heads/main".into(),
            },
            "push to refs/heads/dev, the app follows refs/heads/main",
        ),
        (
            NotWanted::OutsidePath("apps/web".into()),
            "no changed file under \"apps/web\"",
        ),
    ];
    for (reason, text) in cases {
        assert_eq!(reason.to_string(), text);
    }
}
