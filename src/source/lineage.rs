//! Where a commit stands on the tracked branch: whether the branch contains it, and which of
//! the branch's later commits revert it. Rollback uses this so it never reverts a commit the
//! branch does not have, and never reverts a revert by default.

use git2::Oid;

use super::commit::reverted_shas;
use super::{CommitInfo, GitSource, SourceError};

/// A commit the tracked branch has after some other commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaterCommit {
    /// Full hex sha.
    pub sha: String,
    /// The shas its `This reverts commit <sha>` lines name (empty when it is no revert).
    pub reverts: Vec<String>,
}

impl GitSource {
    /// Resolves `rev` (full or abbreviated sha, tag…) to a commit the tracked branch contains
    /// (its tip or an ancestor of it); [`SourceError::NotOnBranch`] otherwise.
    pub fn commit_on_branch(&self, rev: &str) -> Result<CommitInfo, SourceError> {
        let info = self.commit_info_by_rev(rev)?;
        let oid = Oid::from_str(&info.sha).map_err(SourceError::git("bad sha"))?;
        let tip = self.resolve()?;
        let contained = tip == oid
            || self
                .repository()
                .graph_descendant_of(tip, oid)
                .map_err(SourceError::git("walking history"))?;
        if !contained {
            return Err(SourceError::NotOnBranch {
                commit: info.sha,
                branch: self
                    .tracked_branch()
                    .unwrap_or_else(|_| self.reference().to_string()),
                tip: tip.to_string(),
            });
        }
        Ok(info)
    }

    /// The commits the tracked branch has after `sha` (reachable from its tip but not from
    /// `sha`, merges' other parents included), newest first, each with what it reverts.
    pub fn commits_since(&self, sha: &str) -> Result<Vec<LaterCommit>, SourceError> {
        let repo = self.repository();
        let base = Oid::from_str(sha).map_err(SourceError::git(format!("bad sha {sha}")))?;
        let mut walk = repo
            .revwalk()
            .map_err(SourceError::git("walking history"))?;
        walk.push(self.resolve()?)
            .map_err(SourceError::git("walking history"))?;
        walk.hide(base)
            .map_err(SourceError::git("walking history"))?;
        let mut later = Vec::new();
        for oid in walk {
            let oid = oid.map_err(SourceError::git("walking history"))?;
            let commit = repo
                .find_commit(oid)
                .map_err(SourceError::git(format!("reading commit {oid}")))?;
            later.push(LaterCommit {
                sha: oid.to_string(),
                reverts: reverted_shas(&String::from_utf8_lossy(commit.message_bytes())),
            });
        }
        Ok(later)
    }

    /// The tracked branch's newest commits along first parents, newest first, at most `limit`.
    pub fn branch_log(&self, limit: usize) -> Result<Vec<CommitInfo>, SourceError> {
        let repo = self.repository();
        let mut walk = repo
            .revwalk()
            .map_err(SourceError::git("walking history"))?;
        walk.push(self.resolve()?)
            .map_err(SourceError::git("walking history"))?;
        walk.simplify_first_parent()
            .map_err(SourceError::git("walking history"))?;
        let mut log = Vec::new();
        for oid in walk.take(limit) {
            let oid = oid.map_err(SourceError::git("walking history"))?;
            let commit = repo
                .find_commit(oid)
                .map_err(SourceError::git(format!("reading commit {oid}")))?;
            log.push(CommitInfo::from_commit(&commit));
        }
        Ok(log)
    }
}
