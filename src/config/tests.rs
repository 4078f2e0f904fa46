//! Unit tests of the configuration: defaults, overrides, names, gates, secrets, errors.

use super::*;
use crate::plan::guard::PruneGuard;
use crate::source::GitRef;

#[test]
fn default_names_come_from_path_then_repo() {
    assert_eq!(default_app_name(".", "examples-repo"), "examples-repo");
    assert_eq!(default_app_name("https://x/org/Cluster.git", ""), "cluster");
    assert_eq!(
        default_app_name("git@x:org/my_repo.git", "apps/Logging/"),
        "logging"
    );
}

#[test]
fn flags_override_config_and_refs_are_exclusive() {
    let file = AppConfig {
        repo: Some("/r".into()),
        branch: Some("main".into()),
        prune: Some(true),
        ..Default::default()
    };
    let flags = AppConfig {
        tag: Some("v1".into()),
        ..Default::default()
    };
    let spec = file.overridden_by(flags).resolve().unwrap();
    assert_eq!(spec.reference, GitRef::Tag("v1".into()));
    assert!(spec.prune);
    let both = AppConfig {
        repo: Some("/r".into()),
        branch: Some("a".into()),
        tag: Some("b".into()),
        ..Default::default()
    };
    assert!(both.resolve().is_err());
}

#[test]
fn app_gates_are_read_as_written_and_checked_when_the_app_resolves() {
    let file: ConfigFile = serde_yaml::from_str(
        "apps:\n  - repo: /r\n    gates: {timeout: 10m, grace: 1m, failuresAllowed: 2, onDelete: restart-pods}\n  - repo: /s\n    gates: {wait: false}\n  - repo: /t\n    gates: {onDelete: later}\n",
    )
    .unwrap();
    let gated = file.apps[0].clone().resolve().unwrap().gates;
    assert_eq!(gated.timeout, Some(std::time::Duration::from_secs(600)));
    assert_eq!(gated.grace, Some(std::time::Duration::from_secs(60)));
    assert_eq!(gated.failures_allowed, Some(2));
    assert_eq!(
        gated.on_delete,
        Some(crate::rollout::OnDeletePolicy::RestartPods)
    );
    assert_eq!(gated.wait, None);
    let off = file.apps[1].clone().resolve().unwrap().gates;
    assert_eq!(off.wait, Some(false));
    // A bad value fails only the app that has it, when it resolves.
    let err = file.apps[2].clone().resolve().unwrap_err().to_string();
    assert!(err.contains("gates.onDelete \"later\""), "{err}");
}

#[test]
fn webhook_secret_references_need_one_source_and_a_value() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret");
    std::fs::write(&file, "  s3cret\n").unwrap();
    let by_file = SecretRef {
        env: None,
        file: Some(file.clone()),
    };
    assert_eq!(by_file.read().unwrap(), b"s3cret");
    std::fs::write(&file, "\n").unwrap();
    let empty = by_file.read().unwrap_err().to_string();
    assert!(
        empty.contains(&format!("file {}", file.display())),
        "{empty}"
    );
    let missing = SecretRef {
        env: None,
        file: Some(dir.path().join("nowhere")),
    };
    let err = missing.read().unwrap_err();
    assert!(std::error::Error::source(&err).is_some(), "{err}");
    assert!(err.to_string().contains("nowhere"), "{err}");
    let unset = SecretRef {
        env: Some("FERRY_TEST_SURELY_UNSET_VARIABLE".into()),
        file: None,
    };
    let err = unset.read().unwrap_err().to_string();
    assert!(err.contains("FERRY_TEST_SURELY_UNSET_VARIABLE"), "{err}");
    let both = SecretRef {
        env: Some("A".into()),
        file: Some(file),
    };
    assert!(both.validated().is_err());
}

#[test]
fn two_apps_with_one_name_are_refused_given_or_derived() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ferry.yaml");
    std::fs::write(
        &path,
        "apps:\n  - repo: /r\n    path: clusters/prod\n  - repo: /r\n    path: envs/prod/\n",
    )
    .unwrap();
    let err = load(&path).unwrap_err().to_string();
    assert!(
        err.contains("apps 1 and 2 are both called \"prod\""),
        "{err}"
    );
    assert!(err.contains("named after its path \"envs/prod/\""), "{err}");
    std::fs::write(
        &path,
        "apps:\n  - {name: a, repo: /r}\n  - {name: b, repo: /r}\n  - {name: a, repo: /s}\n",
    )
    .unwrap();
    let err = load(&path).unwrap_err().to_string();
    assert!(err.contains("apps 1 and 3 are both called \"a\""), "{err}");
    std::fs::write(
        &path,
        "apps:\n  - {repo: /r, path: clusters/prod}\n  - {name: staging, repo: /r, path: envs/prod}\n",
    )
    .unwrap();
    assert!(load(&path).is_ok());
}

#[test]
fn prune_guard_defaults_and_bounds() {
    let spec = AppConfig {
        repo: Some("/r".into()),
        ..Default::default()
    }
    .resolve()
    .unwrap();
    assert_eq!(spec.prune_guard, PruneGuard::default());
    assert!(spec.name_derived);
    let file: ConfigFile = serde_yaml::from_str(
        "apps:\n  - {name: a, repo: /r, pruneGuard: {maxPercent: 80, allowEmpty: true}}\n  - {name: b, repo: /r, pruneGuard: {maxPercent: 101}}\n",
    )
    .unwrap();
    let a = file.apps[0].clone().resolve().unwrap();
    assert_eq!(a.prune_guard.max_percent, 80);
    assert!(a.prune_guard.allow_empty && !a.prune_guard.allow_mass_prune);
    assert!(!a.name_derived);
    let err = file.apps[1].clone().resolve().unwrap_err().to_string();
    assert!(err.contains("pruneGuard.maxPercent 101"), "{err}");
}

#[test]
fn config_errors_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ferry.yaml");
    std::fs::write(&path, "apps:\n  - name: a\n    repoo: x\n").unwrap();
    let err = load(&path).unwrap_err().to_string();
    assert!(err.contains(":3:"), "{err}");
    assert!(err.contains("repoo"), "{err}");
}
