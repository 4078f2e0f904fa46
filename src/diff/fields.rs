//! Server-side-apply field ownership: reading `metadata.managedFields[].fieldsV1`.
//!
//! A fieldsV1 set is a tree of JSON maps whose keys are `f:<field>` (map field),
//! `k:<json object>` (list item with those key-field values), `v:<json>` (scalar list item with
//! that value), `i:<n>` (list item by index) and `.` (the node itself is owned). A node whose
//! value is `{}` — or only `{".": {}}` — is a leaf.

use serde_json::{Map, Value};

use super::keys::json_scalar_equal;
use super::path::{FieldPath, Segment};

/// One `metadata.managedFields` entry: who wrote which fields, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedEntry {
    /// The field manager, e.g. `ferry` or `kube-controller-manager`.
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    /// The subresource written through (`scale`, `status`), if any.
    pub subresource: Option<String>,
    /// The `fieldsV1` tree (`{}` when the entry has none).
    pub fields: Value,
}

/// The managedFields entries of a live object; entries that are not objects are skipped and
/// missing strings read as empty.
pub fn managed_entries(live: &Value) -> Vec<ManagedEntry> {
    let Some(list) = live
        .get("metadata")
        .and_then(|m| m.get("managedFields"))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    let text = |e: &Value, k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
    list.iter()
        .filter(|e| e.is_object())
        .map(|e| ManagedEntry {
            manager: text(e, "manager").unwrap_or_default(),
            operation: text(e, "operation").unwrap_or_default(),
            subresource: text(e, "subresource").filter(|s| !s.is_empty()),
            fields: e
                .get("fieldsV1")
                .filter(|f| f.is_object())
                .cloned()
                .unwrap_or_else(|| Value::Object(Map::new())),
        })
        .collect()
}

/// Parses one fieldsV1 key; `None` for `.` and for anything unrecognised.
fn parse_key(key: &str) -> Option<Segment> {
    let (prefix, rest) = key.split_at_checked(2)?;
    match prefix {
        "f:" => Some(Segment::Field(rest.to_string())),
        "k:" => match serde_json::from_str::<Value>(rest).ok()? {
            Value::Object(m) => Some(Segment::Key(m.into_iter().collect())),
            _ => None,
        },
        "v:" => serde_json::from_str(rest).ok().map(Segment::Value),
        "i:" => rest.parse().ok().map(Segment::Index),
        _ => None,
    }
}

/// True when a list item carries the given key-field values (`protocol` defaults to `TCP`, as
/// the server stores keys after defaulting).
fn item_matches(item: &Value, key: &[(String, Value)]) -> bool {
    item.is_object()
        && key
            .iter()
            .all(|(k, v)| match item.get(k).filter(|x| !x.is_null()) {
                Some(x) => json_scalar_equal(x, v),
                None => k == "protocol" && v.as_str() == Some("TCP"),
            })
}

/// Position of the child `seg` selects inside `obj` (index for lists), if present.
fn locate(obj: &Value, seg: &Segment) -> Option<Step> {
    match seg {
        Segment::Field(name) => obj
            .as_object()?
            .get(name)
            .filter(|v| !v.is_null())
            .map(|_| Step::Field(name.clone())),
        Segment::Key(key) => obj
            .as_array()?
            .iter()
            .position(|item| item_matches(item, key))
            .map(Step::Index),
        Segment::Value(v) => obj
            .as_array()?
            .iter()
            .position(|item| json_scalar_equal(item, v))
            .map(Step::Index),
        Segment::Index(i) => obj.as_array()?.get(*i).map(|_| Step::Index(*i)),
    }
}

/// A concrete step into a JSON value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Field(String),
    Index(usize),
}

fn get<'a>(obj: &'a Value, step: &Step) -> Option<&'a Value> {
    match step {
        Step::Field(name) => obj.get(name),
        Step::Index(i) => obj.get(i),
    }
}

/// Paths (rendered like `FieldChange` paths) owned in `fields_v1` that do not exist in `obj`
/// (`null` counts as absent). Only the outermost missing node is reported: a removed
/// container is one path, not one per field. Used to find fields a manager owned before but
/// no longer sets (server-side apply will remove them).
pub fn owned_but_absent(fields_v1: &Value, obj: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(tree) = fields_v1.as_object() {
        absent(tree, obj, &FieldPath::root(), &mut out);
    }
    out
}

fn absent(tree: &Map<String, Value>, obj: &Value, path: &FieldPath, out: &mut Vec<String>) {
    for (key, sub) in tree {
        let Some(seg) = parse_key(key) else { continue };
        let p = path.child(seg.clone());
        match locate(obj, &seg).and_then(|step| get(obj, &step)) {
            None => out.push(p.to_string()),
            Some(child) => {
                if let Some(subtree) = sub.as_object() {
                    absent(subtree, child, &p, out);
                }
            }
        }
    }
}

/// Paths owned as one leaf in `fields_v1` whose value in `desired` is a map or a list that
/// differs from `live`'s: an atomic struct, map or list (a LabelSelector, `command`), which
/// server-side apply replaces whole. A subset check misses a key or item removed from one
/// (`matchLabels` narrowed from `{app, tier}` to `{app}` looks "already there").
pub fn atomic_changed(fields_v1: &Value, desired: &Value, live: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(tree) = fields_v1.as_object() {
        atomic(tree, desired, live, &FieldPath::root(), &mut out);
    }
    out
}

fn atomic(
    tree: &Map<String, Value>,
    desired: &Value,
    live: &Value,
    path: &FieldPath,
    out: &mut Vec<String>,
) {
    for (key, sub) in tree {
        let Some(seg) = parse_key(key) else { continue };
        let (Some(want), Some(have)) = (
            locate(desired, &seg).and_then(|step| get(desired, &step)),
            locate(live, &seg).and_then(|step| get(live, &step)),
        ) else {
            continue;
        };
        let p = path.child(seg.clone());
        match sub.as_object() {
            Some(children) if children.keys().any(|k| k != ".") => {
                atomic(children, want, have, &p, out);
            }
            _ if (want.is_object() || want.is_array()) && want != have => {
                out.push(p.to_string());
            }
            _ => {}
        }
    }
}

/// Every owned node of a fieldsV1 tree: `(path, is_leaf)`; non-leaf nodes only when marked `.`.
fn owned_nodes(fields_v1: &Value) -> Vec<(FieldPath, bool)> {
    fn walk(tree: &Map<String, Value>, path: &FieldPath, out: &mut Vec<(FieldPath, bool)>) {
        for (key, sub) in tree {
            let Some(seg) = parse_key(key) else { continue };
            let p = path.child(seg);
            let children = sub.as_object();
            let leaf = children.is_none_or(|m| m.keys().all(|k| k == "."));
            if leaf {
                out.push((p, true));
            } else if let Some(m) = children {
                if m.contains_key(".") {
                    out.push((p.clone(), false));
                }
                walk(m, &p, out);
            }
        }
    }
    let mut out = Vec::new();
    if let Some(tree) = fields_v1.as_object() {
        walk(tree, &FieldPath::root(), &mut out);
    }
    out
}

fn same_segment(a: &Segment, b: &Segment) -> bool {
    match (a, b) {
        (Segment::Field(x), Segment::Field(y)) => x == y,
        (Segment::Index(x), Segment::Index(y)) => x == y,
        (Segment::Value(x), Segment::Value(y)) => json_scalar_equal(x, y),
        (Segment::Key(x), Segment::Key(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.iter().any(|(k2, v2)| k == k2 && json_scalar_equal(v, v2)))
        }
        _ => false,
    }
}

fn is_prefix(prefix: &FieldPath, path: &FieldPath) -> bool {
    prefix.0.len() <= path.0.len()
        && prefix
            .0
            .iter()
            .zip(&path.0)
            .all(|(a, b)| same_segment(a, b))
}

/// Removes from `obj` every leaf owned (per fieldsV1) by entries that `pred` selects, unless
/// an entry of manager `keep_manager` also owns it (the same field, something inside it, or a
/// whole subtree containing it). Returns the removed paths in fieldsV1 order. Used so ferry
/// yields fields another controller took over, e.g. an HPA's `spec.replicas` written through
/// the `scale` subresource. Maps left empty by a removal are kept.
pub fn strip_owned(
    obj: &mut Value,
    entries: &[ManagedEntry],
    pred: &dyn Fn(&ManagedEntry) -> bool,
    keep_manager: &str,
) -> Vec<String> {
    let kept: Vec<(FieldPath, bool)> = entries
        .iter()
        .filter(|e| e.manager == keep_manager)
        .flat_map(|e| owned_nodes(&e.fields))
        .collect();
    let co_owned = |leaf: &FieldPath| {
        kept.iter()
            .any(|(kp, kleaf)| is_prefix(leaf, kp) || (*kleaf && is_prefix(kp, leaf)))
    };

    let mut removals: Vec<(Vec<Step>, String)> = Vec::new();
    for entry in entries.iter().filter(|e| pred(e)) {
        for (leaf, _) in owned_nodes(&entry.fields).into_iter().filter(|(_, l)| *l) {
            if co_owned(&leaf) {
                continue;
            }
            if let Some(steps) = resolve(obj, &leaf) {
                if !removals.iter().any(|(s, _)| *s == steps) {
                    removals.push((steps, leaf.to_string()));
                }
            }
        }
    }

    // Remove deepest-last-index first so earlier removals never shift later ones.
    let mut order: Vec<usize> = (0..removals.len()).collect();
    order.sort_by(|a, b| removals[*b].0.cmp(&removals[*a].0));
    let mut done = vec![false; removals.len()];
    for i in order {
        done[i] = remove(obj, &removals[i].0);
    }
    removals
        .into_iter()
        .zip(done)
        .filter(|(_, d)| *d)
        .map(|((_, path), _)| path)
        .collect()
}

/// The concrete steps to the node `path` names in `obj`, if it exists.
fn resolve(obj: &Value, path: &FieldPath) -> Option<Vec<Step>> {
    let mut node = obj;
    let mut steps = Vec::with_capacity(path.0.len());
    for seg in &path.0 {
        let step = locate(node, seg)?;
        node = get(node, &step)?;
        steps.push(step);
    }
    Some(steps)
}

fn remove(obj: &mut Value, steps: &[Step]) -> bool {
    let Some((last, parents)) = steps.split_last() else {
        return false;
    };
    let mut node = obj;
    for step in parents {
        let next = match step {
            Step::Field(name) => node.get_mut(name.as_str()),
            Step::Index(i) => node.get_mut(*i),
        };
        match next {
            Some(n) => node = n,
            None => return false,
        }
    }
    match (last, node) {
        (Step::Field(name), Value::Object(m)) => m.remove(name).is_some(),
        (Step::Index(i), Value::Array(a)) if *i < a.len() => {
            a.remove(*i);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
#[path = "fields_tests.rs"]
mod tests;
