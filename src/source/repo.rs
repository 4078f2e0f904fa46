//! The repository: local path opened in place, or a remote cloned (bare) into the cache and
//! fetched incrementally.

use std::path::{Path, PathBuf};
use std::time::Instant;

use git2::{AutotagOption, FetchOptions, FetchPrune, ObjectType, Oid, Repository};
use sha2::{Digest, Sha256};

use super::{CommitInfo, GitAuth, GitRef, SourceError, TreeFile};

/// Where the repository lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepoLocation {
    /// A git repository on this machine, read in place (its own refs are the truth).
    Local(PathBuf),
    /// A URL (`https://`, `ssh://`, `git@host:path`, `file://`) cloned into ferry's cache.
    Remote(String),
}

impl RepoLocation {
    /// Interprets a `--repo` value: anything URL-like is remote, anything else a local path.
    pub fn parse(value: &str) -> RepoLocation {
        let scp_like = !value.contains("://")
            && value
                .split_once(':')
                .is_some_and(|(host, _)| host.contains('@') && !host.contains('/'));
        if value.contains("://") || scp_like {
            RepoLocation::Remote(value.to_string())
        } else {
            RepoLocation::Local(PathBuf::from(value))
        }
    }

    /// The location as shown to users and recorded in history (no credentials: ferry never
    /// accepts credentials inside the URL, see [`strip_userinfo`]).
    pub fn display(&self) -> String {
        match self {
            RepoLocation::Local(p) => p.display().to_string(),
            RepoLocation::Remote(u) => strip_userinfo(u),
        }
    }
}

/// Removes a `user:password@` part from an `https://` URL so it can be printed or logged.
pub fn strip_userinfo(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        if let Some((_, host)) = authority.rsplit_once('@') {
            if scheme.starts_with("http") {
                return format!("{scheme}://{host}/{path}");
            }
        }
    }
    url.to_string()
}

/// A tracked repository and the ref ferry follows in it.
pub struct GitSource {
    location: RepoLocation,
    repo: Repository,
    reference: GitRef,
    auth: GitAuth,
    last_good: Option<String>,
}

impl GitSource {
    /// The libgit2 repository, for this module's siblings.
    pub(super) fn repo(&self) -> &Repository {
        &self.repo
    }

    /// Opens a local repository, or opens/creates the cache clone of a remote one (under
    /// `cache_dir/repos/<hash of url>`). Nothing is fetched yet.
    pub fn open(
        location: RepoLocation,
        reference: GitRef,
        auth: GitAuth,
        cache_dir: &Path,
    ) -> Result<GitSource, SourceError> {
        super::init_network_timeouts();
        let repo = match &location {
            RepoLocation::Local(path) => {
                Repository::open(path).map_err(|source| SourceError::NotARepository {
                    path: path.clone(),
                    source,
                })?
            }
            RepoLocation::Remote(url) => {
                super::check_url(url)?;
                open_cache(url, cache_dir)?
            }
        };
        Ok(GitSource {
            location,
            repo,
            reference,
            auth,
            last_good: None,
        })
    }

    /// The repository as users name it (without credentials).
    pub fn display_url(&self) -> String {
        self.location.display()
    }

    /// Where the repository is.
    pub fn location(&self) -> &RepoLocation {
        &self.location
    }

    /// The configured credentials.
    pub(crate) fn auth(&self) -> &GitAuth {
        &self.auth
    }

    /// The ref being tracked.
    pub fn reference(&self) -> &GitRef {
        &self.reference
    }

    /// The underlying libgit2 repository (the cache clone for remotes).
    pub fn repository(&self) -> &Repository {
        &self.repo
    }

    /// The last commit this source resolved successfully; kept when a later fetch fails.
    pub fn last_good(&self) -> Option<&str> {
        self.last_good.as_deref()
    }

    /// Fetches (remotes only) and resolves the tracked ref to a commit. On a fetch error the
    /// last good commit stays available through [`GitSource::last_good`].
    pub fn fetch(&mut self) -> Result<CommitInfo, SourceError> {
        self.fetch_until(None)
    }

    /// [`GitSource::fetch`], aborted once `deadline` passes (a remote that stops sending).
    pub fn fetch_until(&mut self, deadline: Option<Instant>) -> Result<CommitInfo, SourceError> {
        if let RepoLocation::Remote(url) = &self.location {
            fetch_remote(&self.repo, url, &self.reference, &self.auth, deadline)?;
        }
        self.current()
    }

    /// Resolves the tracked ref with the refs already fetched and describes that commit.
    pub fn current(&mut self) -> Result<CommitInfo, SourceError> {
        let oid = self.resolve()?;
        let info = self.commit_info(&oid.to_string())?;
        self.last_good = Some(info.sha.clone());
        Ok(info)
    }

    /// Resolves the tracked ref against the refs we have, without fetching.
    pub fn resolve(&self) -> Result<Oid, SourceError> {
        let url = self.display_url();
        let not_found = || SourceError::RefNotFound {
            url: url.clone(),
            reference: self.reference.to_string(),
        };
        let remote = matches!(self.location, RepoLocation::Remote(_));
        let spec = match (&self.reference, remote) {
            (GitRef::Head, true) => "refs/remotes/origin/HEAD".to_string(),
            (GitRef::Head, false) => "HEAD".to_string(),
            (GitRef::Branch(b), true) => format!("refs/remotes/origin/{b}"),
            (GitRef::Branch(b), false) => format!("refs/heads/{b}"),
            (GitRef::Tag(t), _) => format!("refs/tags/{t}"),
            (GitRef::Commit(c), _) => c.clone(),
        };
        let object = self.repo.revparse_single(&spec).map_err(|_| not_found())?;
        let commit = object.peel_to_commit().map_err(|_| not_found())?;
        Ok(commit.id())
    }

    /// Describes the commit a revision names (full or abbreviated sha, tag, branch).
    pub fn commit_info_by_rev(&self, rev: &str) -> Result<CommitInfo, SourceError> {
        let commit = self
            .repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map_err(|_| SourceError::RefNotFound {
                url: self.display_url(),
                reference: format!("commit {rev}"),
            })?;
        Ok(CommitInfo::from_commit(&commit))
    }

    /// Describes one commit of this repository.
    pub fn commit_info(&self, sha: &str) -> Result<CommitInfo, SourceError> {
        let oid = Oid::from_str(sha).map_err(SourceError::git(format!("bad sha {sha}")))?;
        let commit = self
            .repo
            .find_commit(oid)
            .map_err(SourceError::git(format!("reading commit {sha}")))?;
        Ok(CommitInfo::from_commit(&commit))
    }

    /// Reads the files under `dir` (repo-relative; "" or "." for the root) at commit `sha`
    /// that `wanted` accepts, straight from the object database. Files over `max_bytes` are an
    /// error (they are not loaded). Symlinks and submodules are skipped.
    pub fn read_files(
        &self,
        sha: &str,
        dir: &str,
        wanted: &dyn Fn(&str) -> bool,
        max_bytes: usize,
    ) -> Result<Vec<TreeFile>, SourceError> {
        let oid = Oid::from_str(sha).map_err(SourceError::git(format!("bad sha {sha}")))?;
        let commit = self
            .repo
            .find_commit(oid)
            .map_err(SourceError::git(format!("reading commit {sha}")))?;
        let root = commit
            .tree()
            .map_err(SourceError::git(format!("reading tree of {sha}")))?;
        let dir = dir.trim_matches('/');
        let dir = if dir == "." { "" } else { dir };
        let tree = if dir.is_empty() {
            root
        } else {
            let entry = root
                .get_path(Path::new(dir))
                .map_err(|_| SourceError::PathNotFound {
                    path: dir.to_string(),
                    sha: sha.to_string(),
                })?;
            if entry.kind() != Some(ObjectType::Tree) {
                return Err(SourceError::PathNotFound {
                    path: dir.to_string(),
                    sha: sha.to_string(),
                });
            }
            self.repo
                .find_tree(entry.id())
                .map_err(SourceError::git(format!("reading {dir} at {sha}")))?
        };
        let odb = self.repo.odb().map_err(SourceError::git("opening odb"))?;
        let mut found = Vec::new();
        let mut walk_error = None;
        let mut links = Vec::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |parent, entry| {
            if entry.kind() != Some(ObjectType::Blob) {
                return git2::TreeWalkResult::Ok;
            }
            let name = String::from_utf8_lossy(entry.name_bytes());
            let rel = format!("{parent}{name}");
            let path = if dir.is_empty() {
                rel
            } else {
                format!("{dir}/{rel}")
            };
            if !wanted(&path) {
                return git2::TreeWalkResult::Ok;
            }
            // 0o120000: a symlink; its blob is the link target, not a manifest.
            if entry.filemode() == 0o120000 {
                links.push((path, entry.id()));
                return git2::TreeWalkResult::Ok;
            }
            found.push((path, entry.id()));
            git2::TreeWalkResult::Ok
        })
        .map_err(SourceError::git(format!("walking {dir} at {sha}")))?;
        if let Some((path, id)) = links.into_iter().next() {
            let target = match self.repo.find_blob(id) {
                Ok(blob) => String::from_utf8_lossy(blob.content())
                    .chars()
                    .take(200)
                    .collect(),
                // The refusal stands either way; only its message loses the link's target.
                Err(_) => String::new(),
            };
            return Err(SourceError::Symlink { path, target });
        }
        let mut files = Vec::with_capacity(found.len());
        for (path, id) in found {
            let (size, _) = odb
                .read_header(id)
                .map_err(SourceError::git(format!("reading {path}")))?;
            if size > max_bytes {
                walk_error.get_or_insert(SourceError::FileTooLarge {
                    path: path.clone(),
                    size,
                    limit: max_bytes,
                });
                continue;
            }
            let blob = self
                .repo
                .find_blob(id)
                .map_err(SourceError::git(format!("reading {path}")))?;
            files.push(TreeFile {
                path,
                contents: blob.content().to_vec(),
            });
        }
        match walk_error {
            Some(e) => Err(e),
            None => Ok(files),
        }
    }
}

/// The cache clone's directory for a remote URL.
pub(crate) fn cache_path(url: &str, cache_dir: &Path) -> PathBuf {
    let digest = Sha256::digest(strip_userinfo(url).as_bytes());
    cache_dir.join("repos").join(hex::encode(&digest[..8]))
}

fn open_cache(url: &str, cache_dir: &Path) -> Result<Repository, SourceError> {
    let dir = cache_path(url, cache_dir);
    if dir.join("HEAD").exists() {
        let repo = Repository::open_bare(&dir)
            .map_err(SourceError::git(format!("opening cache {}", dir.display())))?;
        // Written only when it changed: opening a clone to read it writes nothing.
        let same = repo
            .find_remote("origin")
            .is_ok_and(|remote| remote.url().is_ok_and(|u| u == url));
        if !same {
            repo.remote_set_url("origin", url)
                .map_err(SourceError::git("updating remote url"))?;
        }
        return Ok(repo);
    }
    std::fs::create_dir_all(&dir).map_err(|source| SourceError::Io {
        context: format!("creating cache {}", dir.display()),
        source,
    })?;
    let repo = Repository::init_bare(&dir).map_err(SourceError::git(format!(
        "creating cache {}",
        dir.display()
    )))?;
    repo.remote_with_fetch("origin", url, "+refs/heads/*:refs/remotes/origin/*")
        .map_err(SourceError::git("configuring remote"))?;
    Ok(repo)
}

fn fetch_remote(
    repo: &Repository,
    url: &str,
    reference: &GitRef,
    auth: &GitAuth,
    deadline: Option<Instant>,
) -> Result<(), SourceError> {
    let shown = strip_userinfo(url);
    let fetch_err = |e: git2::Error| super::fetch_error(&shown, deadline, e);
    let mut remote = repo
        .find_remote("origin")
        .map_err(SourceError::git("finding remote origin"))?;
    if *reference == GitRef::Head {
        // Learn the remote's default branch, and remember it as refs/remotes/origin/HEAD.
        let callbacks = auth.callbacks(url, deadline)?;
        let conn = remote
            .connect_auth(git2::Direction::Fetch, Some(callbacks), None)
            .map_err(fetch_err)?;
        let head = conn.default_branch().map_err(fetch_err)?;
        let head = head.as_str().unwrap_or("refs/heads/main").to_string();
        drop(conn);
        let short = head.trim_start_matches("refs/heads/");
        let target = format!("refs/remotes/origin/{short}");
        // Written only when the default branch changed: a no-change fetch writes nothing.
        let known = repo
            .find_reference("refs/remotes/origin/HEAD")
            .is_ok_and(|r| r.symbolic_target().ok().flatten() == Some(target.as_str()));
        if !known {
            repo.reference_symbolic(
                "refs/remotes/origin/HEAD",
                &target,
                true,
                "ferry: remote default branch",
            )
            .map_err(SourceError::git("recording remote HEAD"))?;
        }
    }
    let mut options = FetchOptions::new();
    options.remote_callbacks(auth.callbacks(url, deadline)?);
    options.prune(FetchPrune::On);
    options.download_tags(AutotagOption::All);
    // ferry never reads FETCH_HEAD; not writing it keeps a no-change fetch write-free.
    options.update_fetchhead(false);
    let started = std::time::Instant::now();
    remote
        .fetch(
            &[
                "+refs/heads/*:refs/remotes/origin/*",
                "+refs/tags/*:refs/tags/*",
            ],
            Some(&mut options),
            None,
        )
        .map_err(fetch_err)?;
    let stats = remote.stats();
    tracing::debug!(
        url = %shown,
        received_objects = stats.received_objects(),
        received_bytes = stats.received_bytes(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "fetched"
    );
    Ok(())
}

#[cfg(test)]
#[path = "repo_tests.rs"]
mod tests;
