//! The corpus of malformed commits for `tests/malformed.rs`: each case is the files a bad
//! commit writes on top of a good one, and what the output must say (the file, and `file:line`
//! where the problem has a line). `{ns}` in a text stands for the test's namespace.
//!
//! The groups follow the pipeline stage that must catch them: git (symlinks, sizes), the YAML
//! reader (syntax, tabs, duplicate keys, encodings, aliases, tags), ferry's own checks (fields,
//! names, waves, duplicates), discovery (unknown kinds, scopes) and the server's dry-run
//! (validation, immutable fields, typed-patch errors, namespaces, sizes).

/// What a file of the bad commit holds.
pub enum Content {
    /// Text; `{ns}` is replaced by the test namespace.
    Text(String),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// A symbolic link to this target.
    Symlink(&'static str),
}

/// One malformed commit.
pub struct Case {
    /// Short name, for failure messages.
    pub name: &'static str,
    /// Files of the good commit besides `good.yaml` (objects a bad change then edits).
    pub base: Vec<(&'static str, String)>,
    /// Files the bad commit writes (it also changes `good.yaml` and adds `fresh.yaml`, valid
    /// changes that must not be applied either).
    pub bad: Vec<(&'static str, Content)>,
    /// Substrings the output (stdout and stderr) must contain, `{ns}` replaced.
    pub expect: Vec<&'static str>,
}

fn text(s: impl Into<String>) -> Content {
    Content::Text(s.into())
}

fn case(
    name: &'static str,
    file: &'static str,
    body: impl Into<String>,
    expect: &[&'static str],
) -> Case {
    Case {
        name,
        base: Vec::new(),
        bad: vec![(file, text(body))],
        expect: expect.to_vec(),
    }
}

/// A ConfigMap `name` whose `data` block is `data` (indented by the caller).
fn cm(name: &str, data: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n{data}")
}

/// A DaemonSet `name`; `extra_spec` goes under `spec:` and `container` under the container.
fn ds(name: &str, selector: &str, labels: &str, container: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: {name}\nspec:\n{selector}  template:\n    metadata:\n      labels: {labels}\n    spec:\n      containers:\n      - name: main\n{container}"
    )
}

fn sts(selector: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: web\nspec:\n  serviceName: web\n  replicas: 1\n  selector: {{matchLabels: {{app: {selector}}}}}\n  template:\n    metadata: {{labels: {{app: {selector}}}}}\n    spec:\n      containers: [{{name: nginx, image: nginx:1.27}}]\n"
    )
}

/// All cases.
pub fn cases() -> Vec<Case> {
    let mut all = Vec::new();
    all.extend(syntax());
    all.extend(fields());
    all.extend(discovery());
    all.extend(git_level());
    all.extend(server());
    all
}

/// YAML the reader refuses.
fn syntax() -> Vec<Case> {
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
fn fields() -> Vec<Case> {
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

/// Kinds and scopes the cluster does not have.
fn discovery() -> Vec<Case> {
    vec![
        case(
            "unknown kind",
            "bad.yaml",
            "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n",
            &["bad.yaml:1", "example.com/v1 Widget is not served"],
        ),
        case(
            "unknown version of a known kind",
            "bad.yaml",
            "apiVersion: apps/v2\nkind: DaemonSet\nmetadata:\n  name: d\n",
            &["bad.yaml:1", "apps/v2 DaemonSet is not served"],
        ),
        case(
            "kind in the wrong case",
            "bad.yaml",
            "apiVersion: apps/v1\nkind: Daemonset\nmetadata:\n  name: d\n",
            &["bad.yaml:1", "apps/v1 Daemonset is not served"],
        ),
        case(
            "cluster-scoped kind with a namespace",
            "bad.yaml",
            "# role\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: ferry-malformed-role\n  namespace: {ns}\nrules: []\n",
            &["bad.yaml:2", "ClusterRole is cluster-scoped"],
        ),
    ]
}

/// Caught while reading the commit from git.
fn git_level() -> Vec<Case> {
    let mut png = vec![0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];
    png.extend((0..200u32).map(|i| (i * 37 % 256) as u8));
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            cm("wide", "  k: a\n")
                .encode_utf16()
                .flat_map(|u| u.to_le_bytes()),
        )
        .collect();
    let mut late_binary = cm("late", "  k: a\n").into_bytes();
    late_binary.extend([b' ', b' ', b'x', b':', b' ', 0xC3, 0x28, b'\n']);
    // 50 MB: a ConfigMap followed by comment lines.
    let mut huge = cm("huge", "  k: a\n").into_bytes();
    let line = b"# padding padding padding padding padding padding padding padding padding\n";
    while huge.len() < 50 * 1024 * 1024 {
        huge.extend_from_slice(line);
    }
    vec![
        Case {
            name: "binary file",
            base: Vec::new(),
            bad: vec![("image.yaml", Content::Bytes(png))],
            expect: vec!["image.yaml:1", "not valid UTF-8"],
        },
        Case {
            name: "UTF-16 file",
            base: Vec::new(),
            bad: vec![("wide.yaml", Content::Bytes(utf16))],
            expect: vec!["wide.yaml:1", "not valid UTF-8 (byte 0)"],
        },
        Case {
            name: "invalid UTF-8 on a later line",
            base: Vec::new(),
            bad: vec![("late.yaml", Content::Bytes(late_binary))],
            expect: vec!["late.yaml:7", "not valid UTF-8"],
        },
        Case {
            name: "50 MB file",
            base: Vec::new(),
            bad: vec![("huge.yaml", Content::Bytes(huge))],
            expect: vec!["huge.yaml", "over the limit"],
        },
        Case {
            name: "symlink to another manifest",
            base: Vec::new(),
            bad: vec![("link.yaml", Content::Symlink("good.yaml"))],
            expect: vec!["link.yaml is a symbolic link"],
        },
        Case {
            name: "symlink out of the repository",
            base: Vec::new(),
            bad: vec![("apps/passwd.yaml", Content::Symlink("/etc/passwd"))],
            expect: vec!["apps/passwd.yaml is a symbolic link"],
        },
    ]
}

/// Objects only the API server can refuse (its dry-run), including changes to fields that
/// cannot change.
fn server() -> Vec<Case> {
    let selector = "  selector: {matchLabels: {app: agent}}\n";
    let image = "        image: nginx:1.27\n";
    let long_name = "a".repeat(254);
    let big_value = "x".repeat(1_100_000);
    let too_large = "y".repeat(3_300_000);
    vec![
        case("name with capitals and underscore", "bad.yaml", cm("Bad_Name", "  k: a\n"), &["bad.yaml:1", "Invalid value: \"Bad_Name\""]),
        case("name too long", "bad.yaml", cm(&long_name, "  k: a\n"), &["bad.yaml:1", "must be no more than 253 characters"]),
        case(
            "DaemonSet without a selector",
            "bad.yaml",
            ds("agent", "", "{app: agent}", image),
            &["bad.yaml:1", "`selector` does not match"],
        ),
        case(
            "selector that does not match the template",
            "bad.yaml",
            ds("agent", selector, "{app: other}", image),
            &["bad.yaml:1", "does not match template `labels`"],
        ),
        case(
            "container without an image",
            "bad.yaml",
            ds("agent", selector, "{app: agent}", "        imagePullPolicy: Always\n"),
            &["bad.yaml:1", "image: Required value"],
        ),
        case(
            "container port out of range",
            "bad.yaml",
            ds("agent", selector, "{app: agent}", "        image: nginx\n        ports: [{containerPort: 70000}]\n"),
            &["bad.yaml:1", "containerPort"],
        ),
        case(
            "duplicate container names",
            "bad.yaml",
            ds("agent", selector, "{app: agent}", "        image: nginx\n      - name: main\n        image: nginx\n"),
            &["bad.yaml:1", "main"],
        ),
        case(
            "unknown field",
            "bad.yaml",
            ds("agent", &format!("{selector}  replicas: 3\n"), "{app: agent}", image),
            &["bad.yaml:1", "replicas"],
        ),
        case(
            "a string where a number belongs",
            "bad.yaml",
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: s\nspec:\n  replicas: three\n  serviceName: s\n  selector: {matchLabels: {app: s}}\n  template:\n    metadata: {labels: {app: s}}\n    spec: {containers: [{name: c, image: nginx}]}\n",
            &["bad.yaml:1", "replicas"],
        ),
        case(
            "negative replicas",
            "bad.yaml",
            sts("neg").replace("replicas: 1", "replicas: -1").replace("name: web", "name: neg"),
            &["bad.yaml:1", "spec.replicas"],
        ),
        case(
            "resource quantity that is not one",
            "bad.yaml",
            ds("agent", selector, "{app: agent}", "        image: nginx\n        resources: {requests: {cpu: lots}}\n"),
            &["bad.yaml:1", "quantities must match"],
        ),
        case(
            "label value with spaces",
            "bad.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  labels: {team: \"two words\"}\n",
            &["bad.yaml:1", "metadata.labels"],
        ),
        case(
            "annotation key with a space",
            "bad.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\n  annotations: {\"not a key\": x}\n",
            &["bad.yaml:1", "metadata.annotations"],
        ),
        case("ConfigMap data key with a space", "bad.yaml", cm("bad", "  \"not a key\": x\n"), &["bad.yaml:1", "data[not a key]"]),
        case(
            "ConfigMap data value is a list",
            "bad.yaml",
            cm("bad", "  key: [a, b]\n"),
            &["bad.yaml:1", "expected string"],
        ),
        case(
            "ConfigMap data value is a mapping",
            "bad.yaml",
            cm("bad", "  key: {a: b}\n"),
            &["bad.yaml:1", "expected string"],
        ),
        case("ConfigMap over 1 MiB", "bad.yaml", cm("big", &format!("  k: {big_value}\n")), &["bad.yaml:1", "Too long"]),
        case("object over the request size limit", "bad.yaml", cm("bigger", &format!("  k: {too_large}\n")), &["bad.yaml:1", "too large"]),
        case(
            "Secret data that is not base64",
            "bad.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  password: \"not base64!\"\n",
            &["bad.yaml:1", "base64"],
        ),
        case(
            "Job that restarts Always",
            "bad.yaml",
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\nspec:\n  template:\n    spec:\n      restartPolicy: Always\n      containers: [{name: c, image: busybox}]\n",
            &["bad.yaml:1", "restartPolicy"],
        ),
        case(
            "Service port zero",
            "bad.yaml",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc\nspec:\n  ports: [{port: 0}]\n",
            &["bad.yaml:1", "spec.ports[0].port"],
        ),
        case(
            "StatefulSet without a selector",
            "bad.yaml",
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: nosel\nspec:\n  serviceName: nosel\n  template:\n    metadata: {labels: {app: nosel}}\n    spec: {containers: [{name: c, image: nginx}]}\n",
            &["bad.yaml:1", "selector"],
        ),
        case(
            "Job with a hand-written selector",
            "bad.yaml",
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: picky\nspec:\n  selector: {matchLabels: {app: picky}}\n  template:\n    metadata: {labels: {app: picky}}\n    spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}\n",
            &["bad.yaml:1", "spec.selector"],
        ),
        Case {
            name: "a new Namespace with an invalid name, and an object in it",
            base: Vec::new(),
            bad: vec![
                ("ns.yaml", text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: Bad_NS\n")),
                ("in-it.yaml", text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: inside\n  namespace: Bad_NS\n")),
            ],
            expect: vec!["ns.yaml:1", "Namespace Bad_NS", "Invalid value: \"Bad_NS\""],
        },
        Case {
            name: "an invalid CRD and a custom resource of it",
            base: Vec::new(),
            bad: vec![(
                "crd.yaml",
                text("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: gadgets.malformed.ferry.dev}\nspec:\n  group: malformed.ferry.dev\n  scope: Namespaced\n  names: {kind: Gadget, plural: gadgets}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema: {type: nonsense}\n---\napiVersion: malformed.ferry.dev/v1\nkind: Gadget\nmetadata: {name: g}\n"),
            )],
            expect: vec!["crd.yaml:1", "openAPIV3Schema"],
        },
        case(
            "a namespace that exists nowhere",
            "bad.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lost\n  namespace: {ns}-nowhere\ndata: {k: a}\n",
            &["bad.yaml:1", "{ns}-nowhere", "not found"],
        ),
        Case {
            name: "StatefulSet selector change (immutable)",
            base: vec![("sts.yaml", sts("web"))],
            bad: vec![("sts.yaml", text(format!("# changed\n{}", sts("web2"))))],
            expect: vec!["sts.yaml:2", "Forbidden"],
        },
        Case {
            name: "DaemonSet selector change (immutable)",
            base: vec![("ds.yaml", ds("agent", selector, "{app: agent}", image))],
            bad: vec![(
                "ds.yaml",
                text(ds("agent", "  selector: {matchLabels: {app: agent2}}\n", "{app: agent2}", image)),
            )],
            expect: vec!["ds.yaml:1", "field is immutable"],
        },
        Case {
            name: "immutable ConfigMap data change",
            base: vec![("frozen.yaml", format!("{}immutable: true\n", cm("frozen", "  k: a\n")))],
            bad: vec![("frozen.yaml", text(format!("{}immutable: true\n", cm("frozen", "  k: b\n"))))],
            expect: vec!["frozen.yaml:1", "immutable"],
        },
        Case {
            name: "Secret type change (immutable)",
            base: vec![(
                "secret.yaml",
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\ntype: Opaque\nstringData: {username: u, password: p}\n".to_string(),
            )],
            bad: vec![(
                "secret.yaml",
                text("apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\ntype: kubernetes.io/basic-auth\nstringData: {username: u, password: p}\n"),
            )],
            expect: vec!["secret.yaml:1", "field is immutable"],
        },
    ]
}
