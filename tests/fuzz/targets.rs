//! Property-based fuzz targets shared by the short run in the test suite (`tests/fuzz.rs`) and
//! the long, timed run (`benches/fuzz.rs`): the manifest loader (`parse_bundle`, through it the
//! YAML splitter and document parser, then `resolve`) and the webhook payload parsers of every
//! forge (reached through `verify_and_parse` with a valid signature, so the parsers, not the
//! signature check, see the bytes), plus the repository-URL and path matching a push goes
//! through. Inputs are arbitrary bytes, YAML/JSON token soup, and structured mutations of
//! valid manifests and payloads. A property fails by panicking: ferry's code may reject any
//! input, never panic on it, and every problem it reports must point into the input.
// Each includer uses a different part of this module.
#![allow(dead_code)]

use std::collections::HashMap;

use ferry::manifest::{parse_bundle, resolve, Limits, ObjectKey, Scope, SourceFile};
use ferry::trigger::{
    normalize_repo_url, same_repo, touches_path, verify_and_parse, Forge, WebhookError,
    WebhookEvent,
};
use hmac::{Hmac, Mac};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value};
use sha2::Sha256;

// ---------------------------------------------------------------------------------------------
// Manifest loader
// ---------------------------------------------------------------------------------------------

/// Valid manifests the mutations start from: comments, several documents, CRLF, a BOM, flow
/// and block style, anchors and merge keys, a `List`, a CRD with its custom resource, waves.
pub const MANIFESTS: &[&str] = &[
    "# a DaemonSet\napiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: agent\n  annotations:\n    ferry.dev/wave: \"2\"\nspec:\n  selector:\n    matchLabels: {app: agent}\n  template:\n    metadata:\n      labels: {app: agent}\n    spec:\n      containers:\n      - name: agent\n        image: nginx:1.27\n        resources:\n          requests: {cpu: 0.5, memory: 1000M}\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: apps\ndata:\n  key: \"1\"\n  multi: |\n    line one\n    line two\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {password: x}\n...\n---\n# only a comment\n",
    "\u{feff}apiVersion: v1\r\nkind: List\r\nitems:\r\n- apiVersion: v1\r\n  kind: ConfigMap\r\n  metadata: {name: l1}\r\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: l2}}\r\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: anchored, labels: &l {a: b}, annotations: *l}\ndefaults: &d {x: \"1\"}\ndata: {<<: *d, y: \"2\"}\n",
    "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\nspec:\n  group: example.com\n  scope: Namespaced\n  names: {kind: Widget, plural: widgets}\n  versions:\n  - {name: v1, served: true, storage: true}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
    "%YAML 1.2\n---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: m, image: busybox, command: [\"sh\", \"-c\", \"echo 'a: b'\"]}]\n      volumes: [{name: v, configMap: {name: c, defaultMode: 0644}}]\n",
    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: logging\n--- # second\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules: []\n",
];

/// Pieces that matter to YAML and to the splitter; mutations insert them anywhere.
pub const YAML_TOKENS: &[&str] = &[
    "---",
    "--- ",
    "...",
    "\n---\n",
    "\n...\n",
    ": ",
    ":",
    "- ",
    "-",
    "\t",
    "  ",
    "\n",
    "\r\n",
    "\r",
    "#",
    "&a ",
    "*a",
    "&b ",
    "*b",
    "<<: ",
    "<<: *a",
    "!tag ",
    "!!str ",
    "!!binary ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "\"",
    "'",
    "|",
    ">",
    "|-",
    ">+",
    "%YAML 1.2\n",
    "%TAG ! x\n",
    "? ",
    "\u{feff}",
    "\0",
    "\u{85}",
    "\u{2028}",
    "~",
    "null",
    ".nan",
    ".inf",
    "0x1F",
    "0o17",
    "1e400",
    "99999999999999999999999",
    "-0",
    "true",
    "yes",
    "kind: List\n",
    "items:\n",
    "kind: ",
    "apiVersion: ",
    "metadata:\n  name: x\n",
    "namespace: ",
    "name: ",
    "ferry.dev/wave: ",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: t}\n",
    "é",
    "\u{10FFFF}",
    "\\u0000",
];

/// One edit of a text; `at` and `len` are reduced modulo the text's length.
#[derive(Debug, Clone)]
pub enum Edit {
    /// Insert a token.
    Insert { at: usize, token: &'static str },
    /// Remove `len` bytes.
    Delete { at: usize, len: usize },
    /// Overwrite one byte.
    Byte { at: usize, byte: u8 },
    /// Repeat a range right after itself.
    Duplicate { at: usize, len: usize },
    /// Cut the text short.
    Truncate { at: usize },
    /// Swap two lines.
    SwapLines { a: usize, b: usize },
}

fn edit_strategy(tokens: &'static [&'static str]) -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<usize>(), select(tokens)).prop_map(|(at, token)| Edit::Insert { at, token }),
        2 => (any::<usize>(), 1..40usize).prop_map(|(at, len)| Edit::Delete { at, len }),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::Byte { at, byte }),
        1 => (any::<usize>(), 1..80usize).prop_map(|(at, len)| Edit::Duplicate { at, len }),
        1 => any::<usize>().prop_map(|at| Edit::Truncate { at }),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines { a, b }),
    ]
}

/// Applies the edits to `base` (byte-level: the result may not be UTF-8).
pub fn apply_edits(base: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut b = base.to_vec();
    for e in edits {
        let n = b.len();
        let pos = |at: usize| if n == 0 { 0 } else { at % (n + 1) };
        match e {
            Edit::Insert { at, token } => {
                let at = pos(*at);
                b.splice(at..at, token.bytes());
            }
            Edit::Delete { at, len } => {
                let at = pos(*at);
                let end = (at + len).min(n);
                b.drain(at..end);
            }
            Edit::Byte { at, byte } if n > 0 => b[at % n] = *byte,
            Edit::Byte { .. } => {}
            Edit::Duplicate { at, len } => {
                let at = pos(*at);
                let end = (at + len).min(n);
                let piece = b[at..end].to_vec();
                b.splice(end..end, piece);
            }
            Edit::Truncate { at } => b.truncate(pos(*at)),
            Edit::SwapLines { a, b: other } => {
                let mut lines: Vec<Vec<u8>> =
                    b.split(|&c| c == b'\n').map(<[u8]>::to_vec).collect();
                let l = lines.len();
                lines.swap(a % l, other % l);
                b = lines.join(&b'\n');
            }
        }
    }
    b
}

fn manifest_path() -> impl Strategy<Value = String> {
    select(
        &[
            "a.yaml",
            "apps/b.yml",
            "deep/er/c.yaml",
            "d é.yaml",
            "e.yaml",
        ][..],
    )
    .prop_map(str::to_string)
}

/// A file of arbitrary bytes.
fn random_bytes_file() -> impl Strategy<Value = SourceFile> {
    (manifest_path(), prop::collection::vec(any::<u8>(), 0..1024))
        .prop_map(|(path, contents)| SourceFile { path, contents })
}

/// A file of YAML tokens and arbitrary characters.
fn token_soup_file() -> impl Strategy<Value = SourceFile> {
    let piece = prop_oneof![
        3 => select(YAML_TOKENS).prop_map(str::to_string),
        1 => any::<char>().prop_map(|c| c.to_string()),
        1 => "[a-zA-Z0-9 ./-]{1,8}",
    ];
    (manifest_path(), prop::collection::vec(piece, 0..120)).prop_map(|(path, pieces)| SourceFile {
        path,
        contents: pieces.concat().into_bytes(),
    })
}

/// A valid manifest with a few edits.
fn mutated_manifest_file() -> impl Strategy<Value = SourceFile> {
    (
        manifest_path(),
        0..MANIFESTS.len(),
        prop::collection::vec(edit_strategy(YAML_TOKENS), 0..6),
    )
        .prop_map(|(path, i, edits)| SourceFile {
            path,
            contents: apply_edits(MANIFESTS[i].as_bytes(), &edits),
        })
}

/// One to four files, each arbitrary bytes, token soup or a mutated valid manifest.
pub fn manifest_files() -> impl Strategy<Value = (Vec<SourceFile>, bool)> {
    let file = prop_oneof![
        1 => random_bytes_file(),
        2 => token_soup_file(),
        4 => mutated_manifest_file(),
    ];
    (prop::collection::vec(file, 1..4), any::<bool>()).prop_map(|(mut files, tight)| {
        // Paths in one commit are unique.
        for (i, f) in files.iter_mut().enumerate().skip(1) {
            f.path = format!("{i}/{}", f.path);
        }
        (files, tight)
    })
}

/// Small limits, so the limit paths are exercised too.
fn tight_limits() -> Limits {
    Limits {
        max_file_bytes: 700,
        max_documents_per_file: 3,
        max_resources: 4,
        max_alias_expansion: 2,
    }
}

/// Scopes as a discovery answer might give them, decided by the key (some kinds unknown).
fn fake_scope(key: &ObjectKey) -> Option<Scope> {
    match (key.kind.as_str(), key.kind.len() % 3) {
        ("Namespace" | "ClusterRole" | "CustomResourceDefinition", _) => Some(Scope::Cluster),
        ("ConfigMap" | "Secret" | "DaemonSet" | "Job", _) => Some(Scope::Namespaced),
        (_, 0) => None,
        (_, 1) => Some(Scope::Namespaced),
        _ => Some(Scope::Cluster),
    }
}

/// Lines of a text as YAML counts them (`\n`, `\r\n`, lone `\r`, NEL, LS, PS), plus one.
fn yaml_lines(contents: &[u8]) -> usize {
    let text = String::from_utf8_lossy(contents);
    let mut n = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\u{85}' | '\u{2028}' | '\u{2029}' => n += 1,
            '\r' if chars.peek() != Some(&'\n') => n += 1,
            _ => {}
        }
    }
    n
}

/// The manifest loader's property: `parse_bundle` then `resolve` never panic; every problem
/// names one of the input files and a line inside it (0 = the whole file); every resource's
/// origin is a line of its file; an error is always the "invalid manifests" list.
pub fn manifest_property(files: &[SourceFile], tight: bool) {
    let limits = if tight {
        tight_limits()
    } else {
        Limits::default()
    };
    let lines: HashMap<&str, usize> = files
        .iter()
        .map(|f| (f.path.as_str(), yaml_lines(&f.contents)))
        .collect();
    let check_problems = |err: &ferry::manifest::ManifestError| {
        let problems = err.problems();
        assert!(
            !problems.is_empty(),
            "an error with no problem listed: {err}"
        );
        for p in problems {
            let max = lines.get(p.file.as_str()).copied();
            assert!(max.is_some(), "problem names a file not in the input: {p}");
            assert!(
                p.line <= max.unwrap_or(0),
                "problem line past the end of its file ({} lines): {p}",
                max.unwrap_or(0)
            );
            assert!(!p.message.is_empty(), "problem without a message at {p}");
            let _ = p.to_string();
        }
        let _ = err.to_string();
    };
    let bundle = match parse_bundle(files, &limits) {
        Ok(bundle) => bundle,
        Err(err) => {
            check_problems(&err);
            return;
        }
    };
    for r in &bundle.resources {
        let max = lines.get(r.origin.file.as_str()).copied().unwrap_or(0);
        assert!(
            r.origin.line >= 1 && r.origin.line <= max,
            "origin {} outside its file ({max} lines)",
            r.origin
        );
        assert!(!r.key.name.is_empty() && !r.key.kind.is_empty() && !r.key.version.is_empty());
    }
    let waves = bundle.waves();
    assert_eq!(
        waves.iter().map(|(_, rs)| rs.len()).sum::<usize>(),
        bundle.len()
    );
    for default_ns in ["", "apps"] {
        match resolve(bundle.clone(), &fake_scope, default_ns) {
            Ok(resolved) => {
                for r in &resolved.resources {
                    let ns = r.object["metadata"]["namespace"].as_str();
                    assert_eq!(ns, r.key.namespace.as_deref(), "{}", r.key);
                }
            }
            Err(err) => check_problems(&err),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Webhook payloads
// ---------------------------------------------------------------------------------------------

/// The shared secret the fuzzed deliveries are signed with.
pub const SECRET: &[u8] = b"fuzz-secret";

const SHA: &str = "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d";
const ZERO: &str = "0000000000000000000000000000000000000000";

/// Valid push payloads, one per shape: GitHub, Gitea/Forgejo, GitLab, Bitbucket, generic.
pub fn payloads() -> Vec<(Forge, Value)> {
    let commits = json!([
        {"id": SHA, "added": ["apps/a.yaml"], "modified": ["apps/b.yaml"], "removed": []},
        {"id": SHA, "added": [], "modified": ["README.md"], "removed": ["old.yaml"]}
    ]);
    vec![
        (
            Forge::GitHub,
            json!({
                "ref": "refs/heads/main", "before": SHA, "after": SHA, "created": false,
                "deleted": false, "forced": false, "commits": commits,
                "repository": {"clone_url": "https://github.com/org/repo.git",
                    "ssh_url": "git@github.com:org/repo.git", "html_url": "https://github.com/org/repo",
                    "git_url": "git://github.com/org/repo.git"}
            }),
        ),
        (
            Forge::Gitea,
            json!({
                "ref": "refs/heads/main", "before": ZERO, "after": SHA, "total_commits": 2,
                "commits": commits,
                "repository": {"clone_url": "https://gitea.example/org/repo.git",
                    "ssh_url": "ssh://git@gitea.example:2222/org/repo.git"}
            }),
        ),
        (
            Forge::GitLab,
            json!({
                "object_kind": "push", "ref": "refs/tags/v1", "before": SHA, "after": ZERO,
                "total_commits_count": 2, "commits": commits,
                "project": {"git_http_url": "http://example.com/mike/diaspora.git",
                    "git_ssh_url": "git@example.com:mike/diaspora.git"},
                "repository": {"url": "git@example.com:mike/diaspora.git", "homepage": "http://example.com/mike/diaspora"}
            }),
        ),
        (
            Forge::Bitbucket,
            json!({
                "repository": {"full_name": "team/repo", "links": {"html": {"href": "https://bitbucket.org/team/repo"}}},
                "push": {"changes": [
                    {"new": {"type": "branch", "name": "main", "target": {"hash": SHA}},
                     "old": {"type": "branch", "name": "main"}, "closed": false},
                    {"new": null, "old": {"type": "tag", "name": "v1"}, "closed": true}
                ]}
            }),
        ),
        (
            Forge::Generic,
            json!({"repository": "https://git.example/org/repo", "ref": "main", "after": SHA,
                   "changedFiles": ["apps/a.yaml", "x"]}),
        ),
    ]
}

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

fn json_edit() -> impl Strategy<Value = JsonEdit> {
    let random = (
        prop::collection::vec(any::<usize>(), 0..5),
        0..3u8,
        json_value(),
    )
        .prop_map(|(path, op, value)| JsonEdit { path, op, value });
    prop_oneof![random, aimed_edit()]
}

/// An edit of one field the parsers read, mostly to a scalar.
fn aimed_edit() -> impl Strategy<Value = JsonEdit> {
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

fn apply_json_edit(root: &mut Value, edit: &JsonEdit) {
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

/// A delivery: which forge, its event header, the body, and strings to match it against.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub forge: Forge,
    pub event: String,
    pub body: Vec<u8>,
    pub signature: Option<String>,
    pub probe_url: String,
    pub probe_path: String,
}

fn event_for(forge: Forge) -> &'static [&'static str] {
    match forge {
        Forge::GitHub | Forge::Gitea | Forge::Forgejo => &["push", "ping", "pull_request", ""],
        Forge::GitLab => &[
            "Push Hook",
            "Tag Push Hook",
            "System Hook",
            "push hook",
            "Note Hook",
        ],
        Forge::Bitbucket => &["repo:push", "diagnostics:ping", "pullrequest:created"],
        Forge::Generic => &["push", "ping", "other"],
    }
}

/// Deliveries: arbitrary bytes, byte-edited or JSON-edited valid payloads, for every forge;
/// mostly correctly signed, sometimes with an arbitrary signature header.
pub fn deliveries() -> impl Strategy<Value = Delivery> {
    let all = payloads();
    let n = all.len();
    let body = prop_oneof![
        1 => (0..n, prop::collection::vec(any::<u8>(), 0..512)).prop_map(|(i, b)| (i, b)),
        2 => (0..n, prop::collection::vec(edit_strategy(JSON_TOKENS), 0..5)).prop_map(move |(i, edits)| {
            let base = serde_json::to_vec(&payloads()[i].1).unwrap_or_default();
            (i, apply_edits(&base, &edits))
        }),
        2 => (0..n, prop::collection::vec(json_edit(), 1..5)).prop_map(move |(i, edits)| {
            let mut v = payloads()[i].1.clone();
            for e in &edits {
                apply_json_edit(&mut v, e);
            }
            (i, serde_json::to_vec(&v).unwrap_or_default())
        }),
        4 => (0..n, prop::collection::vec(aimed_edit(), 1..4)).prop_map(move |(i, edits)| {
            let mut v = payloads()[i].1.clone();
            for e in &edits {
                apply_json_edit(&mut v, e);
            }
            (i, serde_json::to_vec(&v).unwrap_or_default())
        }),
    ];
    (
        body,
        any::<bool>(),
        any::<usize>(),
        prop::option::weighted(0.1, ".{0,80}"),
        select(
            &[
                "https://github.com/org/repo",
                "git@example.com:mike/diaspora.git",
                "",
                "file:///x",
                ":",
                "é",
            ][..],
        ),
        prop_oneof![
            select(&["", ".", "apps", "/apps/", "x/../apps"][..]).prop_map(str::to_string),
            ".{0,12}"
        ],
    )
        .prop_map(
            move |((i, body), forgejo, e, signature, probe_url, probe_path)| {
                // Gitea payloads go to Forgejo half the time: same shape, other headers.
                let forge = match all[i].0 {
                    Forge::Gitea if forgejo => Forge::Forgejo,
                    f => f,
                };
                let events = event_for(forge);
                Delivery {
                    forge,
                    // The push event (listed first) most of the time.
                    event: events[(e % (events.len() + 4)).saturating_sub(4)].to_string(),
                    body,
                    signature,
                    probe_url: probe_url.to_string(),
                    probe_path,
                }
            },
        )
}

/// Pieces that matter to JSON.
pub const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\\",
    "\\u",
    "\\ud800",
    "null",
    "true",
    "1e999",
    "-",
    "0000000000000000000000000000000000000000",
    "\"ref\":",
    "\"commits\":[",
    "\u{0}",
    "é",
    "\"refs/heads/",
    " ",
];

fn hmac_hex(body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(SECRET) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The headers a forge sends for `event`, signed over `body` (or with `signature` as given).
pub fn headers_for(d: &Delivery) -> HashMap<String, String> {
    let sig = hmac_hex(&d.body);
    let mut h = HashMap::new();
    let mut set = |k: &str, v: String| {
        h.insert(k.to_string(), v);
    };
    let given = d.signature.clone();
    match d.forge {
        Forge::GitHub => {
            set("x-github-event", d.event.clone());
            set(
                "x-hub-signature-256",
                given.unwrap_or(format!("sha256={sig}")),
            );
        }
        Forge::Gitea => {
            set("x-gitea-event", d.event.clone());
            set("x-gitea-signature", given.unwrap_or(sig));
        }
        Forge::Forgejo => {
            set("x-forgejo-event", d.event.clone());
            set("x-forgejo-signature", given.unwrap_or(sig));
        }
        Forge::GitLab => {
            set("x-gitlab-event", d.event.clone());
            let token = String::from_utf8_lossy(SECRET).to_string();
            set("x-gitlab-token", given.unwrap_or(token));
        }
        Forge::Bitbucket => {
            set("x-event-key", d.event.clone());
            set("x-hub-signature", given.unwrap_or(format!("sha256={sig}")));
        }
        Forge::Generic => {
            set("x-ferry-event", d.event.clone());
            set(
                "x-ferry-signature",
                given.unwrap_or(format!("SHA256={sig}")),
            );
        }
    }
    h
}

/// The webhook property: `verify_and_parse` never panics; a correctly signed delivery is never
/// refused for its signature; a parsed push is usable (a ref, at least one URL, no new commit
/// when deleted) and matching it against URLs and paths never panics.
pub fn webhook_property(d: &Delivery) {
    let headers = headers_for(d);
    let result = verify_and_parse(d.forge, &headers, &d.body, SECRET);
    if d.signature.is_none() && !d.event.is_empty() {
        assert!(
            !matches!(
                result,
                Err(WebhookError::BadSignature | WebhookError::MissingSignature)
            ),
            "a correctly signed delivery was refused: {result:?}"
        );
    }
    match result {
        Ok(WebhookEvent::Push(push)) => {
            assert!(!push.repo_urls.is_empty(), "push without a URL: {push:?}");
            assert!(!push.git_ref.is_empty(), "push without a ref: {push:?}");
            assert!(!(push.deleted && push.after.is_some()), "{push:?}");
            let _ = push.matches_repo(&d.probe_url);
            let _ = push.touches(&d.probe_path);
            let _ = (push.branch(), push.tag());
            for url in &push.repo_urls {
                let _ = normalize_repo_url(url);
            }
        }
        Ok(_) => {}
        Err(e) => {
            let status = e.http_status();
            assert!(status == 400 || status == 401, "{e}: {status}");
            let text = e.to_string();
            let secret = String::from_utf8_lossy(SECRET);
            assert!(!text.contains(secret.as_ref()), "the secret leaked: {text}");
        }
    }
}

/// URL and path matching on arbitrary strings: never panics; a URL that normalises matches
/// itself.
pub fn url_property(a: &str, b: &str, files: &[String]) {
    let na = normalize_repo_url(a);
    let _ = normalize_repo_url(b);
    let _ = same_repo(a, b);
    if na.is_some() {
        assert!(
            same_repo(a, a),
            "{a:?} normalises to {na:?} but does not match itself"
        );
    }
    let _ = touches_path(files, a);
    let _ = touches_path(files, b);
}

/// Strings for [`url_property`]: arbitrary, or URL-shaped pieces glued together.
pub fn url_strings() -> impl Strategy<Value = (String, String, Vec<String>)> {
    let piece = select(
        &[
            "https://",
            "ssh://",
            "git@",
            "file://",
            "http://",
            "git+ssh://",
            ":",
            "/",
            "//",
            ".",
            "..",
            ".git",
            "github.com",
            "Org",
            "repo",
            "@",
            "?",
            "#",
            ":22",
            "user:tok@",
            "~",
            "é",
            "C:",
            "\\",
            " ",
            "localhost",
        ][..],
    );
    let url = prop_oneof![
        ".{0,40}",
        prop::collection::vec(piece, 0..10).prop_map(|p| p.concat()),
    ];
    (url.clone(), url.clone(), prop::collection::vec(url, 0..4))
}
