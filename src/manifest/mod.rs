//! Stage 2 of the pipeline: the files of one commit → a validated [`Bundle`] of Kubernetes
//! resources, each with its [`Origin`] (file, YAML document, line).
//!
//! The stage is pure: it never talks to the cluster or to git. It runs in three steps:
//!
//! 1. [`SelectOptions`] / [`PathFilter`] decide which repository files are manifests
//!    (`*.yaml` / `*.yml` below a directory, minus gitignore-style ignore globs).
//! 2. [`parse_bundle`] splits every file into YAML documents (keeping each one's first line),
//!    parses them, expands `List`s, checks the fields ferry needs, rejects duplicates and reads
//!    the [`WAVE_ANNOTATION`]. Every problem in every file is collected and reported together
//!    as [`ManifestError::Invalid`], so a bad commit is reported once, completely, as
//!    `file:line: message` lines.
//! 3. [`resolve`] applies discovery knowledge (which kinds exist, namespaced or cluster-scoped)
//!    handed in by the caller: namespaces are defaulted, cluster-scoped objects must not set
//!    one, and duplicates are checked again on the final identities.
//!
//! [`Bundle::waves`] then groups the resources into apply order (see [`default_wave`]).

mod compat;
mod gvk;
mod parse;
mod resolve;
mod select;
mod split;
mod waves;
mod yaml;

pub use gvk::Gvk;
pub use parse::parse_bundle;
pub use resolve::{kinds_defined_in_bundle, resolve};
pub use select::{PathFilter, SelectOptions};
pub use split::{documents, Chunk, Documents};
pub use waves::{default_wave, WAVE_ANNOTATION};

use std::fmt;

use serde::Serialize;

/// One file read from the repository at a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Path relative to the repository root, with `/` separators.
    pub path: String,
    /// The raw bytes of the file.
    pub contents: Vec<u8>,
}

/// Where a resource came from: shown to users as `file:line`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    /// Path of the file relative to the repository root.
    pub file: String,
    /// 0-based index of the YAML document in the file.
    pub document: usize,
    /// 1-based line where the document's content starts.
    pub line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// The identity of a Kubernetes object: group, version, kind, namespace and name.
///
/// Before [`resolve`], `namespace` is what the manifest says (`None` when it sets none); after
/// it, namespaced objects always have one and cluster-scoped objects never do.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ObjectKey {
    /// API group; `""` for the core group (`apiVersion: v1`).
    pub group: String,
    /// API version inside the group, e.g. `v1`.
    pub version: String,
    /// Kind, e.g. `DaemonSet`.
    pub kind: String,
    /// Namespace, `None` for cluster-scoped objects (or not yet defaulted).
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
}

impl ObjectKey {
    /// The `apiVersion` string: `v1` for the core group, otherwise `group/version`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Its kind: how discovery results and the inventory name it.
    pub fn gvk(&self) -> Gvk {
        Gvk::new(&self.group, &self.version, &self.kind)
    }
}

impl fmt::Display for ObjectKey {
    /// `DaemonSet logging/fluentd`, or `Namespace logging` when cluster-scoped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&object_name(
            &self.kind,
            self.namespace.as_deref(),
            &self.name,
        ))
    }
}

/// How ferry names an object in every message and record: `DaemonSet logging/fluentd`, or
/// `Namespace logging` when cluster-scoped. [`ObjectKey`]'s `Display`, for the places that
/// hold only a kind, namespace and name (history records).
pub fn object_name(kind: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

/// One desired object from git.
#[derive(Debug, Clone)]
pub struct Resource {
    /// The object's identity.
    pub key: ObjectKey,
    /// The object as written in git (JSON form), namespace defaulted by [`resolve`].
    pub object: serde_json::Value,
    /// Where it was written.
    pub origin: Origin,
    /// Apply wave: lower waves are applied (and healthy) before higher ones.
    pub wave: i32,
}

/// All desired objects of one commit, in file order.
#[derive(Debug, Clone, Default)]
pub struct Bundle {
    /// The resources, in the order of the files and documents they came from.
    pub resources: Vec<Resource>,
}

impl Bundle {
    /// Number of resources.
    pub fn len(&self) -> usize {
        self.resources.len()
    }

    /// True when the bundle holds no resource.
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    /// The resource with this key, if any.
    pub fn get(&self, key: &ObjectKey) -> Option<&Resource> {
        self.resources.iter().find(|r| &r.key == key)
    }
}

/// Size limits that keep a hostile or broken commit from exhausting memory or time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest manifest file accepted, in bytes (default 4 MiB).
    pub max_file_bytes: usize,
    /// Most YAML documents accepted in one file (default 5000).
    pub max_documents_per_file: usize,
    /// Most resources accepted in one bundle, after `List` expansion (default 50 000).
    pub max_resources: usize,
    /// How many times its own size a YAML document may grow when its aliases (`*name`) are
    /// expanded, with a floor of 1 MiB (default 16). Stops "billion laughs" documents.
    pub max_alias_expansion: usize,
    /// Largest object accepted, as JSON (default 1.5 MiB, etcd's default `--max-request-bytes`).
    /// A server-side dry-run never reaches etcd, so a larger object passes it and then fails
    /// the real write, halfway through a sync.
    pub max_object_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 4 * 1024 * 1024,
            max_documents_per_file: 5000,
            max_resources: 50_000,
            max_alias_expansion: 16,
            max_object_bytes: 1536 * 1024,
        }
    }
}

/// Whether a kind lives in a namespace; what discovery knows about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The kind's objects live in a namespace.
    Namespaced,
    /// The kind's objects are cluster-wide.
    Cluster,
}

/// One thing wrong with the manifests, located in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Path of the file relative to the repository root.
    pub file: String,
    /// 1-based line; 0 when the problem concerns the whole file.
    pub line: usize,
    /// What is wrong, for humans.
    pub message: String,
}

impl Problem {
    /// A problem at `file:line`.
    pub fn new(file: impl Into<String>, line: usize, message: impl Into<String>) -> Self {
        Problem {
            file: file.into(),
            line,
            message: message.into(),
        }
    }

    /// A problem at a resource's origin.
    pub fn at(origin: &Origin, message: impl Into<String>) -> Self {
        Problem::new(origin.file.clone(), origin.line, message)
    }
}

impl fmt::Display for Problem {
    /// `file:line: message` (`file: message` for whole-file problems).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

/// Everything that can go wrong in this module.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The manifests have problems; all of them are listed.
    #[error("{}", render_problems(.0))]
    Invalid(Vec<Problem>),
    /// An ignore pattern is not a valid glob.
    #[error("bad ignore pattern {pattern:?}: {source}")]
    BadIgnorePattern {
        /// The pattern as configured.
        pattern: String,
        /// What globset said.
        #[source]
        source: globset::Error,
    },
    /// The manifest directory is not a plain relative path inside the repository.
    #[error("bad manifest path {path:?}: {reason}")]
    BadPath {
        /// The path as configured.
        path: String,
        /// Why it is refused.
        reason: String,
    },
}

impl ManifestError {
    /// The problems when the error is [`ManifestError::Invalid`], else an empty slice.
    pub fn problems(&self) -> &[Problem] {
        match self {
            ManifestError::Invalid(problems) => problems,
            _ => &[],
        }
    }
}

fn render_problems(problems: &[Problem]) -> String {
    let mut out = format!("{} problem(s) in manifests:", problems.len());
    for p in problems {
        out.push('\n');
        out.push_str(&p.to_string());
    }
    out
}

#[cfg(test)]
mod tests;
