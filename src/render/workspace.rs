//! A private temp dir holding exactly the repository files one render may read, written from
//! git objects of the commit (never from a work tree), removed when dropped.

use std::path::{Path, PathBuf};

use super::helm::HelmSpec;
use super::refs::closure;
use super::{
    resolve_path, ReadSet, RenderError, RenderInfo, RenderJob, RenderKind, RenderTools, Rendered,
    RepoTree,
};
use crate::source::TreeEntry;

/// The directory inside the temp dir that holds the repository's files.
pub(super) const REPO_DIR: &str = "repo";

/// Limits on what a render reads and writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderLimits {
    /// Largest single repository file copied (default 4 MiB, as for manifests).
    pub max_file_bytes: usize,
    /// Most bytes of repository files one render may read (default 64 MiB).
    pub max_input_bytes: usize,
    /// Most bytes a tool may write to stdout (default 64 MiB).
    pub max_output_bytes: usize,
    /// How long a tool may run (default 60 s).
    pub timeout: std::time::Duration,
}

impl Default for RenderLimits {
    fn default() -> Self {
        RenderLimits {
            max_file_bytes: 4 * 1024 * 1024,
            max_input_bytes: 64 * 1024 * 1024,
            max_output_bytes: 64 * 1024 * 1024,
            timeout: std::time::Duration::from_secs(60),
        }
    }
}

/// One render's files on disk, ready for the tool.
pub struct Workspace {
    pub(super) dir: tempfile::TempDir,
    pub(super) job: RenderJob,
    pub(super) reads: ReadSet,
    pub(super) files_read: usize,
    /// Kustomize: some kustomization inflates Helm charts.
    pub(super) uses_helm: bool,
    /// Kustomize: the patch files, to name in an error about a patch.
    pub(super) patches: Vec<String>,
    /// Helm: the chart's name in `Chart.yaml` (how `# Source:` lines name it).
    pub(super) chart_name: String,
    pub(super) limits: RenderLimits,
}

impl Workspace {
    /// Finds what `job` may read in `tree` and writes it into a new private temp dir.
    pub fn materialise(
        tree: &dyn RepoTree,
        job: RenderJob,
        limits: &RenderLimits,
    ) -> Result<Workspace, RenderError> {
        let mut uses_helm = false;
        let mut patches = Vec::new();
        let mut chart_name = String::new();
        let reads = match &job {
            RenderJob::Kustomize { dir } => {
                let found = closure(tree, dir)?;
                uses_helm = found.uses_helm;
                patches = found.patches;
                found.reads
            }
            RenderJob::Helm(spec) => {
                chart_name = chart_name_of(tree, spec, limits)?;
                helm_reads(tree, spec)?
            }
        };
        let dir = tempfile::Builder::new()
            .prefix("ferry-render-")
            .tempdir()
            .map_err(RenderError::io("creating the render's temp dir"))?;
        let root = dir.path().join(REPO_DIR);
        let mut paths: Vec<String> = reads.files.clone();
        for d in &reads.dirs {
            paths.extend(tree.files_under(d));
        }
        paths.sort();
        paths.dedup();
        let mut total = 0usize;
        for path in &paths {
            let content = match tree.entry(path) {
                Some(TreeEntry::Symlink(target)) => linked_file(tree, path, &target, limits)?,
                _ => tree.read(path, limits.max_file_bytes)?,
            };
            total += content.len();
            if total > limits.max_input_bytes {
                return Err(RenderError::TooMuchInput {
                    bytes: total,
                    limit: limits.max_input_bytes,
                });
            }
            write_file(&root, path, &content)?;
        }
        std::fs::create_dir_all(root.join(job.root()))
            .map_err(RenderError::io("creating the render's root"))?;
        Ok(Workspace {
            dir,
            job,
            reads,
            files_read: paths.len(),
            uses_helm,
            patches,
            chart_name,
            limits: limits.clone(),
        })
    }

    /// The repository files this render could read.
    pub fn reads(&self) -> &ReadSet {
        &self.reads
    }

    /// The tools' private HOME inside the workspace (made by [`Workspace::render`]).
    pub(super) fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// The temp dir's path (tests check it is gone after a render).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A path inside the materialised repository.
    pub(super) fn repo_path(&self, rel: &str) -> PathBuf {
        let root = self.dir.path().join(REPO_DIR);
        if rel.is_empty() {
            root
        } else {
            root.join(rel)
        }
    }

    /// The tool's message with temp paths made repository-relative.
    pub(super) fn clean_message(&self, message: &str) -> String {
        let root = format!("{}/", self.dir.path().join(REPO_DIR).display());
        let tmp = format!("{}/", self.dir.path().display());
        message
            .replace(&root, "")
            .replace(&tmp, "")
            .replace(&format!("../{REPO_DIR}/"), "")
            .trim()
            .to_string()
    }
}

impl Workspace {
    /// Runs the tool over the materialised files and maps its output back to the repository.
    /// The temp dir is removed when this returns, whatever the outcome.
    pub async fn render(self, tools: &RenderTools) -> Result<Rendered, RenderError> {
        let tool = self.job.kind();
        let root = self.job.root().to_string();
        let exe = tools.locate(tool, &root)?;
        let home = self.home();
        std::fs::create_dir_all(&home).map_err(RenderError::io("creating the render's HOME"))?;
        let version = tools.version(tool, &exe, &home).await?;
        let started = std::time::Instant::now();
        let output = match &self.job {
            RenderJob::Kustomize { dir } => {
                let helm = if self.uses_helm {
                    Some(tools.locate(RenderKind::Helm, &root)?)
                } else {
                    None
                };
                super::kustomize::build(&self, dir, &exe, helm.as_deref()).await?
            }
            RenderJob::Helm(spec) => super::helm::template(&self, spec, &exe).await?,
        };
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let info = RenderInfo {
            tool,
            version,
            root,
            files_read: self.files_read,
            elapsed_ms,
            reads: self.reads.clone(),
        };
        let file_of = |raw: &str| match &self.job {
            RenderJob::Kustomize { .. } => {
                let wrapper_relative = format!("../{REPO_DIR}/");
                raw.strip_prefix(&wrapper_relative)
                    .unwrap_or(raw)
                    .to_string()
            }
            RenderJob::Helm(spec) => super::helm::source_path(&spec.chart, &self.chart_name, raw),
        };
        let source_text = |file: &str| std::fs::read_to_string(self.repo_path(file)).ok();
        Ok(Rendered::new(output, info, &file_of, &source_text))
    }
}

/// The chart and every values file; all must exist at the commit.
fn helm_reads(tree: &dyn RepoTree, spec: &HelmSpec) -> Result<ReadSet, RenderError> {
    let mut reads = ReadSet::default();
    reads.add_dir(&spec.chart);
    for file in &spec.values_files {
        if !matches!(
            tree.entry(file),
            Some(TreeEntry::File | TreeEntry::Symlink(_))
        ) {
            return Err(RenderError::Chart(format!(
                "helm.valuesFiles: {file} does not exist at this commit"
            )));
        }
        reads.add_file(file);
    }
    Ok(reads)
}

/// The `name:` of the chart's `Chart.yaml`.
fn chart_name_of(
    tree: &dyn RepoTree,
    spec: &HelmSpec,
    limits: &RenderLimits,
) -> Result<String, RenderError> {
    let chart_yaml = super::join(&spec.chart, "Chart.yaml");
    if tree.entry(&chart_yaml) != Some(TreeEntry::File) {
        let what = match tree.entry(&spec.chart) {
            Some(TreeEntry::Dir) => "has no Chart.yaml",
            _ => "does not exist at this commit",
        };
        return Err(RenderError::Chart(format!(
            "helm.chart: {} {what}",
            spec.chart
        )));
    }
    let bytes = tree.read(&chart_yaml, limits.max_file_bytes)?;
    let doc: serde_yaml::Value = serde_yaml::from_slice(&bytes).map_err(|e| {
        let line = e.location().map_or(0, |l| l.line());
        RenderError::Chart(format!("{chart_yaml}:{line}: {e}"))
    })?;
    match doc.get("name").and_then(serde_yaml::Value::as_str) {
        Some(name) if !name.is_empty() => Ok(name.to_string()),
        _ => Err(RenderError::Chart(format!("{chart_yaml}: no `name:`"))),
    }
}

/// The content a symlink inside the read set points at, when it is a file of the repository.
fn linked_file(
    tree: &dyn RepoTree,
    path: &str,
    target: &str,
    limits: &RenderLimits,
) -> Result<Vec<u8>, RenderError> {
    let refuse = |why| RenderError::Symlink {
        path: path.to_string(),
        target: target.to_string(),
        why,
    };
    let parent = path.rsplit_once('/').map_or("", |(p, _)| p);
    let resolved = resolve_path(parent, target).ok_or_else(|| refuse("leaves the repository"))?;
    match tree.entry(&resolved) {
        Some(TreeEntry::File) => Ok(tree.read(&resolved, limits.max_file_bytes)?),
        Some(TreeEntry::Dir) => Err(refuse("is a directory: ferry copies linked files only")),
        Some(TreeEntry::Symlink(_)) => Err(refuse("is itself a link: ferry follows one link only")),
        None => Err(refuse("does not exist at this commit")),
    }
}

fn write_file(root: &Path, rel: &str, content: &[u8]) -> Result<(), RenderError> {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(RenderError::io(format!("creating {rel}'s directory")))?;
    }
    std::fs::write(&path, content).map_err(RenderError::io(format!("writing {rel}")))
}
