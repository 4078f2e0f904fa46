//! Prune safety end to end: the prune guard (an empty or near-empty commit prunes nothing
//! unless told), objects ferry never applied, namespaces that hold what git or others still
//! want, delete preconditions, an inventory that keeps a kind until its prunes succeeded, and
//! a lost inventory record.

mod support;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use kube::api::Api;
use support::{client, ferry, kubectl_ok, FerryRun, GitRepo, TestNamespace};

fn cm(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata: {{k: v}}\n")
}

/// `ferry <verb>` for the test's app, with its own ferry namespace so tests never share
/// inventory or history.
fn run(verb: &str, repo: &GitRepo, ns: &str, extra: &[&str]) -> FerryRun {
    let repo = repo.path_str();
    let ferry_ns = format!("{ns}-ferry");
    let mut args = vec![
        verb,
        "--repo",
        &repo,
        "--namespace",
        ns,
        "--app",
        ns,
        "--ferry-namespace",
        &ferry_ns,
    ];
    args.extend_from_slice(extra);
    ferry(&args)
}

fn assert_code(run: &FerryRun, code: i32) {
    assert_eq!(
        run.code, code,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
}

async fn names(client: &kube::Client, ns: &str) -> Vec<String> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let mut names: Vec<String> = api
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .filter(|n| n != "kube-root-ca.crt")
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn an_emptied_app_or_a_mass_prune_is_refused_until_allowed() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "safe-empty").await;
    let repo = GitRepo::new();
    for n in ["a", "b", "c", "d"] {
        repo.write(&format!("{n}.yaml"), &cm(n));
    }
    repo.commit("four config maps");
    assert_code(&run("sync", &repo, &ns.name, &["--prune"]), 0);

    // Every manifest renamed away (a typo'd rename, an ignore: ["*"]): an empty bundle.
    for n in ["a", "b", "c", "d"] {
        let from = repo.path().join(format!("{n}.yaml"));
        std::fs::rename(&from, from.with_extension("yaml.bak")).unwrap();
    }
    repo.commit("oops: rename every manifest");
    let plan = run("plan", &repo, &ns.name, &["--prune"]);
    assert_code(&plan, 2);
    assert!(
        plan.stdout
            .contains("would prune 4 of the app's 4 live objects (every object"),
        "{}",
        plan.stdout
    );
    let sync = run("sync", &repo, &ns.name, &["--prune"]);
    assert_code(&sync, 2);
    assert!(
        sync.stderr.contains("--allow-mass-prune"),
        "{}",
        sync.stderr
    );
    assert_eq!(names(&client, &ns.name).await, ["a", "b", "c", "d"]);

    // Three of four back: pruning 1 of 4 is fine, 3 of 4 (75%) is not.
    std::fs::rename(repo.path().join("a.yaml.bak"), repo.path().join("a.yaml")).unwrap();
    repo.commit("only a");
    let sync = run("sync", &repo, &ns.name, &["--prune"]);
    assert_code(&sync, 2);
    assert!(
        sync.stderr
            .contains("75% of the app, more than pruneGuard.maxPercent 50%"),
        "{}",
        sync.stderr
    );
    assert_eq!(names(&client, &ns.name).await, ["a", "b", "c", "d"]);

    // pruneGuard in ferry.yaml raises the share for this app.
    let config = repo.path().join("../ferry-guard.yaml");
    std::fs::write(
        &config,
        format!(
            "apps:\n  - name: {}\n    repo: {}\n    pruneGuard: {{maxPercent: 80}}\n",
            ns.name,
            repo.path_str()
        ),
    )
    .unwrap();
    let sync = run(
        "sync",
        &repo,
        &ns.name,
        &["--prune", "-f", config.to_str().unwrap()],
    );
    assert_code(&sync, 0);
    assert!(sync.stdout.contains("3 pruned"), "{}", sync.stdout);
    assert_eq!(names(&client, &ns.name).await, ["a"]);

    // Emptying the app on purpose, once.
    repo.remove("a.yaml");
    repo.commit("retire the app");
    assert_code(&run("sync", &repo, &ns.name, &["--prune"]), 2);
    assert_eq!(names(&client, &ns.name).await, ["a"]);
    let sync = run("sync", &repo, &ns.name, &["--prune", "--allow-mass-prune"]);
    assert_code(&sync, 0);
    assert!(names(&client, &ns.name).await.is_empty());
}

#[tokio::test]
async fn objects_ferry_never_applied_are_never_pruned() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "safe-mf").await;
    let repo = GitRepo::new();
    repo.write("a.yaml", &cm("a")).write("b.yaml", &cm("b"));
    repo.commit("a and b");
    assert_code(&run("sync", &repo, &ns.name, &["--prune"]), 0);
    // Another tool copies ferry's labels onto its own object.
    support::kubectl_apply(
        &ns.name,
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: copied\n  labels:\n    app.kubernetes.io/managed-by: ferry\n    ferry.dev/app: {}\ndata: {{k: v}}\n",
            ns.name
        ),
    );
    repo.remove("b.yaml");
    repo.commit("drop b");
    let sync = run("sync", &repo, &ns.name, &["--prune"]);
    assert_code(&sync, 0);
    assert!(
        sync.stdout
            .contains("ferry's field manager never applied it"),
        "{}",
        sync.stdout
    );
    assert_eq!(names(&client, &ns.name).await, ["a", "copied"]);
}

#[tokio::test]
async fn namespaces_are_kept_while_anything_else_lives_in_them() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "safe-ns").await;
    let ferry_ns = format!("{}-ferry", ns.name);
    let extra = format!("{}-extra", ns.name);
    let repo = GitRepo::new();
    let namespace =
        |name: &str| format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n");
    repo.write("keep.yaml", &cm("keep"))
        .write("extra.yaml", &namespace(&extra))
        .write(
            "extra-cm.yaml",
            &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: inside\n  namespace: {extra}\ndata: {{k: v}}\n"),
        )
        // ferry's own namespace, written into git by mistake.
        .write("own.yaml", &namespace(&ferry_ns));
    repo.commit("a namespace with a config map");
    assert_code(&run("sync", &repo, &ns.name, &["--prune"]), 0);
    // Somebody else's data in that namespace.
    support::kubectl_apply(&extra, &cm("theirs"));

    repo.remove("extra.yaml")
        .remove("extra-cm.yaml")
        .remove("own.yaml");
    repo.commit("retire the extra namespace");
    let sync = run("sync", &repo, &ns.name, &["--prune"]);
    assert_code(&sync, 0);
    assert!(
        sync.stdout.contains(&format!(
            "namespace {extra} holds objects ferry does not manage (ConfigMap theirs)"
        )),
        "{}",
        sync.stdout
    );
    assert!(
        sync.stdout.contains("is ferry's own namespace"),
        "{}",
        sync.stdout
    );
    let namespaces: Api<Namespace> = Api::all(client.clone());
    assert!(namespaces.get_opt(&extra).await.unwrap().is_some());
    assert!(namespaces.get_opt(&ferry_ns).await.unwrap().is_some());
    // ferry's own object inside it was pruned; the foreign one is untouched.
    assert_eq!(names(&client, &extra).await, ["theirs"]);

    // Once the foreign object is gone, the next sync prunes the namespace.
    kubectl_ok(&["delete", "configmap", "theirs", "-n", &extra]);
    let sync = run("sync", &repo, &ns.name, &["--prune"]);
    assert_code(&sync, 0);
    assert!(
        sync.stdout.contains("pruned    Namespace"),
        "{}",
        sync.stdout
    );
    let _ = kubectl_ok(&["delete", "namespace", &ferry_ns, "--wait=false"]);
}

#[tokio::test]
async fn a_kind_stays_in_the_inventory_until_its_prunes_succeed() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "safe-inv").await;
    let repo = GitRepo::new();
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\nstringData: {k: v}\n";
    repo.write(
        "agent.yaml",
        &support::daemonset_yaml("agent", "nginx:1.27"),
    )
    .write("token.yaml", secret)
    .write("a.yaml", &cm("a"));
    repo.commit("agent, token, a");
    assert_code(
        &run("sync", &repo, &ns.name, &["--prune", "--grace", "1s"]),
        0,
    );

    // The only Secret leaves git in a commit whose rollout fails: its prune never runs.
    repo.remove("token.yaml");
    repo.write(
        "agent.yaml",
        &support::daemonset_yaml("agent", "nginx:doesnotexist"),
    );
    repo.commit("drop the token, break the agent");
    let failed = run("sync", &repo, &ns.name, &["--prune", "--grace", "1s"]);
    assert_code(&failed, 3);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &ns.name);
    assert!(secrets.get_opt("token").await.unwrap().is_some());

    // The fix: Secret is still a kind of this app, so the token is found and pruned.
    repo.write(
        "agent.yaml",
        &support::daemonset_yaml("agent", "nginx:1.28"),
    );
    repo.commit("fix the agent");
    let fixed = run("sync", &repo, &ns.name, &["--prune", "--grace", "1s"]);
    assert_code(&fixed, 0);
    assert!(
        fixed.stdout.contains("pruned    Secret"),
        "{}",
        fixed.stdout
    );
    assert!(secrets.get_opt("token").await.unwrap().is_none());
}

#[tokio::test]
async fn a_lost_inventory_record_defers_prunes_to_the_next_sync_and_loses_nothing() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "safe-lost").await;
    let repo = GitRepo::new();
    repo.write("a.yaml", &cm("a")).write("b.yaml", &cm("b"));
    repo.commit("a and b");
    assert_code(&run("sync", &repo, &ns.name, &["--prune"]), 0);

    // The record is gone (ferry's namespace wiped by hand) and b left git meanwhile.
    let ferry_ns = format!("{}-ferry", ns.name);
    let record = format!("configmap/ferry-inventory-{}", ns.name);
    kubectl_ok(&["delete", &record, "-n", &ferry_ns]);
    repo.remove("b.yaml");
    repo.commit("drop b");
    // Without a record ferry lists nothing: a is kept as git wants, b is not pruned yet.
    let first = run("sync", &repo, &ns.name, &["--prune"]);
    assert_code(&first, 0);
    assert!(!first.stdout.contains("pruned"), "{}", first.stdout);
    assert_eq!(names(&client, &ns.name).await, ["a", "b"]);
    // That sync recorded the app's kinds again: the next one finds b and prunes it.
    let second = run("sync", &repo, &ns.name, &["--prune"]);
    assert_code(&second, 0);
    assert!(
        second.stdout.contains("pruned    ConfigMap"),
        "{}",
        second.stdout
    );
    assert_eq!(names(&client, &ns.name).await, ["a"]);
}
