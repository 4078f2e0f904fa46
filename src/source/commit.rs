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
            let sha: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
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
#[path = "commit_tests.rs"]
mod tests;
