//! Malformed commits ferry's reader refuses before asking the cluster: YAML syntax, tabs,
//! duplicate keys, encodings, aliases and tags; fields ferry needs; duplicate objects.

use super::cases::{case, cm, ds, text, Case};

/// YAML the reader refuses.
pub fn syntax() -> Vec<Case> {
    let billion = {
        let mut s = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\nx0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for i in 1..10 {
            let p = i - 1;
            s.push_str(&format!(
                "x{i}: &a{i} [*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p},*a{p}]\n"
            ));
        }
        s
    };
    let deep = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata:\n  x: {}{}\n",
        "[".repeat(300),
        "]".repeat(300)
    );
    vec![
        case("unclosed flow sequence", "bad.yaml", cm("bad", "  key: [unclosed\n"), &["bad.yaml:6", "expected ',' or ']'"]),
        case("unclosed quote", "bad.yaml", cm("bad", "  key: \"abc\n  other: x\n"), &["bad.yaml:6", "quoted scalar at line 6"]),
        case(
            "bad indentation",
            "bad.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n    extra: x\n",
            &["bad.yaml:5", "mapping values are not allowed"],
        ),
        case(
            "tab indentation",
            "bad.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: bad\n",
            &["bad.yaml:4", "indented with a tab"],
        ),
        case(
            "tab before a list item",
            "bad.yaml",
            ds("tabbed", "  selector: {matchLabels: {app: t}}\n", "{app: t}", "        image: nginx\n\t- name: second\n"),
            &["bad.yaml:14", "indented with a tab"],
        ),
        case(
            "duplicate key",
            "bad.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  name: worse\n",
            &["bad.yaml:5", "duplicate key `name`"],
        ),
        case(
            "duplicate top-level key",
            "bad.yaml",
            "apiVersion: v1\nkind: ConfigMap\nkind: Secret\nmetadata:\n  name: bad\n",
            &["bad.yaml:3", "duplicate key `kind`"],
        ),
        case(
            "duplicate key in data",
            "bad.yaml",
            cm("bad", "  a: \"1\"\n  b: \"2\"\n  a: \"3\"\n"),
            &["bad.yaml:8", "duplicate key `a`"],
        ),
        case("custom tag", "bad.yaml", cm("bad", "  key: !vault secret/x\n"), &["bad.yaml:6", "tag"]),
        case("undefined alias", "bad.yaml", cm("bad", "  key: *nowhere\n"), &["bad.yaml:6", "unknown anchor"]),
        case("billion laughs", "bad.yaml", billion, &["bad.yaml:", "billion laughs"]),
        case("nested too deeply", "bad.yaml", deep, &["bad.yaml:6", "nested too deeply"]),
        case("bad merge key", "bad.yaml", cm("bad", "  <<: 5\n  key: x\n"), &["bad.yaml:", "merge key"]),
        case("NaN value", "bad.yaml", cm("bad", "  key: .nan\n"), &["bad.yaml:6", "JSON"]),
        case(
            "integer past 64 bits",
            "bad.yaml",
            cm("bad", "  key: 123456789012345678901234567890\n"),
            &["bad.yaml:6"],
        ),
        case(
            "control character",
            "bad.yaml",
            cm("bad", "  key: \"a\u{1}b\"\n"),
            &["bad.yaml:6", "control characters"],
        ),
        case(
            "NUL byte",
            "bad.yaml",
            cm("bad", "  a: b\n  nul: a\u{0}b\n"),
            &["bad.yaml:7", "control characters"],
        ),
        case("a scalar document", "bad.yaml", "just some words\n", &["bad.yaml:1", "expected a mapping"]),
        case("a list document", "bad.yaml", "- a\n- b\n", &["bad.yaml:1", "found a list"]),
        case(
            "complex mapping key",
            "bad.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  ? [a, b]\n  : c\n",
            &["bad.yaml:6"],
        ),
        case(
            "error in the third document",
            "bad.yaml",
            format!("{}---\n{}---\n# third\n{}", cm("d1", "  k: a\n"), cm("d2", "  k: b\n"), cm("d3", "  k: [c\n")),
            &["bad.yaml:21", "flow sequence at line 21"],
        ),
        case(
            "content on the marker line",
            "bad.yaml",
            format!("{}--- [unclosed\n", cm("m1", "  k: a\n")),
            &["bad.yaml:7"],
        ),
        case(
            "CRLF line endings",
            "bad.yaml",
            "apiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: crlf\r\ndata:\r\n\tkey: x\r\n",
            &["bad.yaml:6", "indented with a tab"],
        ),
        case(
            "byte-order mark then an error",
            "bad.yaml",
            format!("\u{feff}{}", cm("bom", "  key: [x\n")),
            &["bad.yaml:6"],
        ),
        case(
            "a second document without a marker",
            "bad.yaml",
            format!("{}{}", cm("first", "  k: a\n"), "apiVersion: v1\n"),
            &["bad.yaml:7", "duplicate key `apiVersion`"],
        ),
    ]
}

/// Well-formed YAML that is not a Kubernetes object ferry can track.
pub fn fields() -> Vec<Case> {
    vec![
        case("missing apiVersion", "bad.yaml", "kind: ConfigMap\nmetadata:\n  name: bad\n", &["bad.yaml:1", "missing apiVersion"]),
        case(
            "missing kind",
            "bad.yaml",
            format!("{}---\napiVersion: v1\nmetadata:\n  name: nokind\n", cm("first", "  k: a\n")),
            &["bad.yaml:8", "missing kind"],
        ),
        case("empty kind", "bad.yaml", "apiVersion: v1\nkind: \"\"\nmetadata:\n  name: bad\n", &["bad.yaml:1", "kind is empty"]),
        case("kind is a list", "bad.yaml", "apiVersion: v1\nkind: [ConfigMap]\nmetadata:\n  name: bad\n", &["bad.yaml:1", "kind must be a string"]),
        case(
            "apiVersion with two slashes",
            "bad.yaml",
            "apiVersion: apps/v1/beta\nkind: DaemonSet\nmetadata:\n  name: bad\n",
            &["bad.yaml:1", "apiVersion \"apps/v1/beta\""],
        ),
        case("missing metadata", "bad.yaml", "apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n", &["bad.yaml:1", "missing metadata.name"]),
        case(
            "missing name",
            "bad.yaml",
            "# header comment\n\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {a: b}\n",
            &["bad.yaml:3", "missing metadata.name"],
        ),
        case(
            "generateName",
            "bad.yaml",
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: run-\n",
            &["bad.yaml:1", "generateName is not supported"],
        ),
        case("metadata is a list", "bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n- name: x\n", &["bad.yaml:1", "metadata must be a mapping"]),
        case("name is a number", "bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: 42\n", &["bad.yaml:1", "metadata.name must be a string"]),
        case(
            "namespace is a list",
            "bad.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  namespace: [a]\n",
            &["bad.yaml:1", "metadata.namespace must be a string"],
        ),
        case(
            "wave not a number",
            "bad.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  annotations:\n    ferry.dev/wave: soon\n",
            &["bad.yaml:1", "not a whole number"],
        ),
        case(
            "wave unquoted",
            "bad.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  annotations:\n    ferry.dev/wave: 3\n",
            &["bad.yaml:1", "must be a string"],
        ),
        case("List without items", "bad.yaml", "apiVersion: v1\nkind: List\n", &["bad.yaml:1", "List needs an `items` list"]),
        case(
            "List with a bad item",
            "bad.yaml",
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: ok-item}\n- kind: ConfigMap\n  metadata: {name: no-version}\n- null\n",
            &["items[1]: missing apiVersion", "items[2]: expected a mapping (a Kubernetes object), found null", "bad.yaml:1"],
        ),
        case(
            "duplicate object in one file",
            "bad.yaml",
            format!("{}---\n{}", cm("twice", "  k: a\n"), cm("twice", "  k: b\n")),
            &["bad.yaml:8", "duplicate of ConfigMap twice first defined at bad.yaml:1"],
        ),
        Case {
            name: "duplicate object across files",
            base: Vec::new(),
            bad: vec![
                ("a.yaml", text(cm("shared", "  k: a\n"))),
                ("b/c.yaml", text(format!("# same object\n{}", cm("shared", "  k: b\n")))),
            ],
            expect: vec!["b/c.yaml:2", "duplicate of ConfigMap shared first defined at a.yaml:1"],
        },
        case(
            "duplicate of the good object",
            "zz.yaml",
            cm("good", "  key: \"3\"\n"),
            &["zz.yaml:1", "duplicate of ConfigMap good first defined at good.yaml:1"],
        ),
        case(
            "duplicate once the namespace is defaulted",
            "bad.yaml",
            format!(
                "{}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: same\n  namespace: {{ns}}\n",
                cm("same", "  k: a\n")
            ),
            &["bad.yaml:8", "duplicate of ConfigMap {ns}/same first defined at bad.yaml:1"],
        ),
        case(
            "same object under two API versions",
            "bad.yaml",
            "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec: {scaleTargetRef: {kind: Deployment, name: x}, maxReplicas: 2}\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec: {scaleTargetRef: {kind: Deployment, name: x}, maxReplicas: 3}\n",
            &["bad.yaml:6", "duplicate of HorizontalPodAutoscaler h"],
        ),
    ]
}
