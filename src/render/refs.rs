//! The files a `kustomize build` of one directory may read, found by following its
//! kustomization files: `resources`, `bases` and `components` (recursively), patches,
//! generator files, `crds`, `configurations`, `openapi`, `replacements`, transformer and
//! generator configs, and vendored `helmCharts`. Remote references are refused here, before
//! any tool runs.
//!
//! The walk over-approximates on purpose: every kustomization directory is read whole (with
//! its subdirectories), so a file it names that the walk does not know about is still there.

use std::collections::BTreeSet;

use serde_yaml::Value;

use super::{clean_dir, join, kustomization_file, resolve_path, ReadSet, RenderError, RepoTree};
use crate::source::TreeEntry;

/// The largest kustomization file read (kustomize's own files are small).
const MAX_KUSTOMIZATION_BYTES: usize = 1024 * 1024;

/// What walking an overlay found.
#[derive(Debug, Default)]
pub struct Closure {
    /// The files and directories the build may read.
    pub reads: ReadSet,
    /// Whether any kustomization inflates Helm charts (then kustomize needs `--enable-helm`).
    pub uses_helm: bool,
    /// Each patch file with the kustomization that names it, for error messages.
    pub patches: Vec<String>,
}

/// Walks the kustomizations reachable from `dir`.
pub fn closure(tree: &dyn RepoTree, dir: &str) -> Result<Closure, RenderError> {
    let mut out = Closure::default();
    let mut queue = vec![clean_dir(dir)];
    let mut seen = BTreeSet::new();
    while let Some(dir) = queue.pop() {
        if !seen.insert(dir.clone()) {
            continue;
        }
        out.reads.add_dir(&dir);
        let Some(file) = kustomization_file(&dir, &|p| tree.entry(p) == Some(TreeEntry::File))
        else {
            continue; // kustomize names the directory in its own error
        };
        let bytes = tree.read(&file, MAX_KUSTOMIZATION_BYTES)?;
        let text = String::from_utf8_lossy(&bytes);
        // A file kustomize cannot parse is reported by kustomize, with its reason.
        let Ok(doc) = serde_yaml::from_str::<Value>(&text) else {
            continue;
        };
        let mut walk = Walk {
            tree,
            dir: &dir,
            file: &file,
            text: &text,
            out: &mut out,
            queue: &mut queue,
        };
        walk.kustomization(&doc)?;
    }
    Ok(out)
}

/// How a reference is followed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ref {
    /// A resource, base or component: a directory is another kustomization.
    Kustomization,
    /// A patch file.
    Patch,
    /// Any other file (or directory) read as it is.
    Plain,
}

struct Walk<'a> {
    tree: &'a dyn RepoTree,
    dir: &'a str,
    file: &'a str,
    text: &'a str,
    out: &'a mut Closure,
    queue: &'a mut Vec<String>,
}

impl Walk<'_> {
    fn kustomization(&mut self, doc: &Value) -> Result<(), RenderError> {
        for key in ["resources", "bases", "components"] {
            for r in strings(doc.get(key)) {
                self.follow(r, Ref::Kustomization)?;
            }
        }
        for r in strings(doc.get("patchesStrategicMerge")) {
            // An inline patch is YAML text, not a path.
            if !r.contains('\n') {
                self.follow(r, Ref::Patch)?;
            }
        }
        for key in ["patches", "patchesJson6902", "replacements"] {
            for entry in list(doc.get(key)) {
                if let Some(path) = entry.get("path").and_then(Value::as_str) {
                    self.follow(path, Ref::Patch)?;
                }
            }
        }
        for key in ["crds", "configurations"] {
            for r in strings(doc.get(key)) {
                self.follow(r, Ref::Plain)?;
            }
        }
        if let Some(path) = doc
            .get("openapi")
            .and_then(|o| o.get("path"))
            .and_then(Value::as_str)
        {
            self.follow(path, Ref::Plain)?;
        }
        for key in ["generators", "transformers", "validators"] {
            for r in strings(doc.get(key)) {
                if !r.contains('\n') {
                    self.follow(r, Ref::Kustomization)?;
                }
            }
        }
        for key in ["configMapGenerator", "secretGenerator"] {
            for generator in list(doc.get(key)) {
                for f in strings(generator.get("files")) {
                    // `key=path` or `path`.
                    let path = f.split_once('=').map_or(f, |(_, p)| p);
                    self.follow(path, Ref::Plain)?;
                }
                for e in strings(generator.get("envs")) {
                    self.follow(e, Ref::Plain)?;
                }
                if let Some(e) = generator.get("env").and_then(Value::as_str) {
                    self.follow(e, Ref::Plain)?;
                }
            }
        }
        self.helm_charts(doc)
    }

    fn helm_charts(&mut self, doc: &Value) -> Result<(), RenderError> {
        let charts = list(doc.get("helmCharts"));
        if charts.is_empty() {
            return Ok(());
        }
        self.out.uses_helm = true;
        let home = doc
            .get("helmGlobals")
            .and_then(|g| g.get("chartHome"))
            .and_then(Value::as_str)
            .unwrap_or("charts");
        let Some(home_path) = resolve_path(self.dir, home) else {
            return Err(self.outside(home));
        };
        self.out.reads.add_dir(&home_path);
        for chart in charts {
            let name = chart
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let version = chart.get("version").and_then(Value::as_str);
            let vendored = [
                Some(join(&home_path, name)),
                version.map(|v| join(&home_path, &format!("{name}-{v}/{name}"))),
            ]
            .into_iter()
            .flatten()
            .any(|p| self.tree.entry(&join(&p, "Chart.yaml")) == Some(TreeEntry::File));
            if !vendored {
                let repo = chart
                    .get("repo")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                return Err(RenderError::Chart(format!(
                    "{}:{}: helmCharts entry {name:?}{} is not vendored under {}: ferry never \
                     fetches charts; run `helm pull --untar` into that directory and commit it",
                    self.file,
                    self.line_of(name),
                    if repo.is_empty() {
                        String::new()
                    } else {
                        format!(" (repo {repo})")
                    },
                    if home_path.is_empty() {
                        "."
                    } else {
                        home_path.as_str()
                    },
                )));
            }
            if let Some(v) = chart.get("valuesFile").and_then(Value::as_str) {
                self.follow(v, Ref::Plain)?;
            }
            for v in strings(chart.get("additionalValuesFiles")) {
                self.follow(v, Ref::Plain)?;
            }
        }
        Ok(())
    }

    fn follow(&mut self, reference: &str, how: Ref) -> Result<(), RenderError> {
        let reference = reference.trim();
        if is_remote(reference) {
            return Err(self.remote(reference));
        }
        let Some(path) = resolve_path(self.dir, reference) else {
            return Err(self.outside(reference));
        };
        match self.tree.entry(&path) {
            Some(TreeEntry::Dir) if how == Ref::Kustomization => self.queue.push(path),
            Some(TreeEntry::Dir) => self.out.reads.add_dir(&path),
            Some(_) => {
                if how == Ref::Patch {
                    self.out.patches.push(path.clone());
                }
                self.out.reads.add_file(&path);
            }
            // `github.com/org/repo/path`: kustomize tries it as a local path, then clones it.
            None if looks_like_host(reference) => return Err(self.remote(reference)),
            None => {} // kustomize reports the missing path
        }
        Ok(())
    }

    fn remote(&self, reference: &str) -> RenderError {
        RenderError::Remote {
            file: self.file.to_string(),
            line: self.line_of(reference),
            reference: reference.to_string(),
        }
    }

    fn outside(&self, reference: &str) -> RenderError {
        RenderError::OutsideRepository {
            file: format!("{}:{}", self.file, self.line_of(reference)),
            reference: reference.to_string(),
        }
    }

    /// The 1-based line of the kustomization file where `needle` first appears (0: not found).
    fn line_of(&self, needle: &str) -> usize {
        self.text
            .lines()
            .position(|l| !needle.is_empty() && l.contains(needle))
            .map_or(0, |i| i + 1)
    }
}

/// URLs, scp-like git addresses and kustomize's `repo//path?ref=` form.
fn is_remote(reference: &str) -> bool {
    reference.contains("://")
        || reference.starts_with("git@")
        || reference.starts_with("git::")
        || reference.contains("?ref=")
        || reference.contains("?version=")
        || reference
            .split_once("//")
            .is_some_and(|(host, _)| host.contains('.'))
}

/// `github.com/org/repo`: a first segment that is a host name.
fn looks_like_host(reference: &str) -> bool {
    let first = reference.split('/').next().unwrap_or_default();
    reference.contains('/')
        && first.contains('.')
        && first != "."
        && first != ".."
        && !first.starts_with('.')
}

fn strings(value: Option<&Value>) -> Vec<&str> {
    list(value).into_iter().filter_map(Value::as_str).collect()
}

fn list(value: Option<&Value>) -> Vec<&Value> {
    match value {
        Some(Value::Sequence(items)) => items.iter().collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
#[path = "refs_tests.rs"]
mod tests;
