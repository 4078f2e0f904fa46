//! `helm:` in `ferry.yaml` and `helm template` of a chart vendored in the repository. No Helm
//! release Secrets exist: ferry is the deployer, so history, gates and rollback stay ferry's.

use std::ffi::OsString;

use serde::Deserialize;

use super::tool::Run;
use super::workspace::Workspace;
use super::{clean_dir, resolve_path, RenderError, RenderKind};

/// `helm:` as written in `ferry.yaml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HelmConfig {
    /// The chart's directory in the repository.
    pub chart: String,
    /// `.Release.Name` (default: the app name).
    #[serde(default)]
    pub release_name: Option<String>,
    /// `.Release.Namespace`, and the namespace of objects that set none (default: the app's).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Values files, repository paths, applied in order.
    #[serde(default)]
    pub values_files: Vec<String>,
    /// Inline values, applied last.
    #[serde(default)]
    pub values: Option<serde_json::Value>,
}

/// A validated `helm:` block.
#[derive(Debug, Clone, PartialEq)]
pub struct HelmSpec {
    /// Repository-relative chart directory.
    pub chart: String,
    /// Release name.
    pub release_name: String,
    /// Release namespace.
    pub namespace: String,
    /// Repository-relative values files.
    pub values_files: Vec<String>,
    /// Inline values (a mapping), if any.
    pub values: Option<serde_json::Value>,
}

impl HelmConfig {
    /// Checks paths and names; `app` and `namespace` are the defaults.
    pub fn resolve(self, app: &str, namespace: &str) -> Result<HelmSpec, String> {
        let inside = |what: &str, path: &str| {
            if path.trim().is_empty() {
                return Err(format!("helm.{what} is empty"));
            }
            resolve_path("", &clean_dir(path))
                .filter(|p| !p.is_empty() || what != "chart")
                .ok_or_else(|| {
                    format!("helm.{what}: {path:?} must be a relative path inside the repository")
                })
        };
        let chart = inside("chart", &self.chart)?;
        let values_files = self
            .values_files
            .iter()
            .map(|f| inside("valuesFiles", f))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(values) = &self.values {
            if !values.is_object() {
                return Err("helm.values must be a mapping".into());
            }
        }
        let release_name = self.release_name.unwrap_or_else(|| app.to_string());
        // Helm's own rule: a DNS-1123 label of at most 53 characters.
        let ok = !release_name.is_empty()
            && release_name.len() <= 53
            && release_name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !release_name.starts_with('-')
            && !release_name.ends_with('-');
        if !ok {
            return Err(format!(
                "helm.releaseName {release_name:?} must be lowercase letters, digits and '-', at most 53 characters"
            ));
        }
        Ok(HelmSpec {
            chart,
            release_name,
            namespace: self.namespace.unwrap_or_else(|| namespace.to_string()),
            values_files,
            values: self.values,
        })
    }
}

/// The `helm template` command line for `spec` in `workspace`.
pub(super) fn template_args(
    workspace: &Workspace,
    spec: &HelmSpec,
) -> Result<Vec<OsString>, RenderError> {
    let mut args: Vec<OsString> = vec![
        "template".into(),
        spec.release_name.clone().into(),
        workspace.repo_path(&spec.chart).into(),
        "--namespace".into(),
        spec.namespace.clone().into(),
        // CRDs from the chart's crds/ are part of what ferry applies (Flux's default too).
        "--include-crds".into(),
        "--skip-tests".into(),
    ];
    for file in &spec.values_files {
        args.push("--values".into());
        args.push(workspace.repo_path(file).into());
    }
    if let Some(values) = &spec.values {
        let path = workspace.path().join("ferry-inline-values.json");
        let text = serde_json::to_vec(values).map_err(|e| RenderError::Io {
            context: "writing helm.values".into(),
            source: std::io::Error::other(e),
        })?;
        std::fs::write(&path, text).map_err(RenderError::io("writing helm.values"))?;
        args.push("--values".into());
        args.push(path.into());
    }
    Ok(args)
}

/// `# Source: <chart name>/templates/x.yaml` → `<chart dir>/templates/x.yaml`.
pub(super) fn source_path(chart_dir: &str, chart_name: &str, source: &str) -> String {
    match source
        .strip_prefix(chart_name)
        .and_then(|r| r.strip_prefix('/'))
    {
        Some(rest) => super::join(chart_dir, rest),
        None => source.to_string(),
    }
}

/// Runs `helm template` in the workspace.
pub(super) async fn template(
    workspace: &Workspace,
    spec: &HelmSpec,
    exe: &std::path::Path,
) -> Result<Vec<u8>, RenderError> {
    let home = workspace.home();
    let run = Run {
        tool: RenderKind::Helm,
        root: &spec.chart,
        exe,
        args: template_args(workspace, spec)?,
        cwd: workspace.path(),
        home: &home,
        timeout: workspace.limits.timeout,
        max_output: workspace.limits.max_output_bytes,
    };
    run.output().await.map_err(|e| clean(workspace, spec, e))
}

/// Helm names files by chart name (`node-agent/templates/x.yaml`): name them by repository path.
fn clean(workspace: &Workspace, spec: &HelmSpec, e: RenderError) -> RenderError {
    match e {
        RenderError::ToolFailed {
            tool,
            root,
            message,
        } => {
            // Helm's advice to re-run with --debug is for its own CLI, not ferry's.
            let message: String = workspace
                .clean_message(&message)
                .lines()
                .filter(|l| !l.starts_with("Use --debug flag"))
                .map(|l| l.strip_prefix("Error: ").unwrap_or(l))
                .collect::<Vec<_>>()
                .join("\n")
                .trim()
                .to_string();
            let prefix = format!("{}/", workspace.chart_name);
            let mut out = String::new();
            let mut rest = message.as_str();
            while let Some(i) = rest.find(&prefix) {
                let before = i.checked_sub(1).and_then(|b| rest.as_bytes().get(b));
                let at_word =
                    before.is_none_or(|b| !b.is_ascii_alphanumeric() && *b != b'/' && *b != b'-');
                out.push_str(&rest[..i]);
                if at_word {
                    out.push_str(&spec.chart);
                    out.push('/');
                } else {
                    out.push_str(&prefix);
                }
                rest = &rest[i + prefix.len()..];
            }
            out.push_str(rest);
            RenderError::ToolFailed {
                tool,
                root,
                message: out,
            }
        }
        other => other,
    }
}
