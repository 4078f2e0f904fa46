//! Tests of [`parse_bundle`](super::parse_bundle).

use serde_json::json;

use super::super::{Bundle, Limits, ManifestError, Problem, SourceFile};
use super::parse_bundle;

fn file(path: &str, text: &str) -> SourceFile {
    SourceFile {
        path: path.into(),
        contents: text.as_bytes().to_vec(),
    }
}

fn parse(files: &[SourceFile]) -> Result<Bundle, ManifestError> {
    parse_bundle(files, &Limits::default())
}

fn problems(files: &[SourceFile]) -> Vec<Problem> {
    match parse(files) {
        Ok(b) => panic!("expected problems, parsed {} resources", b.len()),
        Err(ManifestError::Invalid(p)) => p,
        Err(e) => panic!("unexpected error {e}"),
    }
}

fn lines(problems: &[Problem]) -> Vec<String> {
    problems
        .iter()
        .map(std::string::ToString::to_string)
        .collect()
}

const TWO_CONFIGMAPS: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
data: {}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: b
";

#[test]
fn multi_document_origins() {
    let b = parse(&[file("apps/cm.yaml", TWO_CONFIGMAPS)]).unwrap();
    assert_eq!(b.len(), 2);
    let r = &b.resources[1];
    assert_eq!(r.origin.to_string(), "apps/cm.yaml:7");
    assert_eq!((r.origin.document, r.origin.line), (1, 7));
    assert_eq!(b.resources[0].origin.line, 1);
    assert_eq!(r.key.to_string(), "ConfigMap b");
    assert_eq!(r.key.namespace, None);
    assert_eq!(r.wave, 2);
    assert_eq!(r.object["metadata"]["name"], "b");
}

#[test]
fn syntax_error_in_second_document_reports_the_file_line() {
    let text = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
data: {}
---
apiVersion: v1
kind: ConfigMap
 oops: 1
metadata:
  name: b
";
    let p = problems(&[file("a.yaml", text)]);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!((p[0].file.as_str(), p[0].line), ("a.yaml", 9), "{p:?}");
    // The message speaks in file lines too.
    assert!(!p[0].message.contains("line 3 "), "{p:?}");
}

#[test]
fn comment_only_and_empty_documents_are_skipped() {
    let text = "# leading comment\n---\n# just a comment\n---\n\n---\n~\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: logging\n---\n";
    let b = parse(&[file("ns.yaml", text)]).unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b.resources[0].origin.line, 9);
    assert_eq!(b.resources[0].origin.document, 3);
    assert!(
        parse(&[file("empty.yaml", ""), file("c.yaml", "# nothing\n")])
            .unwrap()
            .is_empty()
    );
}

#[test]
fn lists_are_expanded_with_the_list_origin() {
    let text = "\
# a list
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: a, namespace: x}
- apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: fluentd, namespace: logging}
";
    let b = parse(&[file("list.yaml", text)]).unwrap();
    let keys: Vec<String> = b.resources.iter().map(|r| r.key.to_string()).collect();
    assert_eq!(keys, ["ConfigMap x/a", "DaemonSet logging/fluentd"]);
    assert!(b.resources.iter().all(|r| r.origin.line == 2));
    assert_eq!(b.resources[1].key.group, "apps");

    let typed = "apiVersion: v1\nkind: ConfigMapList\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: c}}\n";
    assert_eq!(parse(&[file("l.yaml", typed)]).unwrap().len(), 1);
}

#[test]
fn list_item_problems_name_the_item() {
    let text = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- {apiVersion: v1, metadata: {name: b}}\n- 5\n";
    let p = lines(&problems(&[file("l.yaml", text)]));
    assert_eq!(
        p,
        [
            "l.yaml:1: items[1]: missing kind",
            "l.yaml:1: items[2]: expected a mapping (a Kubernetes object), found a number"
        ]
    );
    let p = lines(&problems(&[file(
        "l.yaml",
        "apiVersion: v1\nkind: List\nitems: {}\n",
    )]));
    assert_eq!(p, ["l.yaml:1: List needs an `items` list, found a mapping"]);
}

#[test]
fn missing_and_bad_fields_are_named() {
    let files = [
        file("a.yaml", "kind: ConfigMap\nmetadata: {name: a}\n"),
        file("b.yaml", "apiVersion: v1\nmetadata: {name: a}\n"),
        file("c.yaml", "apiVersion: v1\nkind: ConfigMap\n"),
        file(
            "d.yaml",
            "apiVersion: batch/v1\nkind: Job\nmetadata: {generateName: run-}\n",
        ),
        file(
            "e.yaml",
            "apiVersion: v1\nkind: \"\"\nmetadata: {name: 5}\n",
        ),
        file("f.yaml", "- a\n- b\n"),
        file(
            "g.yaml",
            "apiVersion: a/b/c\nkind: X\nmetadata: {name: x}\n",
        ),
        file(
            "h.yaml",
            "apiVersion: 1\nkind: X\nmetadata: {name: x, namespace: [a]}\n",
        ),
        file("i.yaml", "just a string\n"),
    ];
    let p = lines(&problems(&files));
    assert_eq!(
        p,
        [
            "a.yaml:1: missing apiVersion",
            "b.yaml:1: missing kind",
            "c.yaml:1: missing metadata.name",
            "d.yaml:1: metadata.generateName is not supported: ferry needs a fixed metadata.name to track the object",
            "e.yaml:1: kind is empty",
            "e.yaml:1: metadata.name must be a string, found a number",
            "f.yaml:1: expected a mapping (a Kubernetes object), found a list",
            "g.yaml:1: apiVersion \"a/b/c\" is not `version` or `group/version`",
            "h.yaml:1: apiVersion must be a string, found a number",
            "h.yaml:1: metadata.namespace must be a string, found a list",
            "i.yaml:1: expected a mapping (a Kubernetes object), found a string",
        ]
    );
}

const DS: &str =
    "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: fluentd\n  namespace: logging\n";

#[test]
fn duplicates_across_and_within_files() {
    let a = format!("# fluentd\n\n{DS}");
    let b = format!("{DS}---\n{DS}");
    let p = lines(&problems(&[file("a.yaml", &a), file("b.yaml", &b)]));
    assert_eq!(
        p,
        [
            "b.yaml:1: duplicate of DaemonSet logging/fluentd first defined at a.yaml:3",
            "b.yaml:7: duplicate of DaemonSet logging/fluentd first defined at a.yaml:3",
        ]
    );
    // Another version of the same group and kind is the same object.
    let v1beta = DS.replace("apps/v1", "apps/v1beta2");
    assert_eq!(
        problems(&[file("a.yaml", DS), file("b.yaml", &v1beta)]).len(),
        1
    );
    // Another namespace, group or kind is another object.
    let other_ns = DS.replace("logging", "other");
    let other_group = DS.replace("apps/v1", "example.com/v1");
    let other_kind = DS.replace("DaemonSet", "StatefulSet");
    let ok = [DS, &other_ns, &other_group, &other_kind].map(|t| file("x.yaml", t));
    assert_eq!(parse(&ok).unwrap().len(), 4);
}

#[test]
fn all_problems_of_all_files_are_collected() {
    let limits = Limits {
        max_file_bytes: 100,
        ..Limits::default()
    };
    let big = format!("# {}\n", "x".repeat(200));
    let files = [
        file("big.yaml", &big),
        file("bad.yaml", "kind: X\n"),
        file("binary.yaml", ""),
        file(
            "good.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n",
        ),
    ];
    let mut files = files.to_vec();
    files[2].contents = b"a: 1\nb: \xff\xfe\n".to_vec();
    let err = parse_bundle(&files, &limits).unwrap_err();
    let text = err.to_string();
    assert_eq!(
        text,
        "4 problem(s) in manifests:\n\
         big.yaml: file is 203 bytes, over the limit of 100\n\
         bad.yaml:1: missing apiVersion\n\
         bad.yaml:1: missing metadata.name\n\
         binary.yaml:2: file is not valid UTF-8 (byte 8)"
    );
}

#[test]
fn billion_laughs_is_a_problem_not_a_hang() {
    let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\nx:\n  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for (prev, name) in "abcdefgh".chars().zip("bcdefghi".chars()) {
        let refs = vec![format!("*{prev}"); 9].join(",");
        text.push_str(&format!("  {name}: &{name} [{refs}]\n"));
    }
    let ok = file(
        "ok.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n",
    );
    let p = problems(&[file("bomb.yaml", &text), ok]);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].file, "bomb.yaml");
    assert!(p[0].message.contains("billion laughs"), "{p:?}");
}

#[test]
fn document_and_resource_limits() {
    let limits = Limits {
        max_documents_per_file: 2,
        ..Limits::default()
    };
    let three = format!("{TWO_CONFIGMAPS}---\n# third\n");
    let p = parse_bundle(&[file("m.yaml", &three)], &limits).unwrap_err();
    assert_eq!(
        lines(p.problems()),
        ["m.yaml:11: more than 2 YAML documents in one file"]
    );

    let limits = Limits {
        max_resources: 1,
        ..Limits::default()
    };
    let p = parse_bundle(
        &[file("m.yaml", TWO_CONFIGMAPS), file("n.yaml", DS)],
        &limits,
    )
    .unwrap_err();
    assert_eq!(
        lines(p.problems()),
        ["m.yaml:7: more than 1 resources in the manifests"]
    );
}

#[test]
fn object_size_limit() {
    // Measured as JSON, per object (each item of a List on its own).
    let cm = |name: &str, n: usize| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{k: {}}}\n",
            "x".repeat(n)
        )
    };
    let limits = Limits {
        max_object_bytes: 200,
        ..Limits::default()
    };
    let text = format!("{}---\n{}", cm("small", 10), cm("large", 300));
    let p = parse_bundle(&[file("m.yaml", &text)], &limits).unwrap_err();
    let found = lines(p.problems());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("m.yaml:6: ConfigMap large is 382 bytes"),
        "{found:?}"
    );
    assert!(
        found[0].contains("over the limit of 200 bytes: etcd"),
        "{found:?}"
    );
    assert!(parse_bundle(&[file("m.yaml", &cm("small", 10))], &limits).is_ok());
}

#[test]
fn wave_annotation() {
    let with = |v: &str| {
        format!("apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: a\n  annotations:\n    ferry.dev/wave: {v}\n")
    };
    let b = parse(&[file("a.yaml", &with("\"-2\""))]).unwrap();
    assert_eq!(b.resources[0].wave, -2);
    let b = parse(&[file("a.yaml", DS)]).unwrap();
    assert_eq!(b.resources[0].wave, 3);
    let p = lines(&problems(&[
        file("a.yaml", &format!("---\n{}", with("soon"))),
        file("b.yaml", &with("5")),
        file("c.yaml", &with("\"99999999999\"")),
    ]));
    assert_eq!(
        p,
        [
            "a.yaml:2: annotation ferry.dev/wave: \"soon\" is not a whole number (32-bit)",
            "b.yaml:1: annotation ferry.dev/wave must be a string: write \"5\" in quotes",
            "c.yaml:1: annotation ferry.dev/wave: \"99999999999\" is not a whole number (32-bit)",
        ]
    );
}

#[test]
fn yaml_features_kubectl_users_rely_on() {
    let text = "\
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: fluentd, namespace: logging}
spec:
  template:
    spec:
      containers:
      - &c {name: a, image: busybox}
      - <<: *c
        name: b
      volumes:
      - name: config
        configMap: {name: fluentd, defaultMode: 0644}
";
    let b = parse(&[file("ds.yaml", text)]).unwrap();
    let spec = &b.resources[0].object["spec"]["template"]["spec"];
    assert_eq!(
        spec["containers"][1],
        json!({"name": "b", "image": "busybox"})
    );
    assert_eq!(spec["volumes"][0]["configMap"]["defaultMode"], json!(420));
}

#[test]
fn duplicate_keys_are_problems() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  k: 1\n  k: 2\n";
    let p = problems(&[file("a.yaml", text)]);
    assert_eq!(p[0].line, 6, "{p:?}");
    assert!(p[0].message.contains("duplicate key `k`"), "{p:?}");
}
