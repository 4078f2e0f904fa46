use super::super::tests::MapTree;
use super::*;

fn overlay_repo(prod_kustomization: &str) -> MapTree {
    MapTree::new(&[
        ("base/kustomization.yaml", "resources: [ds.yaml]\nconfigMapGenerator:\n- name: cfg\n  files: [conf=files/agent.conf]\n"),
        ("base/ds.yaml", "kind: DaemonSet"),
        ("base/files/agent.conf", "x"),
        ("components/probe/kustomization.yaml", "kind: Component\npatches:\n- path: ../../shared/probe.yaml\n"),
        ("shared/probe.yaml", "kind: DaemonSet"),
        ("shared/unrelated.yaml", "kind: ConfigMap"),
        ("overlays/prod/kustomization.yaml", prod_kustomization),
        ("overlays/prod/image.yaml", "kind: DaemonSet"),
        ("overlays/staging/kustomization.yaml", "resources: [../../base]"),
        ("README.md", "hi"),
    ])
}

#[test]
fn follows_bases_components_patches_and_generator_files() {
    let tree = overlay_repo(
        "resources: [../../base]\ncomponents: [../../components/probe]\npatches:\n- path: image.yaml\n",
    );
    let found = closure(&tree, "overlays/prod").unwrap();
    let mut dirs = found.reads.dirs.clone();
    dirs.sort();
    assert_eq!(dirs, ["base", "components/probe", "overlays/prod"]);
    assert_eq!(found.reads.files, ["shared/probe.yaml"]);
    assert!(found.reads.contains("base/files/agent.conf"));
    assert!(!found.reads.contains("overlays/staging/kustomization.yaml"));
    assert!(!found.reads.contains("shared/unrelated.yaml"));
    assert!(!found.uses_helm);
    assert!(found
        .patches
        .contains(&"overlays/prod/image.yaml".to_string()));
    assert!(found.patches.contains(&"shared/probe.yaml".to_string()));
}

#[test]
fn refuses_remote_bases_with_their_line() {
    for remote in [
        "https://github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v1.0.6",
        "github.com/org/repo/deploy?ref=main",
        "git@github.com:org/repo.git//deploy",
        "github.com/org/repo/deploy",
    ] {
        let tree = overlay_repo(&format!("resources:\n- ../../base\n- {remote}\n"));
        let err = closure(&tree, "overlays/prod").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "overlays/prod/kustomization.yaml:3: {remote:?} is remote; ferry renders offline \
                 from the commit alone: vendor it into the repository and refer to it by a relative path"
            ),
            "{remote}"
        );
    }
}

#[test]
fn refuses_paths_that_leave_the_repository() {
    let tree = overlay_repo("resources: [../../../elsewhere]\n");
    let err = closure(&tree, "overlays/prod").unwrap_err();
    assert!(
        matches!(err, RenderError::OutsideRepository { .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("overlays/prod/kustomization.yaml:1"),
        "{err}"
    );
}

#[test]
fn a_missing_path_is_left_to_kustomize() {
    let tree = overlay_repo("resources: [../../base, nothere.yaml]\n");
    let found = closure(&tree, "overlays/prod").unwrap();
    assert!(found.reads.dirs.contains(&"base".to_string()));
}

#[test]
fn helm_charts_must_be_vendored() {
    let mut tree = overlay_repo(
        "helmCharts:\n- name: agent\n  repo: https://charts.example.com\n  version: 1.2.0\n  valuesFile: values.yaml\n",
    );
    let err = closure(&tree, "overlays/prod").unwrap_err();
    assert_eq!(
        err.to_string(),
        "overlays/prod/kustomization.yaml:2: helmCharts entry \"agent\" (repo https://charts.example.com) \
         is not vendored under overlays/prod/charts: ferry never fetches charts; run `helm pull --untar` \
         into that directory and commit it"
    );
    tree.0.insert(
        "overlays/prod/charts/agent/Chart.yaml".into(),
        "name: agent".into(),
    );
    let found = closure(&tree, "overlays/prod").unwrap();
    assert!(found.uses_helm);
    assert!(found
        .reads
        .contains("overlays/prod/charts/agent/Chart.yaml"));
}

#[test]
fn cycles_and_shared_bases_are_walked_once() {
    let tree = MapTree::new(&[
        ("a/kustomization.yaml", "resources: [../b, ../b]"),
        ("b/kustomization.yaml", "resources: [../a]"),
    ]);
    let found = closure(&tree, "a").unwrap();
    let mut dirs = found.reads.dirs.clone();
    dirs.sort();
    assert_eq!(dirs, ["a", "b"]);
}
