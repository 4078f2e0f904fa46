//! Structured edits of JSON payloads: random walks that replace, remove or add a node, and
//! edits aimed at the fields the forge parsers read, with values that matter to them.
// Each includer uses a different part of this module.
#![allow(dead_code)]

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value};

/// A commit sha, and the all-zero sha of a created or deleted ref.
pub const SHA: &str = "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d";
/// The all-zero sha.
pub const ZERO: &str = "0000000000000000000000000000000000000000";

/// A JSON scalar that matters to the parsers: shas, refs, forge words, URL pieces.
fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<i64>().prop_map(|n| json!(n)),
        1 => any::<f64>().prop_map(|f| json!(f)),
        4 => select(
            &[
                "",
                "0",
                ZERO,
                SHA,
                "refs/heads/",
                "refs/heads/main",
                "refs/tags/v1",
                "main",
                "branch",
                "tag",
                "named_branch",
                "annotated_tag",
                "push",
                "tag_push",
                "git@host:",
                "https://",
                "ssh://git@h:22/",
                "file:///",
                "/",
                "..",
                "a/../../b",
                "é/ü",
                "\u{0}",
                ":",
                "@",
                "//",
            ][..]
        )
        .prop_map(|s| json!(s)),
        2 => ".{0,24}".prop_map(Value::String),
    ]
}

/// A JSON value for mutations: scalars that matter to the parsers, small arrays and objects.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = json_leaf();
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                select(
                    &[
                        "name", "type", "new", "old", "target", "hash", "added", "ref", "after",
                        "x"
                    ][..]
                )
                .prop_map(str::to_string),
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One change of a JSON document: walk `path` (indices into objects' keys and arrays), then
/// replace, delete or add at that node.
#[derive(Debug, Clone)]
pub struct JsonEdit {
    path: Vec<usize>,
    op: u8,
    value: Value,
}

/// Fields the parsers read, as key paths (`0`: the first element of an array): edits aim at
/// them half of the time, so a short run reaches every branch of every parser.
const PAYLOAD_FIELDS: &[&[&str]] = &[
    &["after"],
    &["before"],
    &["ref"],
    &["deleted"],
    &["created"],
    &["forced"],
    &["object_kind"],
    &["total_commits"],
    &["total_commits_count"],
    &["commits"],
    &["commits", "0"],
    &["commits", "0", "added"],
    &["commits", "0", "added", "0"],
    &["commits", "0", "removed"],
    &["repository"],
    &["repository", "clone_url"],
    &["repository", "ssh_url"],
    &["repository", "full_name"],
    &["repository", "links", "html", "href"],
    &["repository", "url"],
    &["project"],
    &["project", "git_http_url"],
    &["push"],
    &["push", "changes"],
    &["push", "changes", "0"],
    &["push", "changes", "0", "new"],
    &["push", "changes", "0", "new", "type"],
    &["push", "changes", "0", "new", "name"],
    &["push", "changes", "0", "new", "target", "hash"],
    &["push", "changes", "0", "old"],
    &["push", "changes", "0", "closed"],
    &["changedFiles"],
];

pub fn json_edit() -> impl Strategy<Value = JsonEdit> {
    let random = (
        prop::collection::vec(any::<usize>(), 0..5),
        0..3u8,
        json_value(),
    )
        .prop_map(|(path, op, value)| JsonEdit { path, op, value });
    prop_oneof![random, aimed_edit()]
}

/// An edit of one field the parsers read, mostly to a scalar.
pub fn aimed_edit() -> impl Strategy<Value = JsonEdit> {
    let value = prop_oneof![3 => json_leaf(), 1 => json_value()];
    (select(PAYLOAD_FIELDS), 0..3u8, value).prop_map(|(keys, op, value)| JsonEdit {
        path: Vec::new(),
        op: op + 10,
        value: json!({"keys": keys, "value": value}),
    })
}

/// Applies an edit aimed at a named field: replace (op 10), remove (11) or set it even where
/// it is missing (12).
fn apply_aimed(root: &mut Value, keys: &[Value], op: u8, value: &Value) {
    let Some((first, rest)) = keys.split_first() else {
        return;
    };
    let key = first.as_str().unwrap_or_default();
    match root {
        Value::Object(map) => {
            if rest.is_empty() {
                match op {
                    11 => {
                        map.remove(key);
                    }
                    12 => {
                        map.insert(key.to_string(), value.clone());
                    }
                    _ => {
                        if let Some(v) = map.get_mut(key) {
                            *v = value.clone();
                        }
                    }
                }
            } else if let Some(child) = map.get_mut(key) {
                apply_aimed(child, rest, op, value);
            }
        }
        Value::Array(items) => {
            let i = key.parse::<usize>().unwrap_or(0);
            if rest.is_empty() {
                match op {
                    11 if i < items.len() => {
                        items.remove(i);
                    }
                    11 => {}
                    _ if i < items.len() => items[i] = value.clone(),
                    _ => items.push(value.clone()),
                }
            } else if let Some(child) = items.get_mut(i) {
                apply_aimed(child, rest, op, value);
            }
        }
        _ => {}
    }
}

pub fn apply_json_edit(root: &mut Value, edit: &JsonEdit) {
    if edit.op >= 10 {
        let keys = edit.value["keys"].as_array().cloned().unwrap_or_default();
        apply_aimed(root, &keys, edit.op, &edit.value["value"]);
    } else {
        edit_at(root, &edit.path, edit);
    }
}

/// Follows `path` from `node`; at its end (or where it cannot go on) applies the edit.
fn edit_at(node: &mut Value, path: &[usize], edit: &JsonEdit) {
    if let Some((&step, rest)) = path.split_first() {
        let remove = rest.is_empty() && edit.op == 1;
        match node {
            Value::Object(map) if !map.is_empty() => {
                let key = map
                    .keys()
                    .nth(step % map.len())
                    .cloned()
                    .unwrap_or_default();
                if remove {
                    map.remove(&key);
                } else if let Some(child) = map.get_mut(&key) {
                    edit_at(child, rest, edit);
                }
                return;
            }
            Value::Array(items) if !items.is_empty() => {
                let i = step % items.len();
                if remove {
                    items.remove(i);
                } else {
                    edit_at(&mut items[i], rest, edit);
                }
                return;
            }
            _ => {}
        }
    }
    match (edit.op, node) {
        (2, Value::Object(map)) => {
            map.insert(format!("k{}", edit.path.len()), edit.value.clone());
        }
        (2, Value::Array(items)) => items.push(edit.value.clone()),
        (_, node) => *node = edit.value.clone(),
    }
}
