//! Text rendering: one line per [`FieldChange`], and unified YAML diffs with `similar`.

use std::fmt;

use serde_json::{Map, Value};
use similar::{ChangeTag, TextDiff};

use super::path::plain;
use super::structured::{ChangeKind, FieldChange};

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Lines of context around each hunk of a unified diff.
const CONTEXT_LINES: usize = 3;

impl fmt::Display for FieldChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Option<Value>| v.as_ref().map_or_else(|| "null".to_string(), plain);
        match self.kind {
            ChangeKind::Added => write!(f, "{}: + {}", self.path, show(&self.after)),
            ChangeKind::Removed => write!(f, "{}: - {}", self.path, show(&self.before)),
            ChangeKind::Changed => write!(
                f,
                "{}: {} → {}",
                self.path,
                show(&self.before),
                show(&self.after)
            ),
        }
    }
}

/// A copy with every map's keys in sorted order, so the YAML text does not depend on the
/// order keys arrived in.
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                if let Some(child) = m.get(k) {
                    out.insert(k.clone(), sorted(child));
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Renders an object as YAML (keys sorted); falls back to pretty JSON if YAML fails.
pub fn to_yaml(v: &Value) -> String {
    let v = sorted(v);
    serde_yaml::to_string(&v)
        .or_else(|_| serde_json::to_string_pretty(&v).map(|s| s + "\n"))
        .unwrap_or_default()
}

/// Unified diff of two objects rendered as YAML, with `---`/`+++` headers `label_before` and
/// `label_after` and 3 lines of context. `color` wraps removed lines in ANSI red, added lines
/// in green and hunk headers in cyan. Returns the empty string when the YAML texts are equal.
pub fn unified_yaml_diff(
    before: &Value,
    after: &Value,
    label_before: &str,
    label_after: &str,
    color: bool,
) -> String {
    let old = to_yaml(before);
    let new = to_yaml(after);
    if old == new {
        return String::new();
    }
    let diff = TextDiff::from_lines(&old, &new);
    if !color {
        return diff
            .unified_diff()
            .context_radius(CONTEXT_LINES)
            .header(label_before, label_after)
            .to_string();
    }
    let mut out = format!("{BOLD}--- {label_before}{RESET}\n{BOLD}+++ {label_after}{RESET}\n");
    for hunk in diff
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .iter_hunks()
    {
        out.push_str(&format!("{CYAN}{}{RESET}\n", hunk.header()));
        for change in hunk.iter_changes() {
            let text = change.to_string_lossy();
            let line = text.strip_suffix('\n').unwrap_or(&text);
            let (colour, sign) = match change.tag() {
                ChangeTag::Delete => (RED, '-'),
                ChangeTag::Insert => (GREEN, '+'),
                ChangeTag::Equal => ("", ' '),
            };
            if colour.is_empty() {
                out.push_str(&format!("{sign}{line}\n"));
            } else {
                out.push_str(&format!("{colour}{sign}{line}{RESET}\n"));
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
