//! A render that fails applies nothing and says why, naming the repository file: a patch
//! with no target, a remote base, a link out of the repository, a bad template, a missing
//! values file, a missing tool.

mod support;

use k8s_openapi::api::apps::v1::{DaemonSet, StatefulSet};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use support::render::{
    helm_config, write_base, write_db_chart, write_db_values, write_prod_overlay,
};
use support::{client, ferry, FerryRun, Remote, TestNamespace};

fn sync_overlay(remote: &Remote, ns: &str, extra: &[&str]) -> FerryRun {
    let url = remote.url();
    let mut args = vec![
        "sync",
        "--repo",
        url.as_str(),
        "--namespace",
        ns,
        "--app",
        ns,
    ];
    args.extend(["--path", "overlays/prod", "--grace", "2s"]);
    args.extend_from_slice(extra);
    ferry(&args)
}

fn sync_chart(remote: &Remote, ns: &str) -> FerryRun {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ferry.yaml");
    std::fs::write(&config, helm_config(ns, &remote.url(), ns, "")).unwrap();
    let config = config.display().to_string();
    ferry(&[
        "sync",
        "--config",
        config.as_str(),
        "--app",
        ns,
        "--grace",
        "2s",
    ])
}

/// Nothing of the app reached the namespace.
async fn nothing_applied(client: &kube::Client, ns: &str) {
    let ds = Api::<DaemonSet>::namespaced(client.clone(), ns)
        .get_opt("agent")
        .await
        .unwrap();
    let cm = Api::<ConfigMap>::namespaced(client.clone(), ns)
        .get_opt("agent-config")
        .await
        .unwrap();
    let sts = Api::<StatefulSet>::namespaced(client.clone(), ns)
        .get_opt("db")
        .await
        .unwrap();
    assert!(
        ds.is_none() && cm.is_none() && sts.is_none(),
        "a failed render applied something"
    );
}

fn failed_with(out: &FerryRun, expected: &str) {
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(expected),
        "expected {expected:?} in:\n{}",
        out.stderr
    );
    // Nothing of the private workspace leaks into the message.
    assert!(!out.stderr.contains("ferry-render-"), "{}", out.stderr);
}

#[tokio::test]
async fn a_patch_without_a_target_names_the_patch_file() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "re-patch").await;
    let remote = Remote::new();
    write_base(&remote.work, "1.0", "info");
    write_prod_overlay(&remote.work, "registry.example/agent:2.0");
    // The patch now names an object the base does not have.
    let patch =
        std::fs::read_to_string(remote.work.path().join("overlays/prod/image.yaml")).unwrap();
    remote.work.write(
        "overlays/prod/image.yaml",
        &patch.replace("name: agent\nspec", "name: agnet\nspec"),
    );
    remote.commit_and_push("typo in the patch");
    let out = sync_overlay(&remote, &ns.name, &[]);
    failed_with(
        &out,
        "kustomize failed rendering overlays/prod: recursed accumulation of path 'overlays/prod': no resource matches strategic merge patch \"DaemonSet.v1.apps/agnet.[noNs]\"",
    );
    failed_with(&out, "(the patch is overlays/prod/image.yaml)");
    nothing_applied(&client, &ns.name).await;
}

#[tokio::test]
async fn a_remote_base_is_refused_before_kustomize_runs() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "re-remote").await;
    let remote = Remote::new();
    write_base(&remote.work, "1.0", "info");
    remote.work.write(
        "overlays/prod/kustomization.yaml",
        "resources:\n- ../../base\n- https://github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v3.3.1\n",
    );
    remote.commit_and_push("remote base");
    let out = sync_overlay(&remote, &ns.name, &[]);
    failed_with(
        &out,
        "overlays/prod/kustomization.yaml:3: \"https://github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v3.3.1\" is remote; ferry renders offline",
    );
    nothing_applied(&client, &ns.name).await;
}

#[tokio::test]
async fn a_link_out_of_the_repository_is_refused() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "re-link").await;
    let remote = Remote::new();
    write_base(&remote.work, "1.0", "info");
    write_prod_overlay(&remote.work, "registry.example/agent:2.0");
    std::os::unix::fs::symlink("/etc/passwd", remote.work.path().join("base/passwd.yaml")).unwrap();
    remote.commit_and_push("a link out");
    let out = sync_overlay(&remote, &ns.name, &[]);
    failed_with(
        &out,
        "base/passwd.yaml: symbolic link to \"/etc/passwd\" leaves the repository",
    );
    nothing_applied(&client, &ns.name).await;
}

#[tokio::test]
async fn a_bad_template_names_the_template_and_line() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "re-tpl").await;
    let remote = Remote::new();
    write_db_chart(&remote.work);
    write_db_values(&remote.work, 1, "1.0");
    remote.work.write(
        "charts/db/templates/config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db-config\ndata:\n  size: {{ .Values.size | nosuchfunction }}\n",
    );
    remote.commit_and_push("bad template");
    let out = sync_chart(&remote, &ns.name);
    failed_with(&out, "helm failed rendering charts/db:");
    failed_with(&out, "charts/db/templates/config.yaml:6");
    failed_with(&out, "function \"nosuchfunction\" not defined");
    nothing_applied(&client, &ns.name).await;
}

#[tokio::test]
async fn a_missing_values_file_is_named() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "re-values").await;
    let remote = Remote::new();
    write_db_chart(&remote.work);
    remote.commit_and_push("chart without values/prod.yaml");
    let out = sync_chart(&remote, &ns.name);
    failed_with(
        &out,
        "helm.valuesFiles: values/prod.yaml does not exist at this commit",
    );
    nothing_applied(&client, &ns.name).await;
}

#[tokio::test]
async fn a_missing_tool_says_how_to_install_it() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "re-tool").await;
    let remote = Remote::new();
    write_base(&remote.work, "1.0", "info");
    write_prod_overlay(&remote.work, "registry.example/agent:2.0");
    remote.commit_and_push("overlay");
    let out = sync_overlay(
        &remote,
        &ns.name,
        &["--kustomize-bin", "/nonexistent/kustomize"],
    );
    failed_with(
        &out,
        "kustomize is needed to render overlays/prod but --kustomize-bin /nonexistent/kustomize is not an executable file; install kustomize v5.8.2 (`bash dev/cluster/install.sh`",
    );
    nothing_applied(&client, &ns.name).await;
    // `render: plain` reads the same path as YAML, without kustomize: its kustomization.yaml
    // is then not a Kubernetes object.
    let url = remote.url();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ferry.yaml");
    std::fs::write(
        &config,
        format!("apps:\n  - name: {0}\n    repo: {url}\n    path: overlays/prod\n    namespace: {0}\n    render: plain\n", ns.name),
    )
    .unwrap();
    let config = config.display().to_string();
    let out = ferry(&[
        "plan",
        "--config",
        config.as_str(),
        "--app",
        &ns.name,
        "--kustomize-bin",
        "/nonexistent/kustomize",
    ]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("overlays/prod/kustomization.yaml:1: missing apiVersion"),
        "{}",
        out.stderr
    );
}
