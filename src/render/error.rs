//! Everything that can go wrong while rendering, each naming the repository file or the tool.

use super::RenderKind;
use crate::source::SourceError;

/// Everything that can go wrong while rendering.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// `render: kustomize` on a path without a kustomization file.
    #[error(
        "render: kustomize, but {} has no kustomization.yaml (or .yml, Kustomization)",
        if .dir.is_empty() { "the repository root" } else { .dir.as_str() }
    )]
    NoKustomization {
        /// The app's path.
        dir: String,
    },
    /// A Kustomization names a remote base or resource.
    #[error(
        "{file}:{line}: {reference:?} is remote; ferry renders offline from the commit alone: \
         vendor it into the repository and refer to it by a relative path"
    )]
    Remote {
        /// The kustomization file.
        file: String,
        /// Where the reference is.
        line: usize,
        /// The reference.
        reference: String,
    },
    /// A path (in a kustomization, `helm:`, or a symlink's target) leaves the repository.
    #[error("{file}: {reference:?} points outside the repository")]
    OutsideRepository {
        /// Where it is named.
        file: String,
        /// The path as written.
        reference: String,
    },
    /// A symlink the render would read points at something ferry does not copy.
    #[error("{path}: symbolic link to {target:?} {why}")]
    Symlink {
        /// The link.
        path: String,
        /// Its target.
        target: String,
        /// Why it is refused.
        why: &'static str,
    },
    /// A Helm chart (or a Kustomize `helmCharts:` entry) is not in the repository.
    #[error("{0}")]
    Chart(String),
    /// What a render may read is over the limit.
    #[error("the render would read {bytes} bytes of repository files, over the limit of {limit}")]
    TooMuchInput {
        /// Bytes it would read.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The tool is not installed.
    #[error(
        "{tool} is needed to render {root} but {looked}; install {tool} {pinned} (`bash dev/cluster/install.sh` \
         builds the pinned version into ~/.cache/ferry/k8s/<kube version>/bin) and put it on PATH, or pass --{tool}-bin"
    )]
    ToolMissing {
        /// The tool.
        tool: RenderKind,
        /// What was rendered.
        root: String,
        /// Where ferry looked.
        looked: String,
        /// The version ferry is tested with.
        pinned: &'static str,
    },
    /// The tool failed; its message, with paths made repository-relative.
    #[error("{tool} failed rendering {root}: {message}")]
    ToolFailed {
        /// The tool.
        tool: RenderKind,
        /// What was rendered.
        root: String,
        /// What the tool said.
        message: String,
    },
    /// The tool took too long.
    #[error("{tool} rendering {root} did not finish within {}s; it was killed", .timeout.as_secs())]
    Timeout {
        /// The tool.
        tool: RenderKind,
        /// What was rendered.
        root: String,
        /// The limit.
        timeout: std::time::Duration,
    },
    /// The tool wrote more than the output cap.
    #[error("{tool} rendering {root} wrote more than {limit} bytes; it was killed")]
    OutputTooLarge {
        /// The tool.
        tool: RenderKind,
        /// What was rendered.
        root: String,
        /// The cap.
        limit: usize,
    },
    /// Reading git failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The temp dir or the tool's process failed.
    #[error("{context}: {source}")]
    Io {
        /// What ferry was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl RenderError {
    pub(super) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> RenderError {
        let context = context.into();
        move |source| RenderError::Io { context, source }
    }
}
