//! Fuzz target: the manifest loader. `parse_bundle` (through it the YAML splitter and the
//! document parser), `Bundle::waves` and `resolve` on arbitrary bytes, YAML token soup and
//! edits of valid manifests. The property: no panic; every problem names an input file and a
//! line inside it; every resource's origin lies inside its file.
// Each includer uses a different part of this module.
#![allow(dead_code)]

use std::collections::HashMap;

use ferry::manifest::{parse_bundle, resolve, Limits, ObjectKey, Scope, SourceFile};
use proptest::prelude::*;
use proptest::sample::select;

use super::edits::{apply_edits, edit_strategy};

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
        max_object_bytes: 400,
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
