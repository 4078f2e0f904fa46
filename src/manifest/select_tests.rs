use super::*;

fn opts(path: &str, recursive: bool, ignore: &[&str]) -> SelectOptions {
    SelectOptions {
        path: path.into(),
        recursive,
        ignore: ignore
            .iter()
            .map(std::string::ToString::to_string)
            .collect(),
    }
}

#[test]
fn extensions() {
    let f = opts("", true, &[]).compile().unwrap();
    assert!(f.matches("a.yaml"));
    assert!(f.matches("a.yml"));
    assert!(!f.matches("a.json"));
    assert!(!f.matches("a.txt"));
    assert!(!f.matches("a.yaml.bak"));
    assert!(!f.matches("README.md"));
    assert!(!f.matches("yaml"));
}

#[test]
fn root_variants_are_the_same() {
    for root in ["", ".", "./", "/"] {
        let f = opts(root, false, &[]).compile().unwrap();
        assert!(f.matches("a.yaml"), "root {root:?}");
        assert!(!f.matches("sub/a.yaml"), "root {root:?}");
    }
}

#[test]
fn recursive_vs_direct_children() {
    let flat = opts("apps", false, &[]).compile().unwrap();
    assert!(flat.matches("apps/a.yaml"));
    assert!(!flat.matches("apps/logging/a.yaml"));
    assert!(!flat.matches("a.yaml"));
    assert!(!flat.matches("appsx/a.yaml"));
    assert!(!flat.matches("other/apps/a.yaml"));

    let deep = opts("./apps/", true, &[]).compile().unwrap();
    assert!(deep.matches("apps/a.yaml"));
    assert!(deep.matches("apps/logging/a.yaml"));
    assert!(deep.matches("apps/logging/x/y/a.yml"));
    assert!(!deep.matches("a.yaml"));
    assert!(!deep.matches("appsx/a.yaml"));
}

#[test]
fn nested_dir() {
    let f = opts("clusters/prod", true, &[]).compile().unwrap();
    assert!(f.matches("clusters/prod/ds.yaml"));
    assert!(!f.matches("clusters/production/ds.yaml"));
    assert!(!f.matches("clusters/ds.yaml"));
}

#[test]
fn hidden_components_are_skipped() {
    let f = opts("", true, &[]).compile().unwrap();
    assert!(!f.matches(".github/workflows/ci.yml"));
    assert!(!f.matches(".sops.yaml"));
    assert!(!f.matches("apps/.hidden/a.yaml"));
    // The configured directory itself may be hidden.
    let g = opts(".deploy", true, &[]).compile().unwrap();
    assert!(g.matches(".deploy/a.yaml"));
}

#[test]
fn unanchored_globs_match_at_any_depth() {
    let f = opts("apps", true, &["*.draft.yaml"]).compile().unwrap();
    assert!(!f.matches("apps/x.draft.yaml"));
    assert!(!f.matches("apps/sub/deeper/x.draft.yaml"));
    assert!(f.matches("apps/x.yaml"));
}

#[test]
fn anchored_globs_are_relative_to_path() {
    let f = opts("apps", true, &["/staging/*.yaml", "tests/fixtures"])
        .compile()
        .unwrap();
    assert!(!f.matches("apps/staging/a.yaml"));
    // `*` does not cross '/'.
    assert!(f.matches("apps/staging/sub/a.yaml"));
    assert!(f.matches("apps/other/staging/a.yaml"));
    // A directory pattern excludes everything inside it.
    assert!(!f.matches("apps/tests/fixtures/a.yaml"));
    assert!(!f.matches("apps/tests/fixtures/deep/b.yaml"));
    assert!(f.matches("apps/tests/a.yaml"));
}

#[test]
fn dir_only_and_double_star() {
    let f = opts("", true, &["secrets/", "**/generated/**"])
        .compile()
        .unwrap();
    assert!(!f.matches("secrets/a.yaml"));
    assert!(!f.matches("apps/secrets/a.yaml"));
    assert!(!f.matches("apps/generated/x/a.yaml"));
    assert!(f.matches("apps/secrets.yaml"));
    // A dir-only pattern does not match a file of the same name.
    let g = opts("", true, &["a.yaml/"]).compile().unwrap();
    assert!(g.matches("a.yaml"));
}

#[test]
fn negation_last_match_wins() {
    let f = opts("", true, &["*.yaml", "!keep.yaml", "# comment", ""])
        .compile()
        .unwrap();
    assert!(!f.matches("a.yaml"));
    assert!(f.matches("keep.yaml"));
    assert!(f.matches("sub/keep.yaml"));
    assert!(f.matches("a.yml"));
    // A file inside an excluded directory cannot be re-included.
    let g = opts("", true, &["vendor/", "!vendor/keep.yaml"])
        .compile()
        .unwrap();
    assert!(!g.matches("vendor/keep.yaml"));
}

#[test]
fn matches_without_compiling_first() {
    let o = opts("apps", false, &["x.yaml"]);
    assert!(o.matches("apps/a.yaml").unwrap());
    assert!(!o.matches("apps/x.yaml").unwrap());
}

#[test]
fn bad_glob_and_bad_path_are_errors() {
    let err = opts("", true, &["[unclosed"]).compile().unwrap_err();
    assert!(
        matches!(&err, ManifestError::BadIgnorePattern { pattern, .. } if pattern == "[unclosed"),
        "{err}"
    );
    let err = opts("../elsewhere", true, &[]).compile().unwrap_err();
    assert!(matches!(err, ManifestError::BadPath { .. }), "{err}");
    assert!(opts("a/../b", true, &[]).matches("b/x.yaml").is_err());
}
