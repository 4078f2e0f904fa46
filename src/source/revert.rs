//! Rollback is a git revert: writing revert commits with git2 and pushing them.

use git2::{Oid, Repository};

use super::{GitRef, GitSource, RepoLocation, SourceError};

/// A revert commit ferry wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RevertCommit {
    /// Sha of the new commit.
    pub sha: String,
    /// The commits it reverts, newest first.
    pub reverted: Vec<String>,
    /// The branch it was written on.
    pub branch: String,
    /// True once the tracked branch (remote or local) points at it.
    pub published: bool,
}

impl GitSource {
    /// The branch being followed: the configured branch, or the remote's default branch
    /// (known after a fetch). Errors for tags and pinned commits.
    pub fn tracked_branch(&self) -> Result<String, SourceError> {
        match self.reference() {
            GitRef::Branch(b) => Ok(b.clone()),
            GitRef::Head => {
                let name = match self.location() {
                    RepoLocation::Remote(_) => "refs/remotes/origin/HEAD",
                    RepoLocation::Local(_) => "HEAD",
                };
                let head = self
                    .repository()
                    .find_reference(name)
                    .map_err(SourceError::git("reading HEAD"))?;
                let target = head
                    .symbolic_target()
                    .ok()
                    .flatten()
                    .map(str::to_string)
                    .ok_or_else(|| SourceError::NotABranch("HEAD is detached".into()))?;
                Ok(target
                    .trim_start_matches("refs/remotes/origin/")
                    .trim_start_matches("refs/heads/")
                    .to_string())
            }
            other => Err(SourceError::NotABranch(format!(
                "the app follows {other}; a revert needs a branch to commit on"
            ))),
        }
    }

    /// Writes one commit on top of the tracked branch that reverts `shas` (newest first; each
    /// is reverted in turn, so `--to` can undo a range), with `message` as its message. For
    /// a local repository the branch moves to it (and a clean checked-out work tree follows);
    /// for a remote, it is pushed when `push` is set. A revert that does not apply cleanly is
    /// an error naming the conflicting files, and nothing is written.
    pub fn revert(&mut self, shas: &[String], message: &str) -> Result<RevertCommit, SourceError> {
        let branch = self.tracked_branch()?;
        let tip = self.resolve()?;
        let repo = self.repository();
        let mut ours = repo
            .find_commit(tip)
            .map_err(SourceError::git("reading branch tip"))?;
        let (author, committer) =
            // No user.name/user.email configured: revert_identity falls back to ferry's own.
            revert_identity(&|name| std::env::var(name).ok(), repo.signature().ok())?;
        for sha in shas {
            let oid = Oid::from_str(sha).map_err(SourceError::git(format!("bad sha {sha}")))?;
            let theirs = repo
                .find_commit(oid)
                .map_err(SourceError::git(format!("reading commit {sha}")))?;
            if theirs.parent_count() > 1 {
                return Err(SourceError::NotABranch(format!(
                    "{sha} is a merge commit; revert it with git, choosing the mainline"
                )));
            }
            let mut index = repo
                .revert_commit(&theirs, &ours, 0, None)
                .map_err(SourceError::git(format!("reverting {sha}")))?;
            if index.has_conflicts() {
                let mut files: Vec<String> = index
                    .conflicts()
                    .map_err(SourceError::git("listing conflicts"))?
                    .filter_map(Result::ok)
                    .filter_map(|c| c.our.or(c.their).or(c.ancestor))
                    .map(|e| String::from_utf8_lossy(&e.path).to_string())
                    .collect();
                files.sort();
                files.dedup();
                return Err(SourceError::RevertConflict {
                    sha: sha.clone(),
                    files,
                });
            }
            let tree_id = index
                .write_tree_to(repo)
                .map_err(SourceError::git("writing revert tree"))?;
            let tree = repo
                .find_tree(tree_id)
                .map_err(SourceError::git("reading revert tree"))?;
            // Intermediate commits are unreferenced; only the last one is published.
            let id = repo
                .commit(None, &author, &committer, message, &tree, &[&ours])
                .map_err(SourceError::git("writing revert commit"))?;
            let step = repo
                .find_commit(id)
                .map_err(SourceError::git("reading revert commit"))?;
            // Chain the next revert onto this result, but keep the original tip as parent
            // of the final commit (below).
            ours = step;
        }
        // One commit whose tree is the combined result and whose parent is the tip.
        let tip_commit = repo
            .find_commit(tip)
            .map_err(SourceError::git("reading branch tip"))?;
        let tree = ours
            .tree()
            .map_err(SourceError::git("reading revert tree"))?;
        let id = if shas.len() == 1 {
            ours.id()
        } else {
            repo.commit(None, &author, &committer, message, &tree, &[&tip_commit])
                .map_err(SourceError::git("writing revert commit"))?
        };
        let published = match self.location() {
            RepoLocation::Local(_) => {
                update_local_branch(repo, &branch, id, tip)?;
                true
            }
            RepoLocation::Remote(_) => {
                repo.reference(
                    &format!("refs/ferry/rollback/{branch}"),
                    id,
                    true,
                    "ferry rollback",
                )
                .map_err(SourceError::git("recording the revert commit"))?;
                false
            }
        };
        Ok(RevertCommit {
            sha: id.to_string(),
            reverted: shas.to_vec(),
            branch,
            published,
        })
    }

    /// Pushes a revert commit of a remote repository to its branch. A refusal (protected
    /// branch, no permission, the branch moved) is [`SourceError::PushRejected`].
    pub fn publish(&mut self, revert: &mut RevertCommit) -> Result<(), SourceError> {
        if revert.published {
            return Ok(());
        }
        let RepoLocation::Remote(url) = self.location().clone() else {
            revert.published = true;
            return Ok(());
        };
        let id = Oid::from_str(&revert.sha).map_err(SourceError::git("bad revert sha"))?;
        push_commit(self.repository(), &url, &revert.branch, id, self.auth())?;
        revert.published = true;
        Ok(())
    }

    /// The commits after `base` on the tracked ref, newest first (what `--to base` reverts).
    pub fn commits_after(&self, base: &str) -> Result<Vec<String>, SourceError> {
        let repo = self.repository();
        let base = self.commit_on_branch(base)?;
        let base = Oid::from_str(&base.sha).map_err(SourceError::git("bad sha"))?;
        let tip = self.resolve()?;
        let mut walk = repo
            .revwalk()
            .map_err(SourceError::git("walking history"))?;
        walk.push(tip)
            .map_err(SourceError::git("walking history"))?;
        walk.hide(base)
            .map_err(SourceError::git("walking history"))?;
        walk.simplify_first_parent()
            .map_err(SourceError::git("walking history"))?;
        walk.map(|r| r.map(|o| o.to_string()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(SourceError::git("walking history"))
    }
}

/// Moves `refs/heads/<branch>` from `expected` to `id` (refusing if someone moved it), and
/// brings a clean work tree that has the branch checked out along.
fn update_local_branch(
    repo: &Repository,
    branch: &str,
    id: Oid,
    expected: Oid,
) -> Result<(), SourceError> {
    let name = format!("refs/heads/{branch}");
    repo.reference_matching(&name, id, true, expected, "ferry rollback")
        .map_err(SourceError::git(format!("moving {name}")))?;
    // An unborn or unreadable HEAD is not on the branch: the work tree is left alone.
    let on_branch = repo
        .head()
        .ok()
        .and_then(|h| h.name().ok().map(str::to_string))
        .is_some_and(|n| n == name);
    if on_branch && !repo.is_bare() {
        let mut checkout = git2::build::CheckoutBuilder::new();
        checkout.safe();
        repo.checkout_head(Some(&mut checkout))
            .map_err(SourceError::git("updating the work tree"))?;
    }
    Ok(())
}

fn push_commit(
    repo: &Repository,
    url: &str,
    branch: &str,
    id: Oid,
    auth: &super::GitAuth,
) -> Result<(), SourceError> {
    let local = format!("refs/ferry/rollback/{branch}");
    repo.reference(&local, id, true, "ferry rollback")
        .map_err(SourceError::git("recording the revert commit"))?;
    let mut callbacks = auth.callbacks(url, None)?;
    let rejected = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
    let sink = rejected.clone();
    callbacks.push_update_reference(move |refname, status| {
        if let Some(msg) = status {
            // Only this callback takes the lock; it cannot be poisoned.
            if let Ok(mut slot) = sink.lock() {
                *slot = Some(format!("{refname}: {msg}"));
            }
        }
        Ok(())
    });
    let mut options = git2::PushOptions::new();
    options.remote_callbacks(callbacks);
    let mut remote = repo
        .find_remote("origin")
        .map_err(SourceError::git("finding remote origin"))?;
    let shown = super::repo::strip_userinfo(url);
    remote
        .push(
            &[format!("{local}:refs/heads/{branch}")],
            Some(&mut options),
        )
        .map_err(|e| SourceError::PushRejected {
            url: shown.clone(),
            cause: e.message().to_string(),
        })?;
    let refused = rejected.lock().ok().and_then(|r| r.clone());
    if let Some(cause) = refused {
        return Err(SourceError::PushRejected { url: shown, cause });
    }
    // Our view of the branch now includes the revert.
    repo.reference(
        &format!("refs/remotes/origin/{branch}"),
        id,
        true,
        "ferry rollback",
    )
    .map_err(SourceError::git("updating the tracking ref"))?;
    Ok(())
}

/// Who a revert commit is by, the way git decides it: `GIT_AUTHOR_NAME`/`GIT_AUTHOR_EMAIL`
/// (both set) for the author and `GIT_COMMITTER_NAME`/`GIT_COMMITTER_EMAIL` for the committer,
/// else the repository's `user.name`/`user.email` (`repo_identity`), else `ferry
/// <ferry@localhost>`; the committer defaults to the author. In a cluster, set the variables
/// on ferry's Deployment so reverts carry an identity your forge recognises.
fn revert_identity(
    env: &dyn Fn(&str) -> Option<String>,
    repo_identity: Option<git2::Signature<'static>>,
) -> Result<(git2::Signature<'static>, git2::Signature<'static>), SourceError> {
    let from_env = |name: &str, email: &str| match (env(name), env(email)) {
        (Some(n), Some(e)) if !n.trim().is_empty() && !e.trim().is_empty() => Some(
            git2::Signature::now(n.trim(), e.trim())
                .map_err(SourceError::git(format!("{name}/{email}"))),
        ),
        _ => None,
    };
    let author = match from_env("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL") {
        Some(author) => author?,
        None => match repo_identity {
            Some(identity) => identity,
            None => git2::Signature::now("ferry", "ferry@localhost")
                .map_err(SourceError::git("making a signature"))?,
        },
    };
    let committer = match from_env("GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL") {
        Some(committer) => committer?,
        None => author.clone(),
    };
    Ok((author, committer))
}

/// The message git itself writes for a revert, plus ferry's reason.
pub fn revert_message(subject: &str, sha: &str, reason: Option<&str>) -> String {
    let mut message = format!("Revert \"{subject}\"\n\nThis reverts commit {sha}.\n");
    if let Some(reason) = reason {
        message.push('\n');
        message.push_str(reason);
        message.push('\n');
    }
    message
}

#[cfg(test)]
#[path = "revert_tests.rs"]
mod tests;
