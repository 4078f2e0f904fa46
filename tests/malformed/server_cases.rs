//! Malformed commits only the cluster can refuse: kinds and scopes discovery does not know,
//! and objects the API server's dry-run rejects (validation, immutable fields, typed-patch
//! and conversion errors, sizes, a namespace that exists nowhere).

use super::cases::{case, cm, ds, sts, text, Case};

/// Kinds and scopes the cluster does not have.
pub fn discovery() -> Vec<Case> {
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

/// Objects only the API server can refuse (its dry-run), including changes to fields that
/// cannot change.
pub fn server() -> Vec<Case> {
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
        case(
            "object over the API server's 3 MiB request limit",
            "bad.yaml",
            cm("bigger", &format!("  k: {too_large}\n")),
            &["bad.yaml:1", "over the limit of 1572864 bytes"],
        ),
        case(
            "object over etcd's request limit (passes the dry-run)",
            "bad.yaml",
            ds(
                "heavy",
                "  selector: {matchLabels: {app: heavy}}\n",
                "{app: heavy}",
                &format!("        image: nginx\n        env: [{{name: BIG, value: {}}}]\n", "z".repeat(1_700_000)),
            ),
            &["bad.yaml:1", "etcd"],
        ),
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
