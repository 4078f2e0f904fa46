//! Ownership end to end: apps whose derived names collide, two ferry installs on one
//! cluster, an object another app manages, and a prune of an object recreated since the plan.

mod support;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use support::{client, ferry, kubectl_ok, FerryRun, GitRepo, TestNamespace};

fn cm(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata: {{k: v}}\n")
}

fn assert_code(run: &FerryRun, code: i32) {
    assert_eq!(
        run.code, code,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
}

/// `ferry <verb> --repo R --namespace NS --ferry-namespace FNS …` (no --app unless given).
fn run(verb: &str, repo: &GitRepo, ns: &str, ferry_ns: &str, extra: &[&str]) -> FerryRun {
    let repo = repo.path_str();
    let mut args = vec![
        verb,
        "--repo",
        &repo,
        "--namespace",
        ns,
        "--ferry-namespace",
        ferry_ns,
    ];
    args.extend_from_slice(extra);
    ferry(&args)
}

fn app_label(client_ns: &str, name: &str) -> String {
    kubectl_ok(&[
        "get",
        "configmap",
        name,
        "-n",
        client_ns,
        "-o",
        "jsonpath={.metadata.labels.ferry\\.dev/app}",
    ])
}

#[tokio::test]
async fn apps_whose_paths_end_in_the_same_word_never_share_an_inventory() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "own-name").await;
    let ferry_ns = format!("{}-ferry", ns.name);
    // Both directories end in the namespace's name, so both apps derive that name.
    let leaf = ns.name.clone();
    let repo = GitRepo::new();
    repo.write(&format!("clusters/{leaf}/a.yaml"), &cm("a"))
        .write(&format!("envs/{leaf}/b.yaml"), &cm("b"));
    repo.commit("two environments");
    let clusters = format!("clusters/{leaf}");
    let envs = format!("envs/{leaf}");
    assert_code(
        &run(
            "sync",
            &repo,
            &ns.name,
            &ferry_ns,
            &["--path", &clusters, "--prune"],
        ),
        0,
    );
    let other = run(
        "sync",
        &repo,
        &ns.name,
        &ferry_ns,
        &["--path", &envs, "--prune"],
    );
    assert_code(&other, 2);
    assert!(
        other
            .stderr
            .contains(&format!("app name \"{leaf}\" was derived"))
            && other.stderr.contains(&format!("path=\"{clusters}\""))
            && other.stderr.contains("--app NAME"),
        "{}",
        other.stderr
    );
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), &ns.name);
    assert!(cms.get_opt("a").await.unwrap().is_some(), "a was pruned");
    assert!(cms.get_opt("b").await.unwrap().is_none(), "b was applied");

    // The same two apps in one ferry.yaml are refused when it is read.
    let config = repo.path().join("../ferry-dup.yaml");
    std::fs::write(
        &config,
        format!(
            "apps:\n  - repo: {r}\n    path: {clusters}\n  - repo: {r}\n    path: {envs}\n",
            r = repo.path_str()
        ),
    )
    .unwrap();
    let out = ferry(&["plan", "-f", config.to_str().unwrap(), "--app", &leaf]);
    assert_code(&out, 2);
    assert!(
        out.stderr
            .contains(&format!("apps 1 and 2 are both called \"{leaf}\"")),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn two_installs_never_prune_or_take_each_others_objects() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "own-inst").await;
    let (one, two) = (format!("{}-one", ns.name), format!("{}-two", ns.name));
    let app = ["--app", "shared-name", "--prune"];
    let first = GitRepo::new();
    first.write("a.yaml", &cm("a")).write("x.yaml", &cm("x"));
    first.commit("install one");
    assert_code(&run("sync", &first, &ns.name, &one, &app), 0);

    // The second install's app has the same name and none of the first's objects.
    let second = GitRepo::new();
    second.write("b.yaml", &cm("b"));
    second.commit("install two");
    let sync = run("sync", &second, &ns.name, &two, &app);
    assert_code(&sync, 0);
    assert!(!sync.stdout.contains("prune"), "{}", sync.stdout);
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), &ns.name);
    for name in ["a", "x", "b"] {
        assert!(cms.get_opt(name).await.unwrap().is_some(), "{name}");
    }
    // Wanting the other install's object is a conflict, not a takeover.
    second.write("a.yaml", &cm("a"));
    second.commit("want a too");
    let conflict = run("sync", &second, &ns.name, &two, &app);
    assert_code(&conflict, 2);
    assert!(
        conflict.stderr.contains(&format!(
            "another ferry install (ferry namespace \"{one}\")"
        )),
        "{}",
        conflict.stderr
    );
    for ferry_ns in [one, two] {
        let _ = kubectl_ok(&["delete", "namespace", &ferry_ns, "--wait=false"]);
    }
}

#[tokio::test]
async fn an_object_of_another_app_moves_only_when_asked() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "own-adopt").await;
    let ferry_ns = format!("{}-ferry", ns.name);
    let first = GitRepo::new();
    first
        .write("shared.yaml", &cm("shared"))
        .write("a.yaml", &cm("a"));
    first.commit("first app");
    assert_code(
        &run("sync", &first, &ns.name, &ferry_ns, &["--app", "first"]),
        0,
    );
    let second = GitRepo::new();
    second.write("shared.yaml", &cm("shared"));
    second.commit("second app wants shared");
    let conflict = run("sync", &second, &ns.name, &ferry_ns, &["--app", "second"]);
    assert_code(&conflict, 2);
    assert!(
        conflict
            .stderr
            .contains("already managed by ferry app \"first\"")
            && conflict.stderr.contains("--take-over"),
        "{}",
        conflict.stderr
    );
    assert_eq!(app_label(&ns.name, "shared"), "first");

    let moved = run(
        "sync",
        &second,
        &ns.name,
        &ferry_ns,
        &["--app", "second", "--take-over"],
    );
    assert_code(&moved, 0);
    assert_eq!(app_label(&ns.name, "shared"), "second");
    // The first app no longer flips it back: it now conflicts with the second.
    let back = run("sync", &first, &ns.name, &ferry_ns, &["--app", "first"]);
    assert_code(&back, 2);
    assert!(
        back.stderr
            .contains("already managed by ferry app \"second\""),
        "{}",
        back.stderr
    );
    assert_eq!(app_label(&ns.name, "shared"), "second");
    let _ = kubectl_ok(&["delete", "namespace", &ferry_ns, "--wait=false"]);
}

#[tokio::test]
async fn a_prune_never_deletes_an_object_recreated_since_the_plan() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "own-uid").await;
    let ferry_ns = format!("{}-ferry", ns.name);
    let repo = GitRepo::new();
    for n in ["a", "b", "gone"] {
        repo.write(&format!("{n}.yaml"), &cm(n));
    }
    repo.commit("three");
    assert_code(
        &run("sync", &repo, &ns.name, &ferry_ns, &["--app", &ns.name]),
        0,
    );
    repo.remove("gone.yaml");
    repo.commit("drop gone");

    let cluster = ferry::cluster::Cluster::from_client(client.clone(), "test".into());
    let engine = ferry::reconcile::Engine {
        cluster: cluster.clone(),
        cache_dir: std::env::temp_dir().join("ferry-test-cache"),
        ferry_namespace: ferry_ns.clone(),
        limits: Default::default(),
        concurrency: 8,
        fetch_timeout: ferry::source::DEFAULT_FETCH_TIMEOUT,
        identity: "ferry-test".into(),
        render: Default::default(),
        notifier: Default::default(),
    };
    let app = ferry::config::AppConfig {
        name: Some(ns.name.clone()),
        repo: Some(repo.path_str()),
        namespace: Some(ns.name.clone()),
        prune: Some(true),
        ..Default::default()
    }
    .resolve()
    .unwrap();
    let plan = ferry::reconcile::plan(&engine, &app, ferry::reconcile::PlanFrom::Head)
        .await
        .unwrap();
    assert_eq!(plan.summary(), [("prune", 1), ("unchanged", 2)]);

    // Between the plan and the prune, somebody deletes and recreates "gone" (same labels,
    // even applied by ferry's field manager): it is a new object, not the one planned.
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), &ns.name);
    let old_uid = cms.get("gone").await.unwrap().metadata.uid;
    kubectl_ok(&["delete", "configmap", "gone", "-n", &ns.name]);
    let live = kubectl_ok(&["get", "configmap", "a", "-n", &ns.name, "-o", "json"]);
    let mut again: serde_json::Value = serde_json::from_str(&live).unwrap();
    again["metadata"] = serde_json::json!({
        "name": "gone", "namespace": ns.name, "labels": again["metadata"]["labels"].clone()
    });
    let kind = plan.changes.iter().find_map(|c| c.kind.clone()).unwrap();
    cluster
        .apply(&kind, Some(&ns.name), "gone", &again, false)
        .await
        .unwrap();

    let report = ferry::apply::execute(&cluster, &plan, &Default::default())
        .await
        .unwrap();
    let gone = report
        .results
        .iter()
        .find(|r| r.key.name == "gone")
        .unwrap();
    assert!(
        matches!(&gone.outcome, ferry::apply::Outcome::Kept(why) if why.contains("created again")),
        "{:?}",
        gone.outcome
    );
    let now = cms.get("gone").await.unwrap();
    assert_ne!(now.metadata.uid, old_uid, "the recreated object survives");
    let _ = kubectl_ok(&["delete", "namespace", &ferry_ns, "--wait=false"]);
}
