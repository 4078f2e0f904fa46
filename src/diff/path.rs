//! Paths into Kubernetes objects, rendered the way `kubectl`-literate humans read them:
//! `spec.template.spec.containers[name=nginx].image`, `metadata.labels["app.kubernetes.io/name"]`.

use std::fmt;

use serde_json::Value;

/// Field names under which values are resource quantities (`500m`, `1Gi`…).
pub const QUANTITY_FIELDS: &[&str] = &[
    "requests",
    "limits",
    "capacity",
    "allocatable",
    "hard",
    "overhead",
    "sizeLimit",
    "storage",
];

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// A map field: `spec`, or `["app.kubernetes.io/name"]` when not a simple identifier.
    Field(String),
    /// A list item selected by its key fields: `[name=nginx]`, `[containerPort=80,protocol=TCP]`.
    Key(Vec<(String, Value)>),
    /// A scalar list item selected by its value (fieldsV1 `v:`): `[=foo]`.
    Value(Value),
    /// A list item selected by position: `[0]`.
    Index(usize),
}

/// A path from the root of an object to one of its nodes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FieldPath(pub Vec<Segment>);

impl FieldPath {
    /// The path of the root (renders as the empty string).
    pub fn root() -> Self {
        FieldPath(Vec::new())
    }

    /// A copy with one more segment.
    pub fn child(&self, seg: Segment) -> Self {
        let mut segs = self.0.clone();
        segs.push(seg);
        FieldPath(segs)
    }

    /// A copy with one more map field.
    pub fn field(&self, name: &str) -> Self {
        self.child(Segment::Field(name.to_string()))
    }

    /// True when any field on the path names a resource-quantity map (see [`QUANTITY_FIELDS`]).
    pub fn is_quantity(&self) -> bool {
        self.0
            .iter()
            .any(|s| matches!(s, Segment::Field(f) if QUANTITY_FIELDS.contains(&f.as_str())))
    }
}

/// True when `name` can be written after a dot without quoting.
fn is_simple_identifier(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
}

/// Renders a scalar plainly (strings without quotes); anything else as compact JSON. Strings
/// with line breaks or other control characters are JSON-quoted so the result stays one line.
pub(crate) fn plain(v: &Value) -> String {
    match v {
        Value::String(s) if !s.chars().any(char::is_control) => s.clone(),
        other => other.to_string(),
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Segment::Field(name) if is_simple_identifier(name) => f.write_str(name),
            Segment::Field(name) => write!(f, "[{}]", Value::String(name.clone())),
            Segment::Key(fields) => {
                f.write_str("[")?;
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{k}={}", plain(v))?;
                }
                f.write_str("]")
            }
            Segment::Value(v) => write!(f, "[={}]", plain(v)),
            Segment::Index(i) => write!(f, "[{i}]"),
        }
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            let dotted = matches!(seg, Segment::Field(n) if is_simple_identifier(n));
            if i > 0 && dotted {
                f.write_str(".")?;
            }
            write!(f, "{seg}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "path_tests.rs"]
mod tests;
