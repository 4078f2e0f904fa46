//! What every benchmark needs first: the local control plane and a release build of ferry.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The kubeconfig of the local control plane: `FERRY_TEST_KUBECONFIG`, or the one
/// `dev/cluster/cluster.sh up` starts (or reuses).
pub fn kubeconfig() -> PathBuf {
    if let Some(p) = std::env::var_os("FERRY_TEST_KUBECONFIG") {
        return PathBuf::from(p);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("bash")
        .arg(root.join("dev/cluster/cluster.sh"))
        .arg("up")
        .output()
        .expect("dev/cluster/cluster.sh up");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap()
            .trim(),
    )
}

/// Builds `ferry` in release mode and returns the binary's path.
pub fn release_ferry() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new("cargo")
        .args(["build", "--release", "--bin", "ferry"])
        .current_dir(&root)
        .status()
        .unwrap();
    assert!(status.success());
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("release/ferry")
}

/// Runs `git` in `dir`; a failure stops the benchmark with git's message.
pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Commits everything in the work tree `dir` as the benchmark's author.
pub fn commit(dir: &Path, msg: &str) {
    git(dir, &["add", "-A"]);
    git(
        dir,
        &[
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.com",
            "commit",
            "-q",
            "-m",
            msg,
        ],
    );
}

/// Runs `kubectl` against `kubeconfig`; a failure stops the benchmark with its message.
pub fn kubectl(kubeconfig: &Path, args: &[&str]) {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
