//! Between source and bundle: rendering a Kustomize overlay or a Helm chart of one commit into
//! the YAML stream the bundle stage parses, with the pinned upstream tools.
//!
//! 1. [`RenderSpec::job`] decides whether the app renders: a `helm:` block, or (unless
//!    `render: plain`) a `kustomization.yaml` in the app's path.
//! 2. [`Workspace::materialise`] finds the files the render may read (the overlay's closure of
//!    kustomizations, patches and generator files, or the chart and its values files: the
//!    [`ReadSet`]), refuses remote bases and links out of the repository, and writes exactly
//!    those files from git objects into a private temp dir (removed when dropped).
//! 3. [`Workspace::render`] runs `kustomize build` or `helm template` there with an empty
//!    environment and HOME, proxies pointing nowhere, a timeout and an output cap.
//! 4. [`Rendered`] keeps where each rendered document came from in the repository
//!    ([`Rendered::attach_origins`] strips Kustomize's origin annotation so it never reaches
//!    the cluster) and turns the bundle stage's problems into repository `file:line`s
//!    ([`Rendered::locate`]).
//!
//! The stage reads git only through [`RepoTree`] and never talks to the cluster.

mod error;
mod helm;
mod kustomize;
mod origins;
mod refs;
mod tool;
mod workspace;

pub use error::RenderError;
pub use helm::{HelmConfig, HelmSpec};
pub use origins::{Rendered, ORIGIN_ANNOTATION};
pub use tool::{RenderTools, ToolPaths, PINNED_HELM, PINNED_KUSTOMIZE};
pub use workspace::{RenderLimits, Workspace};

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::source::{CommitTree, SourceError, TreeEntry};

/// The file names that make a directory a Kustomization, in the order kustomize looks.
pub const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// `render:` in `ferry.yaml`: whether a `kustomization.yaml` in the app's path is rendered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RenderMode {
    /// Render with kustomize when the path holds a kustomization file (as Flux does).
    #[default]
    Auto,
    /// Never render: read the path's YAML files as they are.
    Plain,
    /// Always render with kustomize; a path without a kustomization file is an error.
    Kustomize,
}

/// How an app's manifests are produced from its commit.
#[derive(Debug, Clone, PartialEq)]
pub enum RenderSpec {
    /// From the app's path: plain YAML, or a Kustomization there per the mode.
    Path {
        /// `render:`.
        mode: RenderMode,
    },
    /// `helm template` of a chart in the repository.
    Helm(HelmSpec),
}

impl Default for RenderSpec {
    fn default() -> Self {
        RenderSpec::Path {
            mode: RenderMode::Auto,
        }
    }
}

/// Which tool renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RenderKind {
    /// `kustomize build`.
    Kustomize,
    /// `helm template`.
    Helm,
}

impl fmt::Display for RenderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RenderKind::Kustomize => "kustomize",
            RenderKind::Helm => "helm",
        })
    }
}

/// One render to do: the tool, and the repository directory it starts from.
#[derive(Debug, Clone, PartialEq)]
pub enum RenderJob {
    /// `kustomize build` of the Kustomization in this directory (`""`: the root).
    Kustomize {
        /// Repository-relative directory.
        dir: String,
    },
    /// `helm template` of this chart.
    Helm(HelmSpec),
}

impl RenderJob {
    /// The tool this job runs.
    pub fn kind(&self) -> RenderKind {
        match self {
            RenderJob::Kustomize { .. } => RenderKind::Kustomize,
            RenderJob::Helm(_) => RenderKind::Helm,
        }
    }

    /// The repository directory the render starts from (the overlay or the chart).
    pub fn root(&self) -> &str {
        match self {
            RenderJob::Kustomize { dir } => dir,
            RenderJob::Helm(spec) => &spec.chart,
        }
    }
}

impl RenderSpec {
    /// The render this commit needs for an app reading `app_path`, or `None` for plain YAML;
    /// `is_file` says whether a repository path is a file at the commit.
    pub fn job(
        &self,
        app_path: &str,
        is_file: &dyn Fn(&str) -> bool,
    ) -> Result<Option<RenderJob>, RenderError> {
        match self {
            RenderSpec::Helm(spec) => Ok(Some(RenderJob::Helm(spec.clone()))),
            RenderSpec::Path { mode } => {
                let dir = clean_dir(app_path);
                let has_kustomization = kustomization_file(&dir, is_file).is_some();
                match mode {
                    RenderMode::Plain => Ok(None),
                    RenderMode::Auto if !has_kustomization => Ok(None),
                    RenderMode::Kustomize if !has_kustomization => {
                        Err(RenderError::NoKustomization { dir })
                    }
                    _ => Ok(Some(RenderJob::Kustomize { dir })),
                }
            }
        }
    }

    /// The namespace for objects that name none: Helm's release namespace, else the app's.
    pub fn default_namespace<'a>(&'a self, app_namespace: &'a str) -> &'a str {
        match self {
            RenderSpec::Helm(spec) => &spec.namespace,
            RenderSpec::Path { .. } => app_namespace,
        }
    }
}

/// The kustomization file of directory `dir`, if it has one.
pub fn kustomization_file(dir: &str, is_file: &dyn Fn(&str) -> bool) -> Option<String> {
    KUSTOMIZATION_FILES
        .iter()
        .map(|name| join(dir, name))
        .find(|path| is_file(path))
}

/// What the render stage needs of a commit's tree (a [`CommitTree`]; a map in unit tests).
pub trait RepoTree {
    /// What `path` names, if anything.
    fn entry(&self, path: &str) -> Option<TreeEntry>;
    /// Every file at or below `dir`.
    fn files_under(&self, dir: &str) -> Vec<String>;
    /// A file's content, refused over `max_bytes`.
    fn read(&self, path: &str, max_bytes: usize) -> Result<Vec<u8>, SourceError>;
}

impl RepoTree for CommitTree<'_> {
    fn entry(&self, path: &str) -> Option<TreeEntry> {
        CommitTree::entry(self, path)
    }
    fn files_under(&self, dir: &str) -> Vec<String> {
        CommitTree::files_under(self, dir)
    }
    fn read(&self, path: &str, max_bytes: usize) -> Result<Vec<u8>, SourceError> {
        CommitTree::read(self, path, max_bytes)
    }
}

/// The repository files a render could read: whole directories (the overlays, bases and
/// charts) and single files (patches or values files outside them). `ferry serve`'s path
/// filter asks it whether a push concerns the app.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReadSet {
    /// Directories read with everything below them (`""`: the whole repository).
    pub dirs: Vec<String>,
    /// Single files read.
    pub files: Vec<String>,
}

impl ReadSet {
    /// True when `path` (repository-relative) is in the set.
    pub fn contains(&self, path: &str) -> bool {
        let path = path.trim_start_matches("./").trim_matches('/');
        self.files.iter().any(|f| f == path) || self.dirs.iter().any(|d| covers(d, path))
    }

    /// True when any of `changed` is in the set.
    pub fn touched_by(&self, changed: &[String]) -> bool {
        changed.iter().any(|c| self.contains(c))
    }

    /// Adds a directory, dropping what it covers.
    fn add_dir(&mut self, dir: &str) {
        if self.dirs.iter().any(|d| covers(d, dir)) {
            return;
        }
        self.dirs.retain(|d| !covers(dir, d));
        self.files.retain(|f| !covers(dir, f));
        self.dirs.push(dir.to_string());
    }

    /// Adds a file unless a directory already covers it.
    fn add_file(&mut self, file: &str) {
        if !self.contains(file) {
            self.files.push(file.to_string());
        }
    }
}

/// Whether directory `dir` covers `path` (itself or below it).
fn covers(dir: &str, path: &str) -> bool {
    dir.is_empty()
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// What ran, for `ferry plan` and the sync record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderInfo {
    /// The tool.
    pub tool: RenderKind,
    /// Its version as it reports it (`v5.8.2`).
    pub version: String,
    /// The repository directory rendered (overlay or chart).
    pub root: String,
    /// How many repository files the render could read.
    pub files_read: usize,
    /// How long the tool ran, in milliseconds.
    pub elapsed_ms: u64,
    /// The repository files it could read (what `ferry serve`'s path filter matches).
    pub reads: ReadSet,
}

impl fmt::Display for RenderInfo {
    /// `kustomize v5.8.2 of overlays/prod (4 files)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let root = if self.root.is_empty() {
            "."
        } else {
            &self.root
        };
        write!(
            f,
            "{} {} of {root} ({} files read, {} ms)",
            self.tool, self.version, self.files_read, self.elapsed_ms
        )
    }
}

/// `dir` joined with `rest`, `/`-separated, for repository-relative paths.
pub(crate) fn join(dir: &str, rest: &str) -> String {
    if dir.is_empty() {
        rest.to_string()
    } else {
        format!("{dir}/{rest}")
    }
}

/// A configured directory as a tree path: no leading `./` or `/`, no trailing `/`, `.` → `""`.
pub(crate) fn clean_dir(path: &str) -> String {
    let mut p = path.trim();
    while let Some(rest) = p.strip_prefix("./") {
        p = rest;
    }
    let p = p.trim_matches('/');
    if p == "." {
        String::new()
    } else {
        p.to_string()
    }
}

/// `rel` resolved against repository directory `dir`; `None` when it leaves the repository.
pub(crate) fn resolve_path(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = if rel.starts_with('/') {
        return None;
    } else {
        dir.split('/').filter(|s| !s.is_empty()).collect()
    };
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests;
