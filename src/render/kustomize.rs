//! `kustomize build` of an overlay, through a wrapper kustomization that only adds
//! `buildMetadata: [originAnnotations]`, so every object says which repository file it came
//! from without ferry touching the user's files.

use std::ffi::OsString;
use std::path::Path;

use super::tool::Run;
use super::workspace::{Workspace, REPO_DIR};
use super::{RenderError, RenderKind};

/// The wrapper's directory in the workspace, beside the repository's.
pub(super) const WRAPPER_DIR: &str = "ferry-kustomize";

/// Runs `kustomize build` of `dir` in the workspace.
pub(super) async fn build(
    workspace: &Workspace,
    dir: &str,
    exe: &Path,
    helm: Option<&Path>,
) -> Result<Vec<u8>, RenderError> {
    let wrapper = workspace.path().join(WRAPPER_DIR);
    std::fs::create_dir_all(&wrapper).map_err(RenderError::io("creating the kustomize wrapper"))?;
    let target = if dir.is_empty() {
        format!("../{REPO_DIR}")
    } else {
        format!("../{REPO_DIR}/{dir}")
    };
    let text = format!(
        "# Written by ferry: the overlay, with each object's origin recorded.\n\
         resources:\n- {}\nbuildMetadata: [originAnnotations]\n",
        serde_json::to_string(&target).unwrap_or_default()
    );
    std::fs::write(wrapper.join("kustomization.yaml"), text)
        .map_err(RenderError::io("writing the kustomize wrapper"))?;
    let home = workspace.home();
    let mut args: Vec<OsString> = vec!["build".into(), wrapper.clone().into()];
    if let Some(helm) = helm {
        args.push("--enable-helm".into());
        args.push("--helm-command".into());
        args.push(helm.into());
    }
    let run = Run {
        tool: RenderKind::Kustomize,
        root: dir,
        exe,
        args,
        cwd: workspace.path(),
        home: &home,
        timeout: workspace.limits.timeout,
        max_output: workspace.limits.max_output_bytes,
    };
    run.output().await.map_err(|e| match e {
        RenderError::ToolFailed {
            tool,
            root,
            message,
        } => RenderError::ToolFailed {
            tool,
            root,
            message: explain(workspace, &message),
        },
        other => other,
    })
}

/// kustomize's message with paths made repository-relative, the wrapper's layer dropped, and
/// the patch file named when a patch found no target.
fn explain(workspace: &Workspace, message: &str) -> String {
    let mut text = workspace
        .clean_message(message)
        .trim_start_matches("Error: ")
        .to_string();
    // "accumulating resources: accumulation err='accumulating resources from 'overlays/prod':
    //  'overlays/prod' must resolve to a file': recursed accumulation of path 'overlays/prod': …"
    // The first two parts are the wrapper failing to load the overlay; the cause follows.
    if let Some(i) = text.find("recursed accumulation of path ") {
        text = text[i..].to_string();
    }
    if let Some(id) = between(&text, "no resource matches strategic merge patch \"", "\"") {
        if let Some(file) = patch_naming(workspace, id) {
            text.push_str(&format!(" (the patch is {file})"));
        }
    }
    text
}

/// The patch file whose object is `Kind.version.group/name.[ns]`, as kustomize names it.
fn patch_naming(workspace: &Workspace, id: &str) -> Option<String> {
    let (kind_part, rest) = id.split_once('/')?;
    let kind = kind_part.split('.').next()?;
    let name = rest.split('.').next()?;
    workspace.patches.iter().find_map(|file| {
        let text = std::fs::read_to_string(workspace.repo_path(file)).ok()?;
        let doc: serde_yaml::Value = serde_yaml::from_str(&text).ok()?;
        let same_kind = doc.get("kind").and_then(serde_yaml::Value::as_str) == Some(kind);
        let same_name = doc
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(serde_yaml::Value::as_str)
            == Some(name);
        (same_kind && same_name).then(|| file.clone())
    })
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}
