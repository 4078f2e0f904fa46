//! The commented "namespaced alternative" in `deploy/rbac.yaml` is extracted and checked like
//! `deploy/` itself (see `deploy.rs`), including a sync it must refuse.

#[path = "support/deploy.rs"]
mod deploy_support;
mod support;

use deploy_support::*;
use support::kubectl_ok;

/// Extracts the commented "namespaced alternative" from `deploy/rbac.yaml` as YAML.
fn namespaced_alternative() -> String {
    let text = std::fs::read_to_string(deploy_dir().join("rbac.yaml")).unwrap();
    let mut lines = text.lines();
    lines
        .by_ref()
        .find(|l| l.starts_with("# ---- BEGIN namespaced alternative"))
        .expect("deploy/rbac.yaml has the BEGIN namespaced alternative marker");
    let mut yaml = String::new();
    for line in lines.by_ref() {
        if line.starts_with("# ---- END namespaced alternative") {
            return yaml;
        }
        let uncommented = line
            .strip_prefix("# ")
            .or_else(|| line.strip_prefix('#'))
            .unwrap_or_else(|| panic!("uncommented line in the alternative: {line:?}"));
        yaml.push_str(uncommented);
        yaml.push('\n');
    }
    panic!("deploy/rbac.yaml: no END namespaced alternative marker");
}

#[test]
fn namespaced_rbac_alternative_confines_writes_to_chosen_namespaces() {
    // deploy/ without the ClusterRoleBinding, as the alternative's step 1 says.
    let mut overlay = Overlay::new(
        "ferry-narrow",
        r"patches:
  - patch: |-
      $patch: delete
      apiVersion: rbac.authorization.k8s.io/v1
      kind: ClusterRoleBinding
      metadata:
        name: ferry
",
    );
    let ns = overlay.namespace.clone();
    let suffix = overlay.suffix.clone();
    let apps_ns = format!("{ns}-apps"); // where ferry may write
    let other_ns = format!("{ns}-other"); // where it may not
    overlay
        .extra
        .push(vec!["delete".into(), "namespace".into(), apps_ns.clone()]);
    overlay
        .extra
        .push(vec!["delete".into(), "namespace".into(), other_ns.clone()]);
    overlay.extra.push(vec![
        "delete".into(),
        "clusterrole".into(),
        format!("ferry-read-{suffix}"),
    ]);
    overlay.extra.push(vec![
        "delete".into(),
        "clusterrolebinding".into(),
        format!("ferry-read-{suffix}"),
    ]);

    let kinds: Vec<String> = overlay
        .render()
        .iter()
        .map(|o| o["kind"].as_str().unwrap().to_string())
        .collect();
    assert!(!kinds.contains(&"ClusterRoleBinding".to_string()));

    // Step 2: the commented objects, for this test's namespaces and unique names.
    let alternative = namespaced_alternative();
    for needle in ["ferry-system", "namespace: logging", "name: ferry-read"] {
        assert!(
            alternative.contains(needle),
            "the alternative no longer mentions {needle:?}; update this test"
        );
    }
    let alternative = alternative
        .replace("ferry-system", &ns)
        .replace("namespace: logging", &format!("namespace: {apps_ns}"))
        .replace("name: ferry-read", &format!("name: ferry-read-{suffix}"));
    let objects = parse_yaml_stream(&alternative);
    let summary: Vec<String> = objects
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap(),
                o["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            format!("ClusterRole/ferry-read-{suffix}"),
            format!("ClusterRoleBinding/ferry-read-{suffix}"),
            "Role/ferry-manage".to_string(),
            "RoleBinding/ferry-manage".to_string(),
        ]
    );
    let file = overlay.dir.path().join("namespaced-alternative.yaml");
    std::fs::write(&file, &alternative).unwrap();

    create_namespace(&apps_ns);
    create_namespace(&other_ns);
    kubectl_ok(&["apply", "-k", overlay.path()]);
    kubectl_ok(&["apply", "-f", file.to_str().unwrap()]);

    // Writes only where a Role allows them.
    for verb in ["create", "patch", "delete"] {
        for resource in ["daemonsets", "statefulsets", "jobs", "configmaps", "roles"] {
            overlay.assert_can(&[verb, resource, "-n", &apps_ns]);
            overlay.assert_cannot(&[verb, resource, "-n", &other_ns]);
        }
        for resource in [
            "namespaces",
            "clusterroles",
            "priorityclasses",
            "customresourcedefinitions",
        ] {
            overlay.assert_cannot(&[verb, resource]);
        }
    }
    overlay.assert_can(&["delete", "pods", "-n", &apps_ns]);
    overlay.assert_cannot(&["delete", "pods", "-n", &other_ns]);
    overlay.assert_can(&["bind", "clusterroles/view", "-n", &apps_ns]);
    overlay.assert_cannot(&["bind", "clusterroles/cluster-admin", "-n", &apps_ns]);
    overlay.assert_cannot(&["escalate", "clusterroles"]);
    // Reads stay cluster-wide (the inventory LIST spans namespaces), except Secrets.
    overlay.assert_can(&["list", "daemonsets", "--all-namespaces"]);
    overlay.assert_can(&["watch", "jobs", "--all-namespaces"]);
    overlay.assert_can(&["list", "pods", "-n", &other_ns]);
    overlay.assert_cannot(&["list", "secrets", "--all-namespaces"]);
    overlay.assert_can(&["get", &format!("namespaces/{ns}")]);
    overlay.assert_cannot(&["get", "namespaces/kube-system"]);
    // Its own records and lock still work (Role ferry-state).
    overlay.assert_can(&["create", "configmaps", "-n", &ns]);
    overlay.assert_can(&["create", "leases", "-n", &ns]);
    overlay.assert_can(&["update", "leases/ferry-leader", "-n", &ns]);

    // The same DaemonSet applied as ferry: accepted in the managed namespace, refused elsewhere.
    overlay.assert_applies(
        &daemonset_yaml(&apps_ns),
        true,
        &format!("dry-run apply as ferry in {apps_ns}"),
    );
    overlay.assert_apply_forbidden(
        &daemonset_yaml(&other_ns),
        &format!("apply as ferry in {other_ns}"),
    );
    // An app's RoleBinding to the ClusterRole the Role lets it bind, and to one it does not.
    let binding = |role: &str| {
        format!(
            r"apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: agent-{role}
  namespace: {apps_ns}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {role}
subjects:
  - kind: ServiceAccount
    name: agent
    namespace: {apps_ns}
"
        )
    };
    overlay.assert_applies(
        &binding("view"),
        true,
        &format!("binding view as ferry in {apps_ns}"),
    );
    overlay.assert_apply_forbidden(&binding("cluster-admin"), "binding cluster-admin as ferry");

    // ferry itself, as the narrowed ServiceAccount: syncs into the managed namespace, and an
    // app aimed elsewhere is refused by the server at the dry-run, before anything is applied.
    let kubeconfig = service_account_kubeconfig(overlay.dir.path(), &ns);
    let cache = overlay.dir.path().join("cache");
    let repo = support::GitRepo::new();
    repo.write("apps/agent.yaml", &app_manifests(1, true));
    repo.commit("Add agent");
    let repo_path = repo.path_str();
    let sync = |app: &str, namespace: &str| {
        run_ferry(
            &kubeconfig,
            &cache,
            &[
                "sync",
                "--repo",
                &repo_path,
                "--path",
                "apps",
                "--app",
                app,
                "--namespace",
                namespace,
                "--ferry-namespace",
                &ns,
                "--prune",
            ],
        )
    };
    let (code, output) = sync("managed", &apps_ns);
    assert_eq!(code, 0, "ferry sync into {apps_ns}:\n{output}");
    assert!(output.contains("Sync complete: 3 created"), "{output}");
    let (code, output) = sync("elsewhere", &other_ns);
    assert_eq!(code, 2, "ferry sync into {other_ns} must fail:\n{output}");
    assert!(output.to_lowercase().contains("forbidden"), "{output}");
    let in_other = kubectl_ok(&[
        "get",
        "daemonsets,jobs,configmaps",
        "-n",
        &other_ns,
        "-o",
        "name",
    ]);
    assert!(
        !in_other.contains("agent") && !in_other.contains("migrate"),
        "{in_other}"
    );
}
