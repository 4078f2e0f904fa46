//! End-to-end: a git repository in a temp dir → `ferry plan` / `ferry sync` → the local
//! control plane, checked through `kube::Client` and `kubectl`. Bad input and failures are in
//! `pipeline_errors.rs`.

#[path = "support/pipeline.rs"]
mod pipeline_support;
mod support;

use std::time::Duration;

use k8s_openapi::api::apps::v1::{DaemonSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
use k8s_openapi::api::scheduling::v1::PriorityClass;
use kube::api::Api;
use pipeline_support::*;
use support::{client, ferry, kubectl_ok, wait_until, GitRepo, TestNamespace};

#[tokio::test]
async fn first_sync_creates_everything_in_wave_order() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "p-waves").await;
    let other_ns = format!("{}-extra", ns.name);
    let pc = format!("{}-critical", ns.name);
    let repo = GitRepo::new();
    repo.write("ns.yaml", &format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {other_ns}\n"))
        .write("pc.yaml", &format!("apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: {pc}\nvalue: 1000\n"))
        .write("cfg/config.yaml", &cm_yaml("settings", "a"))
        .write("cfg/sa.yaml", &format!("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: agent\n  namespace: {other_ns}\n"))
        .write("apps/agent.yaml", &ds_yaml("agent", "nginx:1.18.0"));
    repo.commit("initial");

    let plan = run("plan", &repo, &ns.name, &[]);
    assert_code(&plan, 1);
    assert!(
        plan.stdout.contains("+ create   Namespace"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("5 to create"), "{}", plan.stdout);
    // The ServiceAccount's namespace does not exist yet: planned, not dry-run, and said so.
    assert!(
        plan.stdout.contains("created by this commit"),
        "{}",
        plan.stdout
    );

    let sync = run("sync", &repo, &ns.name, &[]);
    assert_code(&sync, 0);
    assert!(
        sync.stdout.contains("Sync complete: 5 created"),
        "{}",
        sync.stdout
    );

    let namespace = Api::<Namespace>::all(client.clone())
        .get(&other_ns)
        .await
        .unwrap();
    let priority = Api::<PriorityClass>::all(client.clone())
        .get(&pc)
        .await
        .unwrap();
    let cm = Api::<ConfigMap>::namespaced(client.clone(), &ns.name)
        .get("settings")
        .await
        .unwrap();
    let sa = Api::<ServiceAccount>::namespaced(client.clone(), &other_ns)
        .get("agent")
        .await
        .unwrap();
    let ds = Api::<DaemonSet>::namespaced(client.clone(), &ns.name)
        .get("agent")
        .await
        .unwrap();
    // Waves are applied one after the other, so creation order is visible in etcd revisions.
    assert!(rv(&namespace.metadata) < rv(&priority.metadata));
    assert!(rv(&priority.metadata) < rv(&cm.metadata).min(rv(&sa.metadata)));
    assert!(rv(&cm.metadata).max(rv(&sa.metadata)) < rv(&ds.metadata));
    // Inventory labels and the commit annotations are on what ferry applied.
    let labels = ds.metadata.labels.clone().unwrap();
    assert_eq!(labels["app.kubernetes.io/managed-by"], "ferry");
    assert_eq!(labels["ferry.dev/app"], ns.name);
    let annotations = ds.metadata.annotations.clone().unwrap();
    assert!(annotations["kubernetes.io/change-cause"].starts_with("ferry "));
    assert!(annotations["kubernetes.io/change-cause"].ends_with(": initial"));
    assert_eq!(annotations["ferry.dev/commit"].len(), 40);

    // Cleanup of cluster-scoped objects.
    support::delete_cluster_scoped::<PriorityClass>(&client, &pc).await;
    support::delete_cluster_scoped::<Namespace>(&client, &other_ns).await;
}

#[tokio::test]
async fn an_image_change_plans_exactly_that_field_and_applies_it() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "p-image").await;
    let repo = GitRepo::new();
    repo.write("fluentd.yaml", &ds_yaml("fluentd", "nginx:1.18.0"))
        .write("config.yaml", &cm_yaml("fluentd", "x"));
    repo.commit("initial");
    assert_code(&run("sync", &repo, &ns.name, &[]), 0);

    repo.write("fluentd.yaml", &ds_yaml("fluentd", "nginx:latest"));
    repo.commit("Bump fluentd to latest");
    let plan = run("plan", &repo, &ns.name, &[]);
    assert_code(&plan, 1);
    let field_lines: Vec<&str> = plan
        .stdout
        .lines()
        .filter(|l| l.starts_with("      ") && l.contains(':'))
        .collect();
    assert_eq!(
        field_lines,
        vec![
            "      spec.template.spec.containers[name=fluentd].image: nginx:1.18.0 → nginx:latest"
        ],
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("1 to update, 1 unchanged"),
        "{}",
        plan.stdout
    );

    let json = run("plan", &repo, &ns.name, &["-o", "json"]);
    assert_code(&json, 1);
    let parsed: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let update = parsed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["action"] == "update")
        .unwrap();
    assert_eq!(
        update["fields"][0]["path"],
        "spec.template.spec.containers[name=fluentd].image"
    );

    assert_code(&run("sync", &repo, &ns.name, &[]), 0);
    let ds = Api::<DaemonSet>::namespaced(client.clone(), &ns.name)
        .get("fluentd")
        .await
        .unwrap();
    let image = ds.spec.unwrap().template.spec.unwrap().containers[0]
        .image
        .clone()
        .unwrap();
    assert_eq!(image, "nginx:latest");
    let cause = &ds.metadata.annotations.unwrap()["kubernetes.io/change-cause"];
    assert!(cause.ends_with(": Bump fluentd to latest"), "{cause}");
    let image = kubectl_ok(&[
        "get",
        "ds",
        "fluentd",
        "-n",
        &ns.name,
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    assert_eq!(image, "nginx:latest");
}

#[tokio::test]
async fn an_unchanged_repo_plans_no_changes_and_writes_nothing() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "p-noop").await;
    let repo = GitRepo::new();
    repo.write("ds.yaml", &ds_yaml("agent", "nginx:1.27"))
        .write("cm.yaml", &cm_yaml("settings", "1"))
        .write("job.yaml", &job_yaml("once", "hi"))
        .write(
            "svc.yaml",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  clusterIP: None\n  selector: {app: web}\n  ports: [{port: 80}]\n",
        );
    repo.commit("initial");
    assert_code(&run("sync", &repo, &ns.name, &[]), 0);
    let cms = Api::<ConfigMap>::namespaced(client.clone(), &ns.name);
    let before = rv(&cms.get("settings").await.unwrap().metadata);

    // A later commit that touches nothing ferry applies.
    repo.write("README.md", "docs only\n");
    repo.commit("docs");
    let plan = run("plan", &repo, &ns.name, &[]);
    assert_code(&plan, 0);
    assert!(plan.stdout.contains("No changes."), "{}", plan.stdout);

    // Count API writes through the library: a no-change sync issues none.
    let cluster = ferry::cluster::Cluster::from_client(client.clone(), "test".into());
    let engine = ferry::reconcile::Engine {
        cluster: cluster.clone(),
        cache_dir: std::env::temp_dir().join("ferry-test-cache"),
        ferry_namespace: ferry::cluster::DEFAULT_FERRY_NAMESPACE.into(),
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
        ..Default::default()
    }
    .resolve()
    .unwrap();
    let report = ferry::reconcile::sync(&engine, &app, Default::default())
        .await
        .unwrap();
    assert!(!report.plan.has_changes());
    assert_eq!(
        cluster.counters().writes(),
        0,
        "no-change sync wrote to the API"
    );
    assert_eq!(
        cluster.counters().dry_runs(),
        0,
        "every object was proven unchanged without a dry-run"
    );
    assert_eq!(rv(&cms.get("settings").await.unwrap().metadata), before);
}

#[tokio::test]
async fn a_hand_edit_shows_as_drift_and_sync_restores_git() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "p-drift").await;
    let repo = GitRepo::new();
    repo.write("ds.yaml", &ds_yaml("agent", "nginx:1.27"));
    repo.commit("initial");
    assert_code(&run("sync", &repo, &ns.name, &[]), 0);

    kubectl_ok(&[
        "set",
        "image",
        "-n",
        &ns.name,
        "daemonset/agent",
        "agent=nginx:hacked",
    ]);
    let plan = run("plan", &repo, &ns.name, &[]);
    assert_code(&plan, 1);
    assert!(
        plan.stdout
            .contains("spec.template.spec.containers[name=agent].image: nginx:hacked → nginx:1.27"),
        "{}",
        plan.stdout
    );
    assert_code(&run("sync", &repo, &ns.name, &[]), 0);
    let plan = run("plan", &repo, &ns.name, &[]);
    assert_code(&plan, 0);
}

#[tokio::test]
async fn fields_taken_over_through_the_scale_subresource_are_not_drift() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "p-scale").await;
    let repo = GitRepo::new();
    repo.write(
        "sts.yaml",
        r"apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  replicas: 1
  serviceName: web
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: nginx, image: nginx:1.27}]
",
    );
    repo.commit("initial");
    assert_code(&run("sync", &repo, &ns.name, &[]), 0);
    // What an HPA does: write replicas through the scale subresource.
    kubectl_ok(&["scale", "-n", &ns.name, "statefulset/web", "--replicas=3"]);
    let plan = run("plan", &repo, &ns.name, &[]);
    assert_code(&plan, 0);
    assert_code(&run("sync", &repo, &ns.name, &[]), 0);
    let sts = Api::<StatefulSet>::namespaced(client.clone(), &ns.name)
        .get("web")
        .await
        .unwrap();
    assert_eq!(
        sts.spec.unwrap().replicas,
        Some(3),
        "ferry left replicas to the scaler"
    );
}

#[tokio::test]
async fn removing_a_file_prunes_only_what_ferry_owns() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "p-prune").await;
    let repo = GitRepo::new();
    repo.write("keep.yaml", &cm_yaml("keep", "1"))
        .write("gone.yaml", &format!("{}---\n{}", cm_yaml("gone", "1"), ds_yaml("gone-agent", "nginx:1.27")))
        .write(
            "protected.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: protected\n  annotations:\n    ferry.dev/prune: \"false\"\ndata: {k: v}\n",
        );
    repo.commit("initial");
    assert_code(&run("sync", &repo, &ns.name, &["--prune"]), 0);
    // An object ferry does not own, in the same namespace.
    support::kubectl_apply(&ns.name, &cm_yaml("not-ferrys", "1"));

    repo.remove("gone.yaml").remove("protected.yaml");
    repo.commit("remove gone");
    let plan = run("plan", &repo, &ns.name, &["--prune"]);
    assert_code(&plan, 1);
    assert!(
        plan.stdout.contains("- prune    ConfigMap"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("2 to prune"), "{}", plan.stdout);
    // Without --prune the objects are reported but kept.
    let plan = run("plan", &repo, &ns.name, &[]);
    assert!(plan.stdout.contains("pruning is off"), "{}", plan.stdout);

    let sync = run("sync", &repo, &ns.name, &["--prune"]);
    assert_code(&sync, 0);
    assert!(sync.stdout.contains("2 pruned"), "{}", sync.stdout);
    let cms = Api::<ConfigMap>::namespaced(client.clone(), &ns.name);
    assert!(cms.get_opt("gone").await.unwrap().is_none());
    assert!(cms.get_opt("keep").await.unwrap().is_some());
    assert!(
        cms.get_opt("not-ferrys").await.unwrap().is_some(),
        "never prune what ferry does not own"
    );
    assert!(
        cms.get_opt("protected").await.unwrap().is_some(),
        "ferry.dev/prune: false is honoured"
    );
    let ds = Api::<DaemonSet>::namespaced(client.clone(), &ns.name);
    wait_until(Duration::from_secs(30), "pruned DaemonSet gone", || async {
        ds.get_opt("gone-agent")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_job_template_change_recreates_and_an_unchanged_completed_job_is_not_rerun() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "p-job").await;
    let repo = GitRepo::new();
    repo.write("job.yaml", &job_yaml("migrate", "v1"))
        .write("cm.yaml", &cm_yaml("c", "1"));
    repo.commit("initial");
    assert_code(&run("sync", &repo, &ns.name, &[]), 0);
    let jobs = Api::<Job>::namespaced(client.clone(), &ns.name);
    wait_until(Duration::from_secs(60), "Job complete", || async {
        let j = jobs.get("migrate").await.ok()?;
        (j.status?.succeeded == Some(1)).then_some(())
    })
    .await;
    let first_uid = jobs.get("migrate").await.unwrap().metadata.uid.unwrap();

    // Another file changes; the completed Job is left alone.
    repo.write("cm.yaml", &cm_yaml("c", "2"));
    repo.commit("config only");
    let sync = run("sync", &repo, &ns.name, &[]);
    assert_code(&sync, 0);
    assert!(sync.stdout.contains("1 updated"), "{}", sync.stdout);
    assert_eq!(
        jobs.get("migrate").await.unwrap().metadata.uid.unwrap(),
        first_uid
    );

    // The Job's template changes: recreated.
    repo.write("job.yaml", &job_yaml("migrate", "v2"));
    repo.commit("migrate v2");
    let plan = run("plan", &repo, &ns.name, &[]);
    assert_code(&plan, 1);
    assert!(plan.stdout.contains("± recreate Job"), "{}", plan.stdout);
    assert!(plan.stdout.contains("immutable"), "{}", plan.stdout);
    assert!(
        plan.stdout
            .contains("spec.template.spec.containers[name=main].command"),
        "{}",
        plan.stdout
    );
    let sync = run("sync", &repo, &ns.name, &[]);
    assert_code(&sync, 0);
    assert!(sync.stdout.contains("1 recreated"), "{}", sync.stdout);
    let job = jobs.get("migrate").await.unwrap();
    assert_ne!(job.metadata.uid.unwrap(), first_uid);
    let cmd = job.spec.unwrap().template.spec.unwrap().containers[0]
        .command
        .clone()
        .unwrap();
    assert_eq!(cmd[2], "echo v2");
}

#[tokio::test]
async fn remote_repositories_are_cloned_and_follow_branches_and_tags() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "p-remote").await;
    let repo = GitRepo::new();
    repo.write("cm.yaml", &cm_yaml("c", "on-main"));
    let first = repo.commit("main commit");
    repo.repo
        .tag_lightweight("v1", &repo.repo.revparse_single(&first).unwrap(), false)
        .unwrap();
    repo.write("cm.yaml", &cm_yaml("c", "later"));
    repo.commit("later commit");
    let url = format!("file://{}", repo.path_str());
    let base = ["--namespace", ns.name.as_str(), "--app", ns.name.as_str()];

    let mut args = vec!["sync", "--repo", url.as_str(), "--tag", "v1"];
    args.extend_from_slice(&base);
    assert_code(&ferry(&args), 0);
    let cms = Api::<ConfigMap>::namespaced(client.clone(), &ns.name);
    assert_eq!(cms.get("c").await.unwrap().data.unwrap()["key"], "on-main");

    // Default: the remote's HEAD (main), fetched incrementally into the same cache.
    let mut args = vec!["sync", "--repo", url.as_str()];
    args.extend_from_slice(&base);
    assert_code(&ferry(&args), 0);
    assert_eq!(cms.get("c").await.unwrap().data.unwrap()["key"], "later");

    let mut args = vec!["plan", "--repo", url.as_str(), "--branch", "nope"];
    args.extend_from_slice(&base);
    let out = ferry(&args);
    assert_code(&out, 2);
    assert!(
        out.stderr.contains("branch nope not found"),
        "{}",
        out.stderr
    );
}
