//! A Helm chart in the repository, rendered with the pinned `helm template`: values changes
//! roll out, `ferry rollback` reverts a values change and the chart rolls back, and no Helm
//! release Secret is ever written.

mod support;

use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::{Secret, Service};
use kube::api::{Api, ListParams};
use support::render::{helm_config, write_db_chart, write_db_values};
use support::{client, ferry, FerryRun, Remote, TestNamespace};

fn helm(verb: &str, config: &std::path::Path, app: &str, extra: &[&str]) -> FerryRun {
    let config = config.display().to_string();
    let mut args = vec![verb, "--config", config.as_str(), "--app", app];
    if verb != "plan" {
        args.extend(["--grace", "2s", "--timeout", "90s"]);
    }
    args.extend_from_slice(extra);
    ferry(&args)
}

async fn db(client: &kube::Client, ns: &str) -> (i32, String) {
    let sts = Api::<StatefulSet>::namespaced(client.clone(), ns)
        .get("db")
        .await
        .unwrap();
    let spec = sts.spec.unwrap();
    let image = spec.template.spec.unwrap().containers[0]
        .image
        .clone()
        .unwrap();
    (spec.replicas.unwrap(), image)
}

#[tokio::test]
async fn a_chart_syncs_values_roll_out_and_a_revert_rolls_the_chart_back() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "rh-db").await;
    let remote = Remote::new();
    write_db_chart(&remote.work);
    write_db_values(&remote.work, 2, "1.0");
    remote.commit_and_push("db chart, 2 replicas");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ferry.yaml");
    std::fs::write(&config, helm_config(&ns.name, &remote.url(), &ns.name, "")).unwrap();

    let plan = helm("plan", &config, &ns.name, &[]);
    assert_eq!(plan.code, 1, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .contains("rendered by helm v4.3.1 of charts/db (5 files read"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(&format!(
            "+ create   StatefulSet {}/db  (charts/db/templates/statefulset.yaml:1)",
            ns.name
        )),
        "{}",
        plan.stdout
    );
    let out = helm("sync", &config, &ns.name, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        db(&client, &ns.name).await,
        (2, "registry.example/db:1.0".into())
    );
    let service = Api::<Service>::namespaced(client.clone(), &ns.name)
        .get("db")
        .await
        .unwrap();
    assert_eq!(service.spec.unwrap().cluster_ip.as_deref(), Some("None"));
    let again = helm("plan", &config, &ns.name, &[]);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);

    // A values change: more replicas and a new image.
    write_db_values(&remote.work, 3, "1.1");
    let bump = remote.commit_and_push("db 1.1 on 3 replicas");
    let out = helm("sync", &config, &ns.name, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        db(&client, &ns.name).await,
        (3, "registry.example/db:1.1".into())
    );
    let revisions = Api::<ControllerRevision>::namespaced(client.clone(), &ns.name)
        .list(&ListParams::default())
        .await
        .unwrap();
    let causes: Vec<String> = revisions
        .items
        .iter()
        .filter_map(|r| {
            r.metadata
                .annotations
                .as_ref()?
                .get("kubernetes.io/change-cause")
                .cloned()
        })
        .collect();
    assert!(
        causes
            .iter()
            .any(|c| c.starts_with(&format!("ferry {}", &bump[..7]))),
        "{causes:?}"
    );

    // Rollback is a git revert of the values change: the chart renders the old values.
    let out = helm("rollback", &config, &ns.name, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let message = remote.tip_message();
    assert!(
        message.starts_with("Revert \"db 1.1 on 3 replicas\""),
        "{message}"
    );
    assert_eq!(
        db(&client, &ns.name).await,
        (2, "registry.example/db:1.0".into())
    );
    let again = helm("plan", &config, &ns.name, &[]);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);

    // ferry is the deployer: no Helm release records.
    let secrets = Api::<Secret>::namespaced(client.clone(), &ns.name)
        .list(&ListParams::default().labels("owner=helm"))
        .await
        .unwrap();
    assert!(
        secrets.items.is_empty(),
        "helm release secrets were written"
    );
}

#[tokio::test]
async fn inline_values_win_over_values_files() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "rh-inline").await;
    let remote = Remote::new();
    write_db_chart(&remote.work);
    write_db_values(&remote.work, 1, "1.0");
    remote.commit_and_push("db chart");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ferry.yaml");
    let extra = "      values: {image: {tag: \"9.9\"}}\n";
    std::fs::write(
        &config,
        helm_config(&ns.name, &remote.url(), &ns.name, extra),
    )
    .unwrap();
    let out = helm("sync", &config, &ns.name, &["--no-wait"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        db(&client, &ns.name).await,
        (1, "registry.example/db:9.9".into())
    );
}
