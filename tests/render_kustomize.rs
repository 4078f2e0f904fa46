//! Kustomize overlays rendered by the pinned kustomize: synced like plain YAML, origins in the
//! repository, nothing of the rendering on the cluster, and serve's path filter following the
//! files a render read.

mod support;

use std::time::Duration;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use support::render::{write_base, write_prod_overlay};
use support::serve::{app_status, hmac_hex, send_github, spawn_server, wait_ready};
use support::{client, ferry, wait_until, FerryRun, Remote, TestNamespace};

fn overlay(verb: &str, remote: &Remote, ns: &str, extra: &[&str]) -> FerryRun {
    let url = remote.url();
    let mut args = vec![
        verb,
        "--repo",
        url.as_str(),
        "--namespace",
        ns,
        "--app",
        ns,
        "--path",
        "overlays/prod",
    ];
    if verb == "sync" {
        args.extend(["--grace", "2s"]);
    }
    args.extend_from_slice(extra);
    ferry(&args)
}

async fn agent(client: &kube::Client, ns: &str) -> DaemonSet {
    Api::<DaemonSet>::namespaced(client.clone(), ns)
        .get("agent")
        .await
        .unwrap()
}

fn image_and_level(ds: &DaemonSet) -> (String, String) {
    let c = &ds
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers[0];
    let level = c.env.as_ref().unwrap()[0].value.clone().unwrap();
    (c.image.clone().unwrap(), level)
}

#[tokio::test]
async fn an_overlay_syncs_and_a_commit_to_its_base_rolls_out() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "rk-overlay").await;
    let remote = Remote::new();
    write_base(&remote.work, "1.0", "info");
    write_prod_overlay(&remote.work, "registry.example/agent:2.0");
    remote.work.write("README.md", "not a manifest\n");
    remote.commit_and_push("agent via overlay");

    let plan = overlay("plan", &remote, &ns.name, &[]);
    // 1: the plan has changes.
    assert_eq!(plan.code, 1, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout
            .contains("rendered by kustomize v5.8.2 of overlays/prod (5 files read"),
        "{}",
        plan.stdout
    );
    // Origins are the repository files, with the object's line.
    assert!(
        plan.stdout.contains(&format!(
            "+ create   DaemonSet {}/agent  (base/daemonset.yaml:1)",
            ns.name
        )),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(&format!(
            "+ create   ConfigMap {}/agent-config  (base/configmap.yaml:1)",
            ns.name
        )),
        "{}",
        plan.stdout
    );

    let out = overlay("sync", &remote, &ns.name, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let ds = agent(&client, &ns.name).await;
    assert_eq!(
        image_and_level(&ds),
        ("registry.example/agent:2.0".into(), "info".into())
    );
    let meta = &ds.metadata;
    assert_eq!(meta.labels.as_ref().unwrap()["env"], "prod");
    let annotations = meta.annotations.clone().unwrap_or_default();
    assert!(
        !annotations
            .keys()
            .any(|k| k.starts_with("config.kubernetes.io")),
        "rendering bookkeeping reached the cluster: {annotations:?}"
    );
    let again = overlay("plan", &remote, &ns.name, &[]);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);

    // A commit that touches only the base re-renders the overlay and rolls out.
    write_base(&remote.work, "1.0", "debug");
    let base_commit = remote.commit_and_push("base: debug logging");
    let plan = overlay("plan", &remote, &ns.name, &[]);
    assert!(
        plan.stdout.contains(&format!(
            "~ update   DaemonSet {}/agent  (base/daemonset.yaml:1)",
            ns.name
        )),
        "{}",
        plan.stdout
    );
    let out = overlay("sync", &remote, &ns.name, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("healthy"), "{}", out.stdout);
    let ds = agent(&client, &ns.name).await;
    // The base's change, with the overlay's image still laid over it.
    assert_eq!(
        image_and_level(&ds),
        ("registry.example/agent:2.0".into(), "debug".into())
    );
    let cause = &ds.metadata.annotations.as_ref().unwrap()["kubernetes.io/change-cause"];
    assert!(
        cause.starts_with(&format!("ferry {}", &base_commit[..7])),
        "{cause}"
    );
    let cm = Api::<ConfigMap>::namespaced(client.clone(), &ns.name)
        .get("agent-config")
        .await
        .unwrap();
    assert_eq!(cm.data.unwrap()["level"], "debug");
    let again = overlay("plan", &remote, &ns.name, &["-o", "json"]);
    let plan: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
    assert!(
        plan["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["action"] == "unchanged"),
        "{}",
        again.stdout
    );
    assert_eq!(plan["rendered"]["tool"], "kustomize");
    assert_eq!(plan["rendered"]["version"], "v5.8.2");
    let mut dirs: Vec<String> =
        serde_json::from_value(plan["rendered"]["reads"]["dirs"].clone()).unwrap();
    dirs.sort();
    assert_eq!(dirs, ["base", "overlays/prod"]);
}

#[tokio::test]
async fn a_push_to_a_base_triggers_every_overlay_that_reads_it() {
    let client = client().await;
    let prod = TestNamespace::new(&client, "rk-prod").await;
    let solo = TestNamespace::new(&client, "rk-solo").await;
    let remote = Remote::new();
    write_base(&remote.work, "1.0", "info");
    write_prod_overlay(&remote.work, "registry.example/agent:2.0");
    // An overlay that does not use the base.
    remote
        .work
        .write("overlays/solo/kustomization.yaml", "resources: [cm.yaml]\n");
    remote.work.write(
        "overlays/solo/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: solo\ndata:\n  a: \"1\"\n",
    );
    let first = remote.commit_and_push("two overlays");
    let url = remote.url();
    let app = |name: &str, path: &str| {
        format!("  - name: {name}\n    repo: {url}\n    branch: main\n    path: {path}\n    namespace: {name}\n    interval: 1h\n")
    };
    let config = format!(
        "apps:\n{}{}",
        app(&prod.name, "overlays/prod"),
        app(&solo.name, "overlays/solo")
    );
    let server = wait_ready(spawn_server(&config, &[], &[]));
    for name in [&prod.name, &solo.name] {
        wait_until(Duration::from_secs(60), "first sync", || async {
            let status = app_status(server.port, name).await;
            (status["syncedCommit"] == first.as_str()).then_some(())
        })
        .await;
    }

    write_base(&remote.work, "1.0", "warn");
    let sha = remote.commit_and_push("base: warn");
    // GitHub's push payload, as in tests/serve_webhooks.rs, with a real `before`: a push
    // with a file list.
    let body = serde_json::json!({
        "ref": "refs/heads/main", "before": first, "after": sha,
        "repository": {"full_name": "org/repo", "clone_url": url, "ssh_url": url, "html_url": url},
        "commits": [{"id": sha, "added": [], "removed": [], "modified": ["base/configmap.yaml"]}],
        "head_commit": {"id": sha}
    })
    .to_string()
    .into_bytes();
    let (status, reply) = send_github(server.port, &body, &format!("sha256={}", hmac_hex(&body)));
    assert_eq!(status, 202, "{reply}");
    let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(
        reply["triggered"],
        serde_json::json!([prod.name]),
        "{reply}"
    );
    assert_eq!(
        reply["ignored"],
        serde_json::json!([{"app": solo.name, "reason": "no changed file is read by the render of \"overlays/solo\""}]),
        "{reply}"
    );
    wait_until(
        Duration::from_secs(30),
        "the base's change applied",
        || async {
            let cm = Api::<ConfigMap>::namespaced(client.clone(), &prod.name)
                .get("agent-config")
                .await
                .ok()?;
            (cm.data?.get("level")? == "warn").then_some(())
        },
    )
    .await;
    // The status shows what the render read.
    let status = app_status(server.port, &prod.name).await;
    let reads = &status["renderReads"];
    assert!(
        reads["dirs"].as_array().unwrap().contains(&"base".into()),
        "{status}"
    );
}
