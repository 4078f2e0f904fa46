//! For this module's unit tests: the `git` CLI run as a user would, with a fixed identity.

use std::path::Path;
use std::process::Command;

/// Runs `git <args>` in `dir` and returns its trimmed stdout; panics when git fails.
pub(super) fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
