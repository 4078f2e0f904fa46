use super::*;
use std::collections::HashMap;

fn who(sig: &git2::Signature<'_>) -> String {
    format!(
        "{} <{}>",
        sig.name().unwrap_or(""),
        sig.email().unwrap_or("")
    )
}

#[test]
fn revert_identity_follows_git_env_then_repo_then_ferry() {
    let vars: HashMap<&str, &str> = HashMap::from([
        ("GIT_AUTHOR_NAME", "Release Bot"),
        ("GIT_AUTHOR_EMAIL", "bot@example.com"),
    ]);
    let env = |name: &str| vars.get(name).map(std::string::ToString::to_string);
    let repo = git2::Signature::now("Dev", "dev@example.com").ok();
    let (author, committer) = revert_identity(&env, repo.clone()).unwrap();
    assert_eq!(who(&author), "Release Bot <bot@example.com>");
    assert_eq!(who(&committer), "Release Bot <bot@example.com>");

    let half = |name: &str| (name == "GIT_AUTHOR_NAME").then(|| "Only Name".to_string());
    let (author, _) = revert_identity(&half, repo).unwrap();
    assert_eq!(
        who(&author),
        "Dev <dev@example.com>",
        "both variables are needed"
    );

    let (author, _) = revert_identity(&|_| None, None).unwrap();
    assert_eq!(who(&author), "ferry <ferry@localhost>");
}
