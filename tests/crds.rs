//! A CustomResourceDefinition and its first custom resources in one commit: planned without a
//! dry-run, created once the CRD (wave 0) is established, pruned together later.

mod support;

use support::{client, ferry, kubectl_ok, random_suffix, GitRepo, TestNamespace};

/// Deletes the test's CRD (and with it its objects) when the test ends, pass or fail. Uses
/// kubectl: a drop cannot drive the test runtime's kube client.
struct CrdCleanup(String);

impl Drop for CrdCleanup {
    fn drop(&mut self) {
        let _ = support::kubectl(&[
            "delete",
            "crd",
            &self.0,
            "--wait=false",
            "--ignore-not-found",
        ]);
    }
}

fn crd_yaml(group: &str) -> String {
    format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.{group}\nspec:\n  group: {group}\n  scope: Namespaced\n  names: {{plural: widgets, singular: widget, kind: Widget}}\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n          properties:\n            spec:\n              type: object\n              properties:\n                size: {{type: integer}}\n"
    )
}

fn widget_yaml(group: &str, name: &str, size: u32) -> String {
    format!(
        "apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: {name}\nspec:\n  size: {size}\n"
    )
}

#[tokio::test]
async fn a_crd_and_its_first_objects_sync_in_one_commit_and_prune_together() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "crd").await;
    let group = format!("t{}.ferry.dev", random_suffix());
    let _cleanup = CrdCleanup(format!("widgets.{group}"));
    let repo = GitRepo::new();
    repo.write("crd.yaml", &crd_yaml(&group));
    repo.write(
        "widgets.yaml",
        &format!(
            "{}---\n{}",
            widget_yaml(&group, "small", 1),
            widget_yaml(&group, "large", 9)
        ),
    );
    repo.commit("widgets: CRD and first two widgets");
    let base = [
        "--repo",
        &repo.path_str(),
        "--namespace",
        &ns.name,
        "--app",
        &ns.name,
    ];
    let args = |cmd: &'static str, extra: &[&'static str]| -> Vec<String> {
        std::iter::once(cmd)
            .chain(base.iter().copied())
            .chain(extra.iter().copied())
            .map(str::to_string)
            .collect()
    };
    let run = |a: Vec<String>| ferry(&a.iter().map(String::as_str).collect::<Vec<_>>());

    let plan = run(args("plan", &[]));
    assert_eq!(
        plan.code, 1,
        "changes planned: {}{}",
        plan.stdout, plan.stderr
    );
    assert!(plan.stdout.contains("Widget"), "{}", plan.stdout);
    assert!(
        plan.stdout
            .contains("defined by a CustomResourceDefinition in this commit"),
        "{}",
        plan.stdout
    );

    let sync = run(args("sync", &[]));
    assert_eq!(sync.code, 0, "{}{}", sync.stdout, sync.stderr);
    let size = kubectl_ok(&[
        "get",
        &format!("widgets.{group}"),
        "large",
        "-n",
        &ns.name,
        "-o",
        "jsonpath={.spec.size}",
    ]);
    assert_eq!(size.trim(), "9");

    // Converged: the next plan sees the widgets through discovery and has nothing to do.
    let again = run(args("plan", &[]));
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);

    // Both removed from git: the widgets are pruned before their CRD.
    repo.remove("crd.yaml");
    repo.remove("widgets.yaml");
    repo.write(
        "keep.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: keep\n",
    );
    repo.commit("widgets: gone");
    let prune = run(args("sync", &["--prune", "--allow-mass-prune"]));
    assert_eq!(prune.code, 0, "{}{}", prune.stdout, prune.stderr);
    let crds = kubectl_ok(&["get", "crd", "-o", "name"]);
    assert!(!crds.contains(&group), "{crds}");
}
