//! A tool's output with each document's origin in the repository: Kustomize's
//! `config.kubernetes.io/origin` annotation or Helm's `# Source:` comment gives the file, and
//! the document in that file that defines the object gives the line.

use crate::manifest::{documents, Bundle, Origin, Problem, SourceFile};

use super::{RenderInfo, RenderKind};

/// The annotation `buildMetadata: [originAnnotations]` makes kustomize write.
pub const ORIGIN_ANNOTATION: &str = "config.kubernetes.io/origin";
/// Its sibling `transformerAnnotations` writes; stripped too if an overlay asks for it.
const TRANSFORMATIONS_ANNOTATION: &str = "alpha.config.kubernetes.io/transformations";

/// What a render produced: the YAML stream for the bundle stage, and where it came from.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The tool's output as one file, named `kustomize output of overlays/prod`.
    pub file: SourceFile,
    /// Which tool ran, its version, on what, and what it could read.
    pub info: RenderInfo,
    /// Per document of the output (as [`documents`] numbers them): its repository origin.
    origins: Vec<Option<Origin>>,
    /// Per document of the output: its first line.
    starts: Vec<usize>,
}

/// What one output document says about itself.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct DocFacts {
    /// The repository file it names (origin `path:`/`configuredIn:`, or `# Source:`).
    pub file: Option<String>,
    /// Whether kustomize generated it (then the line is the generator's).
    pub generated: bool,
    /// Its top-level `kind:`.
    pub kind: Option<String>,
    /// Its `metadata.name`.
    pub name: Option<String>,
}

impl Rendered {
    /// Maps every output document to its origin; `source_text` reads a repository file
    /// (materialised) to find the line.
    pub(super) fn new(
        output: Vec<u8>,
        info: RenderInfo,
        file_of: &dyn Fn(&str) -> String,
        source_text: &dyn Fn(&str) -> Option<String>,
    ) -> Rendered {
        let text = String::from_utf8_lossy(&output).into_owned();
        let mut origins = Vec::new();
        let mut starts = Vec::new();
        // How many documents of each (file, kind) came before: the k-th Helm document of a
        // template is most likely its k-th `kind:`.
        let mut seen: Vec<(String, String)> = Vec::new();
        for chunk in documents(&text) {
            starts.push(chunk.first_line);
            let facts = facts(chunk.text, info.tool);
            let origin = facts.file.as_ref().map(|raw| {
                let file = file_of(raw);
                let kind = facts.kind.clone().unwrap_or_default();
                let nth = seen
                    .iter()
                    .filter(|(f, k)| *f == file && *k == kind)
                    .count();
                seen.push((file.clone(), kind));
                let (document, line) =
                    source_text(&file).map_or((0, 0), |src| locate_in(&src, &facts, nth));
                Origin {
                    file,
                    document,
                    line,
                }
            });
            origins.push(origin);
        }
        let label = format!(
            "{} output of {}",
            info.tool,
            if info.root.is_empty() {
                "."
            } else {
                &info.root
            }
        );
        Rendered {
            file: SourceFile {
                path: label,
                contents: text.into_bytes(),
            },
            info,
            origins,
            starts,
        }
    }

    /// Gives every resource its repository origin and strips the origin annotations, so they
    /// never reach the cluster nor show as drift.
    pub fn attach_origins(&self, bundle: &mut Bundle) {
        for resource in &mut bundle.resources {
            if let Some(Some(origin)) = self.origins.get(resource.origin.document) {
                resource.origin = origin.clone();
            }
            strip_annotations(&mut resource.object);
        }
    }

    /// The bundle stage's problems in the output, moved to the repository file and line the
    /// offending document came from.
    pub fn locate(&self, problems: Vec<Problem>) -> Vec<Problem> {
        problems
            .into_iter()
            .map(|p| {
                if p.file != self.file.path {
                    return p;
                }
                let doc = self
                    .starts
                    .partition_point(|&start| start <= p.line)
                    .saturating_sub(1);
                match self.origins.get(doc) {
                    Some(Some(origin)) => Problem::new(
                        origin.file.clone(),
                        origin.line,
                        format!(
                            "{} (rendered by {}, its output line {})",
                            p.message, self.info.tool, p.line
                        ),
                    ),
                    _ => p,
                }
            })
            .collect()
    }
}

/// Removes ferry's bookkeeping annotations (and `annotations` itself when nothing is left).
fn strip_annotations(object: &mut serde_json::Value) {
    let Some(metadata) = object.get_mut("metadata").and_then(|m| m.as_object_mut()) else {
        return;
    };
    let empty = match metadata
        .get_mut("annotations")
        .and_then(|a| a.as_object_mut())
    {
        Some(annotations) => {
            annotations.remove(ORIGIN_ANNOTATION);
            annotations.remove(TRANSFORMATIONS_ANNOTATION);
            annotations.is_empty()
        }
        None => false,
    };
    if empty {
        metadata.remove("annotations");
    }
}

/// Reads kind, name and origin off one output document's lines (both tools write canonical
/// YAML: top-level keys at column 0, `metadata`'s at two spaces).
pub(super) fn facts(doc: &str, tool: RenderKind) -> DocFacts {
    let mut out = DocFacts::default();
    let mut in_metadata = false;
    let mut in_origin = false;
    for line in doc.lines() {
        if tool == RenderKind::Helm {
            if let Some(source) = line.strip_prefix("# Source: ") {
                out.file.get_or_insert_with(|| source.trim().to_string());
                continue;
            }
        }
        if !line.starts_with(' ') && !line.is_empty() {
            in_metadata = line.starts_with("metadata:");
            in_origin = false;
        }
        if let Some(kind) = line.strip_prefix("kind:") {
            out.kind = Some(unquote(kind));
        } else if in_metadata {
            if let Some(name) = line.strip_prefix("  name:") {
                out.name = Some(unquote(name));
            }
        }
        if tool == RenderKind::Kustomize {
            let t = line.trim_start();
            if t.starts_with(ORIGIN_ANNOTATION) {
                in_origin = true;
                continue;
            }
            if in_origin {
                if let Some(p) = t.strip_prefix("path:") {
                    out.file = Some(unquote(p));
                } else if let Some(p) = t.strip_prefix("configuredIn:") {
                    out.file = Some(unquote(p));
                    out.generated = true;
                } else if !line.starts_with("      ") {
                    in_origin = false;
                }
            }
        }
    }
    out
}

/// The (document index, 1-based line) in a source file where the object is defined; `(0, 0)`
/// when it cannot be told (the file is still named).
fn locate_in(source: &str, facts: &DocFacts, nth: usize) -> (usize, usize) {
    if facts.generated {
        // The generator's entry: `- name: <name>` where the object is `[prefix]<name>-<hash>`.
        let line = source.lines().position(|l| {
            let t = l.trim_start().trim_start_matches("- ");
            t.strip_prefix("name:").map(unquote).is_some_and(|n| {
                !n.is_empty()
                    && facts
                        .name
                        .as_deref()
                        .is_some_and(|r| r.contains(n.as_str()))
            })
        });
        return (0, line.map_or(0, |i| i + 1));
    }
    let kind = facts.kind.as_deref().unwrap_or_default();
    let mut by_kind = Vec::new();
    for (index, chunk) in documents(source).enumerate() {
        let mut kind_line = None;
        let mut name = None;
        let mut in_metadata = false;
        for (i, line) in chunk.text.lines().enumerate() {
            if !line.starts_with(' ') && !line.is_empty() {
                in_metadata = line.starts_with("metadata:");
            }
            if let Some(k) = line.strip_prefix("kind:") {
                if unquote(k) == kind {
                    kind_line = Some(chunk.first_line + i);
                }
            } else if in_metadata {
                if let Some(n) = line.trim_start().strip_prefix("name:") {
                    name.get_or_insert(unquote(n));
                }
            }
        }
        if let Some(line) = kind_line {
            let start = chunk.content_line.unwrap_or(line);
            let named = match (&name, &facts.name) {
                (Some(src), Some(rendered)) => !src.is_empty() && rendered.contains(src.as_str()),
                _ => false,
            };
            if named {
                return (index, start);
            }
            by_kind.push((index, start));
        }
    }
    by_kind
        .get(nth)
        .or(by_kind.first())
        .copied()
        .unwrap_or((0, 0))
}

fn unquote(value: &str) -> String {
    value.trim().trim_matches(['"', '\'']).to_string()
}

#[cfg(test)]
#[path = "origins_tests.rs"]
mod tests;
