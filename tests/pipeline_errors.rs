//! End-to-end: what `ferry plan` / `ferry sync` do with bad input and failures — malformed
//! files, server rejections, unreachable repositories and clusters — and that Secret data is
//! never printed. Each must apply nothing and say why.

#[path = "support/pipeline.rs"]
mod pipeline_support;
mod support;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::Api;
use pipeline_support::*;
use support::{client, ferry, GitRepo, TestNamespace};

#[tokio::test]
async fn a_malformed_file_applies_nothing_and_names_file_and_line() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "p-bad").await;
    let repo = GitRepo::new();
    repo.write("good.yaml", &cm_yaml("good", "1")).write(
        "bad.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  key: [unclosed\n",
    );
    repo.commit("broken");
    let sync = run("sync", &repo, &ns.name, &[]);
    assert_code(&sync, 2);
    assert!(sync.stderr.contains("bad.yaml:"), "{}", sync.stderr);
    let cms = Api::<ConfigMap>::namespaced(client.clone(), &ns.name);
    assert!(
        cms.get_opt("good").await.unwrap().is_none(),
        "nothing from a bad commit is applied"
    );

    // A document missing its kind: file and line of that document.
    repo.write(
        "bad.yaml",
        &format!(
            "{}---\napiVersion: v1\nmetadata:\n  name: nokind\n",
            cm_yaml("first", "1")
        ),
    );
    repo.commit("no kind");
    let sync = run("sync", &repo, &ns.name, &[]);
    assert_code(&sync, 2);
    assert!(sync.stderr.contains("bad.yaml:8"), "{}", sync.stderr);
    assert!(sync.stderr.contains("kind"), "{}", sync.stderr);

    // A kind the server does not serve.
    repo.write(
        "bad.yaml",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n",
    );
    repo.commit("unknown kind");
    let sync = run("sync", &repo, &ns.name, &[]);
    assert_code(&sync, 2);
    assert!(sync.stderr.contains("bad.yaml:1"), "{}", sync.stderr);
    assert!(sync.stderr.contains("Widget"), "{}", sync.stderr);
    assert!(cms.get_opt("good").await.unwrap().is_none());
}

#[tokio::test]
async fn a_server_rejection_applies_nothing_and_an_immutable_change_is_explained() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "p-immutable").await;
    let repo = GitRepo::new();
    let sts = |selector: &str| {
        format!(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: web\nspec:\n  serviceName: web\n  replicas: 1\n  selector: {{matchLabels: {{app: {selector}}}}}\n  template:\n    metadata: {{labels: {{app: {selector}}}}}\n    spec:\n      containers: [{{name: nginx, image: nginx:1.27}}]\n"
        )
    };
    repo.write("sts.yaml", &sts("web"))
        .write("cm.yaml", &cm_yaml("c", "1"));
    repo.commit("initial");
    assert_code(&run("sync", &repo, &ns.name, &[]), 0);

    repo.write("sts.yaml", &sts("web2"))
        .write("cm.yaml", &cm_yaml("c", "2"));
    repo.commit("change selector");
    let plan = run("plan", &repo, &ns.name, &[]);
    assert_code(&plan, 2);
    assert!(
        plan.stdout.contains("! invalid  StatefulSet"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("sts.yaml:1"), "{}", plan.stdout);
    assert!(plan.stdout.contains("Forbidden"), "{}", plan.stdout);
    let sync = run("sync", &repo, &ns.name, &[]);
    assert_code(&sync, 2);
    assert!(sync.stderr.contains("nothing applied"), "{}", sync.stderr);
    let cm = Api::<ConfigMap>::namespaced(client.clone(), &ns.name)
        .get("c")
        .await
        .unwrap();
    assert_eq!(
        cm.data.unwrap()["key"],
        "1",
        "the valid ConfigMap change was not applied either"
    );
}

#[tokio::test]
async fn secret_data_is_never_printed() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "p-secret").await;
    let repo = GitRepo::new();
    let secret = |v: &str| {
        format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: {v}\n")
    };
    repo.write("secret.yaml", &secret("hunter2-first-value"));
    repo.commit("initial");
    for out in [
        run("plan", &repo, &ns.name, &["--diff"]),
        run("plan", &repo, &ns.name, &["-o", "json"]),
        run("sync", &repo, &ns.name, &["--diff"]),
    ] {
        assert!(!out.stdout.contains("hunter2"), "{}", out.stdout);
        assert!(
            !out.stdout.contains("aHVudGVyMi"),
            "base64 leaked: {}",
            out.stdout
        );
    }
    repo.write("secret.yaml", &secret("hunter2-second-value"));
    repo.commit("rotate");
    let plan = run("plan", &repo, &ns.name, &["--diff"]);
    assert_code(&plan, 1);
    assert!(plan.stdout.contains("data.password"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("hunter2"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("aHVudGVyMi"), "{}", plan.stdout);
}

#[tokio::test]
async fn unreachable_repositories_and_clusters_give_clear_errors() {
    let ns = "p-unreachable";
    let out = ferry(&[
        "plan",
        "--repo",
        "file:///nonexistent/ferry-repo.git",
        "--namespace",
        ns,
    ]);
    assert_code(&out, 2);
    assert!(
        out.stderr
            .contains("cannot fetch file:///nonexistent/ferry-repo.git"),
        "{}",
        out.stderr
    );

    let out = ferry(&[
        "plan",
        "--repo",
        "https://127.0.0.1:9/org/repo.git",
        "--namespace",
        ns,
    ]);
    assert_code(&out, 2);
    assert!(
        out.stderr
            .contains("cannot fetch https://127.0.0.1:9/org/repo.git"),
        "{}",
        out.stderr
    );

    // A cluster that is not there: a kubeconfig pointing at a closed port.
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    std::fs::write(
        &kc,
        "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:9', insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n",
    )
    .unwrap();
    let repo = GitRepo::new();
    repo.write("cm.yaml", &cm_yaml("c", "1"));
    repo.commit("one");
    let out = ferry(&[
        "plan",
        "--repo",
        &repo.path_str(),
        "--kubeconfig",
        kc.to_str().unwrap(),
    ]);
    assert_code(&out, 2);
    assert!(
        out.stderr.contains("cannot reach the API server"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("token: t"), "no secrets in errors");
}

#[tokio::test]
async fn objects_in_a_namespace_the_commit_creates_are_still_validated_first() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "p-newns").await;
    let new_ns = format!("{}-new", ns.name);
    let repo = GitRepo::new();
    repo.write(
        "ns.yaml",
        &format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {new_ns}\n"),
    )
    .write(
        "agent.yaml",
        &ds_yaml("agent", "nginx:1.27")
            .replacen(
                "name: agent\n",
                &format!("name: agent\n  namespace: {new_ns}\n"),
                1,
            )
            .replace("- name: agent", "- name: Not_A_Valid_Name"),
    );
    repo.commit("new namespace with an invalid DaemonSet");
    let plan = run("plan", &repo, &ns.name, &[]);
    assert_code(&plan, 2);
    assert!(plan.stderr.is_empty(), "{}", plan.stderr);
    assert!(
        plan.stdout.contains("! invalid  DaemonSet"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("agent.yaml:2"), "{}", plan.stdout);
    let sync = run("sync", &repo, &ns.name, &[]);
    assert_code(&sync, 2);
    let namespaces = Api::<Namespace>::all(client.clone());
    assert!(
        namespaces.get_opt(&new_ns).await.unwrap().is_none(),
        "the namespace of a rejected commit is not created"
    );
}

#[tokio::test]
async fn waiting_for_a_deletion_that_never_ends_is_a_timeout_naming_the_object() {
    use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
    let client = client().await;
    let ns = TestNamespace::new(&client, "p-gone").await;
    let cms = Api::<ConfigMap>::namespaced(client.clone(), &ns.name);
    // A finalizer nobody removes holds the object in deletion, as a stuck controller would.
    let held: ConfigMap = serde_json::from_value(serde_json::json!({
        "metadata": { "name": "held", "finalizers": ["ferry.dev/test-hold"] }
    }))
    .unwrap();
    cms.create(&PostParams::default(), &held).await.unwrap();
    cms.delete("held", &DeleteParams::default()).await.unwrap();

    let cluster = ferry::cluster::Cluster::from_client(client.clone(), "test".into());
    let kind = cluster
        .served_kind("", "v1", "ConfigMap")
        .await
        .unwrap()
        .unwrap();
    let err = cluster
        .wait_gone(
            &kind,
            Some(&ns.name),
            "held",
            std::time::Duration::from_secs(1),
        )
        .await
        .unwrap_err();
    let release = serde_json::json!({ "metadata": { "finalizers": null } });
    cms.patch("held", &PatchParams::default(), &Patch::Merge(&release))
        .await
        .unwrap();
    assert!(
        matches!(err, ferry::cluster::ClusterError::Timeout { .. }),
        "{err:?}"
    );
    assert_eq!(err.code(), None, "no made-up HTTP status");
    assert_eq!(
        err.to_string(),
        format!(
            "waiting for ConfigMap {}/held to be deleted: timed out after 1s",
            ns.name
        )
    );
}
