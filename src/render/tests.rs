use std::collections::BTreeMap;

use super::*;

/// A commit's tree in memory: path → content (`-> target` for a symlink).
pub(super) struct MapTree(pub BTreeMap<String, String>);

impl MapTree {
    pub(super) fn new(files: &[(&str, &str)]) -> MapTree {
        MapTree(
            files
                .iter()
                .map(|(p, c)| (p.to_string(), c.to_string()))
                .collect(),
        )
    }
}

impl RepoTree for MapTree {
    fn entry(&self, path: &str) -> Option<TreeEntry> {
        if let Some(content) = self.0.get(path) {
            return Some(match content.strip_prefix("-> ") {
                Some(target) => TreeEntry::Symlink(target.to_string()),
                None => TreeEntry::File,
            });
        }
        let prefix = format!("{path}/");
        self.0
            .keys()
            .any(|k| path.is_empty() || k.starts_with(&prefix))
            .then_some(TreeEntry::Dir)
    }
    fn files_under(&self, dir: &str) -> Vec<String> {
        let prefix = format!("{dir}/");
        self.0
            .keys()
            .filter(|k| dir.is_empty() || k.starts_with(&prefix))
            .cloned()
            .collect()
    }
    fn read(&self, path: &str, max_bytes: usize) -> Result<Vec<u8>, SourceError> {
        let content = self.0.get(path).ok_or_else(|| SourceError::PathNotFound {
            path: path.into(),
            sha: "test".into(),
        })?;
        if content.len() > max_bytes {
            return Err(SourceError::FileTooLarge {
                path: path.into(),
                size: content.len(),
                limit: max_bytes,
            });
        }
        Ok(content.clone().into_bytes())
    }
}

#[test]
fn read_set_matches_whole_segments() {
    let mut reads = ReadSet::default();
    reads.add_dir("overlays/prod");
    reads.add_dir("base");
    reads.add_file("common/patch.yaml");
    reads.add_file("base/x.yaml"); // covered by base/
    assert_eq!(reads.dirs, ["overlays/prod", "base"]);
    assert_eq!(reads.files, ["common/patch.yaml"]);
    assert!(reads.contains("base/ds.yaml"));
    assert!(reads.contains("./base/sub/deep.yaml"));
    assert!(reads.contains("common/patch.yaml"));
    assert!(!reads.contains("basement/ds.yaml"));
    assert!(!reads.contains("common/other.yaml"));
    assert!(!reads.contains("overlays/staging/kustomization.yaml"));
    assert!(reads.touched_by(&["README.md".into(), "base/ds.yaml".into()]));
    assert!(!reads.touched_by(&["README.md".into()]));
    // A directory swallows what it covers.
    reads.add_dir("");
    assert_eq!(reads.dirs, [""]);
    assert!(reads.files.is_empty());
    assert!(reads.contains("anything/at/all"));
}

#[test]
fn paths_resolve_inside_the_repository_only() {
    assert_eq!(
        resolve_path("overlays/prod", "../../base").as_deref(),
        Some("base")
    );
    assert_eq!(
        resolve_path("overlays/prod", "./p.yaml").as_deref(),
        Some("overlays/prod/p.yaml")
    );
    assert_eq!(
        resolve_path("", "base//ds.yaml").as_deref(),
        Some("base/ds.yaml")
    );
    assert_eq!(resolve_path("overlays", "../.."), None);
    assert_eq!(resolve_path("a", "/etc/passwd"), None);
    assert_eq!(clean_dir("./overlays/prod/"), "overlays/prod");
    assert_eq!(clean_dir("."), "");
}

#[test]
fn the_path_decides_whether_kustomize_renders() {
    let tree = MapTree::new(&[
        ("overlays/prod/kustomization.yaml", "resources: []"),
        ("overlays/odd/Kustomization", "resources: []"),
        ("plain/ds.yaml", "kind: DaemonSet"),
    ]);
    let is_file = |p: &str| tree.entry(p) == Some(TreeEntry::File);
    let auto = RenderSpec::default();
    let kustomize = |dir: &str| Some(RenderJob::Kustomize { dir: dir.into() });
    assert_eq!(
        auto.job("overlays/prod", &is_file).unwrap(),
        kustomize("overlays/prod")
    );
    assert_eq!(
        auto.job("./overlays/odd/", &is_file).unwrap(),
        kustomize("overlays/odd")
    );
    assert_eq!(auto.job("plain", &is_file).unwrap(), None);
    let plain = RenderSpec::Path {
        mode: RenderMode::Plain,
    };
    assert_eq!(plain.job("overlays/prod", &is_file).unwrap(), None);
    let forced = RenderSpec::Path {
        mode: RenderMode::Kustomize,
    };
    let err = forced.job("plain", &is_file).unwrap_err();
    assert_eq!(
        err.to_string(),
        "render: kustomize, but plain has no kustomization.yaml (or .yml, Kustomization)"
    );
}

#[test]
fn helm_blocks_are_checked() {
    let base = || HelmConfig {
        chart: "charts/node-agent".into(),
        ..Default::default()
    };
    let spec = base().resolve("agents-app", "agents").unwrap();
    assert_eq!(spec.release_name, "agents-app");
    assert_eq!(spec.namespace, "agents");
    assert_eq!(spec.chart, "charts/node-agent");
    let escape = HelmConfig {
        values_files: vec!["../secrets.yaml".into()],
        ..base()
    };
    assert!(escape
        .resolve("a", "b")
        .unwrap_err()
        .contains("inside the repository"));
    let bad_name = HelmConfig {
        release_name: Some("Node_Agent".into()),
        ..base()
    };
    assert!(bad_name
        .resolve("a", "b")
        .unwrap_err()
        .contains("releaseName"));
    let list_values = HelmConfig {
        values: Some(serde_json::json!([1, 2])),
        ..base()
    };
    assert_eq!(
        list_values.resolve("a", "b").unwrap_err(),
        "helm.values must be a mapping"
    );
    let root = HelmConfig {
        chart: ".".into(),
        ..base()
    };
    assert!(root.resolve("a", "b").is_err());
}

#[test]
fn pinned_versions_match_the_versions_file() {
    let versions = include_str!("../../dev/cluster/versions.env");
    assert!(versions.contains(&format!("KUSTOMIZE_VERSION={PINNED_KUSTOMIZE}\n")));
    assert!(versions.contains(&format!("HELM_VERSION={PINNED_HELM}\n")));
    // The container image builds the same versions.
    let dockerfile = include_str!("../../deploy/Dockerfile");
    assert!(dockerfile.contains(&format!("ARG KUSTOMIZE_VERSION={PINNED_KUSTOMIZE}\n")));
    assert!(dockerfile.contains(&format!("ARG HELM_VERSION={PINNED_HELM}\n")));
}
