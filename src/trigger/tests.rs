use super::*;

fn files(list: &[&str]) -> Vec<String> {
    list.iter().map(std::string::ToString::to_string).collect()
}

#[test]
fn touches_path_table() {
    let cases: &[(&[&str], &str, bool)] = &[
        (&["apps/web/x.yaml"], "apps/web", true),
        (&["apps/webby/x.yaml"], "apps/web", false),
        (&["apps/web"], "apps/web", true),
        (&["apps/web/deep/nested/x.yaml"], "apps/web", true),
        (&["apps/web/x.yaml"], "apps/web/", true),
        (&["apps/web/x.yaml"], "./apps/web", true),
        (&["apps/web/x.yaml"], "/apps/web/", true),
        (&["./apps/web/x.yaml"], "apps/web", true),
        (&["apps/x.yaml"], "apps/web", false),
        (&["apps"], "apps/web", false),
        (&["README.md", "apps/db/s.yaml"], "apps/web", false),
        (&["README.md", "apps/web/s.yaml"], "apps/web", true),
        (&["Apps/Web/x.yaml"], "apps/web", false),
        (&["README.md"], "", true),
        (&["README.md"], ".", true),
        (&["README.md"], "./", true),
        (&["README.md"], "/", true),
        (&[], "", false),
        (&[], ".", false),
        (&[], "apps/web", false),
    ];
    for (changed, app_path, want) in cases {
        assert_eq!(
            touches_path(&files(changed), app_path),
            *want,
            "touches_path({changed:?}, {app_path:?})"
        );
    }
}

#[test]
fn body_limit_is_one_mebibyte() {
    assert_eq!(MAX_BODY_BYTES, 1_048_576);
}
