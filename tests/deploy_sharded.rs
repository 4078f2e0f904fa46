//! `kubectl apply -k deploy-sharded/`: the Deployment at 3 replicas with `--shards auto`, a
//! PodDisruptionBudget, and exactly the extra permissions sharding needs. ferry run with the
//! ServiceAccount's own token takes shard Leases, registers itself, and syncs an app, so the
//! Role is enough; outside its namespace the ServiceAccount gets no Lease access.

#[path = "support/deploy.rs"]
mod deploy_support;
mod support;

use std::time::Duration;

use deploy_support::*;
use support::{kubectl_ok, repo_root};

#[test]
fn the_sharded_variant_runs_replicas_that_share_the_apps_with_the_permissions_they_need() {
    let mut overlay = Overlay::of(
        &repo_root().join("deploy-sharded"),
        "ferry-shard-deploy",
        "",
    );
    let ns = overlay.namespace.clone();
    let apps_ns = format!("{ns}-apps");
    overlay
        .extra
        .push(vec!["delete".into(), "namespace".into(), apps_ns.clone()]);

    let objects = overlay.render();
    let mut kinds: Vec<&str> = objects
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    kinds.sort_unstable();
    let mut expected: Vec<&str> = EXPECTED_KINDS.to_vec();
    // The PodDisruptionBudget, and the Role and RoleBinding of sharding.
    expected.extend(["PodDisruptionBudget", "Role", "RoleBinding"]);
    expected.sort_unstable();
    assert_eq!(kinds, expected, "kinds rendered from deploy-sharded/");
    let deployment = objects.iter().find(|o| o["kind"] == "Deployment").unwrap();
    assert_eq!(deployment["spec"]["replicas"], 3);
    let args: Vec<&str> = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(
        args.windows(2).any(|w| w == ["--shards", "auto"]),
        "{args:?}"
    );
    assert!(
        !args.contains(&"--leader-elect"),
        "sharding replaces the election: {args:?}"
    );
    let pdb = objects
        .iter()
        .find(|o| o["kind"] == "PodDisruptionBudget")
        .unwrap();
    let pod_labels = &deployment["spec"]["template"]["metadata"]["labels"];
    for (key, value) in pdb["spec"]["selector"]["matchLabels"].as_object().unwrap() {
        assert_eq!(&pod_labels[key], value, "the PDB selects ferry's pods");
    }

    create_namespace(&apps_ns);
    kubectl_ok(&["apply", "-k", overlay.path()]);
    for verb in ["list", "get", "create", "update", "delete"] {
        overlay.assert_can(&[verb, "leases", "-n", &ns]);
    }
    overlay.assert_can(&["watch", "configmaps", "-n", &ns]);
    overlay.assert_cannot(&["list", "leases", "-n", &apps_ns]);
    overlay.assert_cannot(&["update", "leases", "-n", &apps_ns]);

    // ferry itself, with the ServiceAccount's token: registers, takes every shard (it is the
    // only replica), and syncs its app.
    let kubeconfig = service_account_kubeconfig(overlay.dir.path(), &ns);
    let cache = overlay.dir.path().join("cache");
    let repo = overlay.dir.path().join("repo");
    std::fs::create_dir_all(repo.join("apps")).unwrap();
    std::fs::write(
        repo.join("apps/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sharded\ndata:\n  k: v\n",
    )
    .unwrap();
    for args in [
        vec!["init", "-q", "-b", "main"],
        vec!["add", "."],
        vec![
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "commit",
            "-qm",
            "one app",
        ],
    ] {
        let out = std::process::Command::new("git")
            .args(&args)
            .current_dir(&repo)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let config = overlay.dir.path().join("serve.yaml");
    std::fs::write(
        &config,
        format!(
            "apps:\n  - name: shard-deploy-test\n    repo: {}\n    path: apps\n    namespace: {apps_ns}\n",
            repo.display()
        ),
    )
    .unwrap();
    let serve = Serve::start_with(
        &kubeconfig,
        &cache,
        &config,
        &ns,
        "sharded-pod",
        &["--shards", "4"],
    );
    poll(
        Duration::from_secs(60),
        "the replica to take its shards and sync",
        || {
            let (code, body) = serve.get("/api/apps")?;
            let apps: serde_json::Value = serde_json::from_str(&body).ok()?;
            let app = &apps["apps"][0];
            let synced =
                code == 200 && app["owner"] == "sharded-pod" && app["syncedCommit"].is_string();
            synced.then_some(())
        },
    );
    let holders = kubectl_ok(&[
        "get",
        "leases",
        "-n",
        &ns,
        "-l",
        "ferry.dev/lease",
        "-o",
        "jsonpath={range .items[*]}{.metadata.name}={.spec.holderIdentity}{\"\\n\"}{end}",
    ]);
    for lease in [
        "ferry-replica-sharded-pod",
        "ferry-shard-0",
        "ferry-shard-3",
    ] {
        assert!(
            holders.lines().any(|l| l == format!("{lease}=sharded-pod")),
            "{lease} held by the replica:\n{holders}\n{}",
            serve.stderr()
        );
    }
    let stderr = serve.stderr();
    assert!(
        !stderr.contains("Forbidden") && !stderr.contains("forbidden"),
        "{stderr}"
    );
}
