use super::*;

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn run<'a>(exe: &'a Path, home: &'a Path, timeout_ms: u64, max_output: usize) -> Run<'a> {
    Run {
        tool: RenderKind::Kustomize,
        root: "overlays/prod",
        exe,
        args: vec![],
        cwd: home,
        home,
        timeout: std::time::Duration::from_millis(timeout_ms),
        max_output,
    }
}

#[tokio::test]
async fn the_tool_sees_an_empty_environment_and_no_network() {
    let dir = tempfile::tempdir().unwrap();
    std::env::set_var("FERRY_TEST_SECRET_FOR_RENDER", "s3cret");
    let exe = script(
        dir.path(),
        "env-tool",
        "echo \"home=$HOME path=$PATH proxy=$HTTPS_PROXY secret=$FERRY_TEST_SECRET_FOR_RENDER kube=$KUBECONFIG\"",
    );
    let out = run(&exe, dir.path(), 5000, 1024).output().await.unwrap();
    let home = dir.path().display();
    assert_eq!(
        String::from_utf8(out).unwrap().trim(),
        format!("home={home} path= proxy=http://127.0.0.1:9 secret= kube={home}/no-kubeconfig")
    );
}

#[tokio::test]
async fn a_failing_tool_reports_its_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let exe = script(
        dir.path(),
        "fails",
        "echo 'Error: no such patch target' >&2; exit 1",
    );
    let err = run(&exe, dir.path(), 5000, 1024)
        .output()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "kustomize failed rendering overlays/prod: Error: no such patch target"
    );
}

#[tokio::test]
async fn a_tool_that_hangs_is_killed_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let exe = script(dir.path(), "hangs", "while :; do :; done");
    let started = std::time::Instant::now();
    let err = run(&exe, dir.path(), 300, 1024).output().await.unwrap_err();
    assert!(matches!(err, RenderError::Timeout { .. }), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[tokio::test]
async fn a_tool_that_writes_too_much_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let exe = script(
        dir.path(),
        "floods",
        "while :; do echo aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; done",
    );
    let err = run(&exe, dir.path(), 20_000, 64 * 1024)
        .output()
        .await
        .unwrap_err();
    assert!(
        matches!(err, RenderError::OutputTooLarge { limit: 65536, .. }),
        "{err}"
    );
}

#[test]
fn a_missing_tool_names_the_install_command() {
    let tools = RenderTools::new(ToolPaths {
        kustomize: Some("/nonexistent/kustomize".into()),
        helm: None,
    });
    let err = tools
        .locate(RenderKind::Kustomize, "overlays/prod")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "kustomize is needed to render overlays/prod but --kustomize-bin /nonexistent/kustomize is not \
             an executable file; install kustomize {PINNED_KUSTOMIZE} (`bash dev/cluster/install.sh` builds \
             the pinned version into ~/.cache/ferry/k8s/<kube version>/bin) and put it on PATH, or pass \
             --kustomize-bin"
        )
    );
}
