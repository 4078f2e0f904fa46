//! What every benchmark needs first: the local control plane and a release build of ferry.

use std::path::PathBuf;
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
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("release/ferry")
}
