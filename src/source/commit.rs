//! Commit metadata as ferry records and prints it.

use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;

/// What ferry knows about one commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommitInfo {
    /// Full hex sha.
    pub sha: String,
    /// Author name.
    pub author: String,
    /// Author email.
    pub email: String,
    /// Commit (committer) time.
    pub time: DateTime<Utc>,
    /// First line of the message.
    pub subject: String,
    /// The rest of the message, trimmed.
    pub body: String,
    /// The sha named by a `This reverts commit <sha>` line, when this commit is a revert.
    pub reverts: Option<String>,
}

/// The first 7 hex digits of a sha, as git prints them (all of it when shorter).
pub fn short_sha(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

impl CommitInfo {
    /// The first 7 hex digits, as git prints them.
    pub fn short_sha(&self) -> &str {
        short_sha(&self.sha)
    }

    /// Describes a libgit2 commit.
    pub(crate) fn from_commit(commit: &git2::Commit<'_>) -> CommitInfo {
        let message = String::from_utf8_lossy(commit.message_bytes()).to_string();
        let (subject, body) = match message.split_once('\n') {
            Some((s, b)) => (s.trim().to_string(), b.trim().to_string()),
            None => (message.trim().to_string(), String::new()),
        };
        let author = commit.author();
        let time = Utc
            .timestamp_opt(commit.time().seconds(), 0)
            .single()
            .unwrap_or_default();
        CommitInfo {
            sha: commit.id().to_string(),
            author: String::from_utf8_lossy(author.name_bytes()).to_string(),
            email: String::from_utf8_lossy(author.email_bytes()).to_string(),
            time,
            reverts: reverted_sha(&message),
            subject,
            body,
        }
    }
}

/// Finds the sha in git's standard revert message line `This reverts commit <sha>.`
pub fn reverted_sha(message: &str) -> Option<String> {
    reverted_shas(message).into_iter().next()
}

/// Every sha named by a `This reverts commit <sha>.` line, in message order (a revert of a
/// range, as `ferry rollback --to` writes it, names several).
pub fn reverted_shas(message: &str) -> Vec<String> {
    message
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("This reverts commit ")?;
            let sha: String = rest.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
            (sha.len() >= 7).then_some(sha)
        })
        .collect()
}

/// True when `a` and `b` name the same commit: equal, or one an abbreviation (7+ hex digits)
/// of the other, as `This reverts commit` lines may abbreviate.
pub fn same_commit(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short.len() >= 7 && long.starts_with(short)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_reverted_sha_in_git_revert_message() {
        let msg =
            "Revert \"bump\"\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567.\n";
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
}
