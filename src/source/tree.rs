//! One commit's whole tree as a listing (paths → blobs), read lazily: what the render stage
//! walks to find the files a Kustomize overlay or a Helm chart needs, and materialises.

use std::collections::BTreeMap;

use git2::{ObjectType, Oid};

use super::{GitSource, SourceError};

/// What a path names in a commit's tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeEntry {
    /// A regular (or executable) file.
    File,
    /// A symbolic link; its target as committed.
    Symlink(String),
    /// A directory holding at least one file.
    Dir,
}

/// The listing of every blob of one commit (no content read until asked for).
pub struct CommitTree<'r> {
    source: &'r GitSource,
    sha: String,
    /// Path → (blob id, file mode), sorted, so a directory's files are one range.
    blobs: BTreeMap<String, (Oid, i32)>,
}

impl GitSource {
    /// Whether `path` is a regular file at commit `sha` (one lookup, no listing).
    pub fn is_file(&self, sha: &str, path: &str) -> bool {
        let Ok(oid) = Oid::from_str(sha) else {
            return false;
        };
        let Ok(tree) = self.repo().find_commit(oid).and_then(|c| c.tree()) else {
            return false;
        };
        tree.get_path(std::path::Path::new(path))
            .is_ok_and(|e| e.kind() == Some(ObjectType::Blob) && e.filemode() != 0o120000)
    }

    /// Lists every file of commit `sha` (submodules are left out: they have no blob here).
    pub fn commit_tree(&self, sha: &str) -> Result<CommitTree<'_>, SourceError> {
        let oid = Oid::from_str(sha).map_err(SourceError::git(format!("bad sha {sha}")))?;
        let commit = self
            .repo()
            .find_commit(oid)
            .map_err(SourceError::git(format!("reading commit {sha}")))?;
        let root = commit
            .tree()
            .map_err(SourceError::git(format!("reading tree of {sha}")))?;
        let mut blobs = BTreeMap::new();
        root.walk(git2::TreeWalkMode::PreOrder, |parent, entry| {
            if entry.kind() == Some(ObjectType::Blob) {
                let name = String::from_utf8_lossy(entry.name_bytes());
                blobs.insert(format!("{parent}{name}"), (entry.id(), entry.filemode()));
            }
            git2::TreeWalkResult::Ok
        })
        .map_err(SourceError::git(format!("walking the tree of {sha}")))?;
        Ok(CommitTree {
            source: self,
            sha: sha.to_string(),
            blobs,
        })
    }
}

impl CommitTree<'_> {
    /// The commit this tree belongs to.
    pub fn sha(&self) -> &str {
        &self.sha
    }

    /// What `path` (repository-relative, `/`-separated, no `.`/`..`; `""` is the root) is.
    pub fn entry(&self, path: &str) -> Option<TreeEntry> {
        if let Some((id, mode)) = self.blobs.get(path) {
            // 0o120000: a symlink; its blob is the link target.
            if *mode == 0o120000 {
                let target = self
                    .source
                    .repo()
                    .find_blob(*id)
                    .map(|b| String::from_utf8_lossy(b.content()).into_owned())
                    .unwrap_or_default();
                return Some(TreeEntry::Symlink(target));
            }
            return Some(TreeEntry::File);
        }
        if path.is_empty() {
            return (!self.blobs.is_empty()).then_some(TreeEntry::Dir);
        }
        let prefix = format!("{path}/");
        self.blobs
            .range(prefix.clone()..)
            .next()
            .filter(|(p, _)| p.starts_with(&prefix))
            .map(|_| TreeEntry::Dir)
    }

    /// Every file (and symlink) at or below directory `dir`, in path order.
    pub fn files_under(&self, dir: &str) -> Vec<String> {
        if dir.is_empty() {
            return self.blobs.keys().cloned().collect();
        }
        let prefix = format!("{dir}/");
        self.blobs
            .range(prefix.clone()..)
            .take_while(|(p, _)| p.starts_with(&prefix))
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// The size of file `path` in bytes, without reading it.
    pub fn size(&self, path: &str) -> Result<usize, SourceError> {
        let (id, _) = self.blob(path)?;
        let odb = self
            .source
            .repo()
            .odb()
            .map_err(SourceError::git("opening odb"))?;
        let (size, _) = odb
            .read_header(id)
            .map_err(SourceError::git(format!("reading {path}")))?;
        Ok(size)
    }

    /// The content of file `path`, refused over `max_bytes` (then it is not loaded).
    pub fn read(&self, path: &str, max_bytes: usize) -> Result<Vec<u8>, SourceError> {
        let size = self.size(path)?;
        if size > max_bytes {
            return Err(SourceError::FileTooLarge {
                path: path.to_string(),
                size,
                limit: max_bytes,
            });
        }
        let (id, _) = self.blob(path)?;
        let blob = self
            .source
            .repo()
            .find_blob(id)
            .map_err(SourceError::git(format!("reading {path}")))?;
        Ok(blob.content().to_vec())
    }

    fn blob(&self, path: &str) -> Result<(Oid, i32), SourceError> {
        self.blobs
            .get(path)
            .copied()
            .ok_or_else(|| SourceError::PathNotFound {
                path: path.to_string(),
                sha: self.sha.clone(),
            })
    }
}

#[cfg(test)]
#[path = "tree_tests.rs"]
mod tests;
