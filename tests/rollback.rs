//! `ferry rollback`: a git revert written by ferry, pushed to the remote, and synced.

mod support;

use std::process::Command;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet, StatefulSet};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use support::{client, daemonset_yaml, ferry_app, FerryRun, Remote, TestNamespace};

fn run(verb: &str, remote: &Remote, ns: &str, extra: &[&str]) -> FerryRun {
    let gates = ["--grace", "2s", "--timeout", "90s"];
    ferry_app(verb, &remote.url(), ns, &[&gates[..], extra].concat())
}

/// StatefulSet `web`: 2 replicas of `image`, ordered (the default podManagementPolicy).
fn web_statefulset(image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: web\nspec:\n  serviceName: web\n  replicas: 2\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      containers: [{{name: nginx, image: \"{image}\"}}]\n"
    )
}

#[tokio::test]
async fn rollback_reverts_pushes_and_syncs_back_to_the_old_revision() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "rb-ds").await;
    let remote = Remote::new();
    remote
        .work
        .write("agent.yaml", &daemonset_yaml("agent", "nginx:1.18.0"));
    remote.commit_and_push("agent 1.18");
    let out = run("sync", &remote, &ns.name, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);

    remote
        .work
        .write("agent.yaml", &daemonset_yaml("agent", "nginx:doesnotexist"));
    let bad = remote.commit_and_push("agent broken");
    let out = run("sync", &remote, &ns.name, &[]);
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);

    let out = run("rollback", &remote, &ns.name, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("Wrote revert commit"), "{}", out.stdout);
    // The revert is on the remote branch, in git's own format.
    let message = remote.tip_message();
    assert!(message.starts_with("Revert \"agent broken\""), "{message}");
    assert!(
        message.contains(&format!("This reverts commit {bad}.")),
        "{message}"
    );
    // The cluster is back on the good image, on the DaemonSet's old ControllerRevision.
    let ds = Api::<DaemonSet>::namespaced(client.clone(), &ns.name)
        .get("agent")
        .await
        .unwrap();
    let image = ds.spec.unwrap().template.spec.unwrap().containers[0]
        .image
        .clone()
        .unwrap();
    assert_eq!(image, "nginx:1.18.0");
    let revisions = Api::<ControllerRevision>::namespaced(client.clone(), &ns.name)
        .list(&ListParams::default().labels("app=agent"))
        .await
        .unwrap()
        .items;
    assert_eq!(
        revisions.len(),
        2,
        "the old revision is reused, not duplicated"
    );
    let newest = revisions.iter().max_by_key(|r| r.revision).unwrap();
    assert_eq!(newest.revision, 3, "reused revision renumbered to 3");
    // Kubernetes reuses the old revision as it is: its change-cause still names the commit
    // that first produced this template, not the revert.
    let cause = newest.metadata.annotations.clone().unwrap_or_default();
    assert!(
        cause
            .get("kubernetes.io/change-cause")
            .is_some_and(|c| c.ends_with(": agent 1.18")),
        "{cause:?}"
    );
}

#[tokio::test]
async fn a_conflicting_revert_fails_naming_the_files_and_writes_nothing() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "rb-conflict").await;
    let remote = Remote::new();
    let cm = |v: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: \"{v}\"\n")
    };
    remote.work.write("config/c.yaml", &cm("1"));
    remote.commit_and_push("one");
    remote.work.write("config/c.yaml", &cm("2"));
    let two = remote.commit_and_push("two");
    remote.work.write("config/c.yaml", &cm("3"));
    remote.commit_and_push("three");
    let before = remote.tip_message();
    let out = run("rollback", &remote, &ns.name, &[&two[..8]]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("conflicts in: config/c.yaml"),
        "{}",
        out.stderr
    );
    assert_eq!(remote.tip_message(), before, "nothing pushed");
}

#[tokio::test]
async fn rollback_to_reverts_every_later_commit_in_one_commit() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "rb-to").await;
    let remote = Remote::new();
    let cm = |name: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata: {{k: v}}\n")
    };
    remote.work.write("a.yaml", &cm("a"));
    let base = remote.commit_and_push("a");
    remote.work.write("b.yaml", &cm("b"));
    remote.commit_and_push("b");
    remote.work.write("c.yaml", &cm("c"));
    remote.commit_and_push("c");
    assert_eq!(run("sync", &remote, &ns.name, &["--prune"]).code, 0);
    let out = run(
        "rollback",
        &remote,
        &ns.name,
        &["--to", &base, "--prune", "--allow-mass-prune"],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let message = remote.tip_message();
    assert!(message.starts_with("Revert to"), "{message}");
    assert_eq!(
        message.matches("This reverts commit").count(),
        2,
        "{message}"
    );
    assert!(out.stdout.contains("2 pruned"), "{}", out.stdout);
}

#[tokio::test]
async fn a_statefulset_broken_by_a_bad_image_recovers_after_rollback_without_manual_deletes() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "rb-sts").await;
    let remote = Remote::new();
    remote
        .work
        .write("web.yaml", &web_statefulset("nginx:1.27"));
    remote.commit_and_push("web 1.27");
    assert_eq!(run("sync", &remote, &ns.name, &[]).code, 0);
    remote
        .work
        .write("web.yaml", &web_statefulset("nginx:doesnotexist"));
    remote.commit_and_push("web broken");
    let out = run("sync", &remote, &ns.name, &[]);
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);

    let out = run("rollback", &remote, &ns.name, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("stuck on the broken revision"),
        "{}",
        out.stderr
    );
    let sts = Api::<StatefulSet>::namespaced(client.clone(), &ns.name)
        .get("web")
        .await
        .unwrap();
    let status = sts.status.unwrap();
    assert_eq!(status.ready_replicas, Some(2));
    let pods = Api::<Pod>::namespaced(client.clone(), &ns.name)
        .list(&ListParams::default().labels("app=web"))
        .await
        .unwrap()
        .items;
    for pod in pods
        .iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
    {
        assert_eq!(
            pod.spec.as_ref().unwrap().containers[0].image.as_deref(),
            Some("nginx:1.27")
        );
    }
}

#[tokio::test]
async fn failure_policy_revert_reverts_the_bad_commit_on_the_remote_and_restores_the_cluster() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "rb-policy").await;
    let remote = Remote::new();
    remote
        .work
        .write("agent.yaml", &daemonset_yaml("agent", "nginx:1.18.0"));
    remote.commit_and_push("agent 1.18");
    assert_eq!(run("sync", &remote, &ns.name, &[]).code, 0);

    remote
        .work
        .write("agent.yaml", &daemonset_yaml("agent", "nginx:doesnotexist"));
    let bad = remote.commit_and_push("agent broken");
    let out = run("sync", &remote, &ns.name, &["--on-failure", "revert"]);
    assert_eq!(
        out.code, 3,
        "the failed gate is still reported: {}{}",
        out.stdout, out.stderr
    );
    assert!(
        out.stdout
            .contains("failurePolicy revert: wrote and pushed revert commit"),
        "{}",
        out.stdout
    );
    let message = remote.tip_message();
    assert!(
        message.contains(&format!("This reverts commit {bad}.")),
        "{message}"
    );
    assert!(
        message.contains("ImagePullBackOff"),
        "names the reason: {message}"
    );
    assert!(message.contains("DaemonSet"), "names the object: {message}");
    let ds = Api::<DaemonSet>::namespaced(client.clone(), &ns.name)
        .get("agent")
        .await
        .unwrap();
    let image = ds.spec.unwrap().template.spec.unwrap().containers[0]
        .image
        .clone()
        .unwrap();
    assert_eq!(image, "nginx:1.18.0");

    // A revert that itself fails is never reverted again.
    let revert_sha = git2::Repository::open_bare(remote.bare.path())
        .unwrap()
        .refname_to_id("refs/heads/main")
        .unwrap()
        .to_string();
    let pull = Command::new("git")
        .args(["pull", "-q", "--ff-only", &remote.url(), "main"])
        .current_dir(remote.work.path())
        .output()
        .unwrap();
    assert!(
        pull.status.success(),
        "{}",
        String::from_utf8_lossy(&pull.stderr)
    );
    remote.work.write(
        "agent.yaml",
        &daemonset_yaml("agent", "example/crashloop:2"),
    );
    remote.work.commit(&format!(
        "Revert \"something\"\n\nThis reverts commit {revert_sha}.\n"
    ));
    remote.push("HEAD:main");
    let out = run("sync", &remote, &ns.name, &["--on-failure", "revert"]);
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("never reverts a revert"),
        "{}",
        out.stderr
    );
    assert!(remote
        .tip_message()
        .contains(&format!("This reverts commit {revert_sha}.")));
}

#[tokio::test]
async fn an_ordinary_fix_commit_unsticks_a_statefulset_when_asked() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "rb-unstick").await;
    let remote = Remote::new();
    remote
        .work
        .write("web.yaml", &web_statefulset("nginx:1.27"));
    remote.commit_and_push("web 1.27");
    assert_eq!(run("sync", &remote, &ns.name, &[]).code, 0);
    remote
        .work
        .write("web.yaml", &web_statefulset("nginx:doesnotexist"));
    remote.commit_and_push("web broken");
    assert_eq!(run("sync", &remote, &ns.name, &[]).code, 3);
    // A forward fix (not a revert): opt in to deleting the stuck pod.
    remote
        .work
        .write("web.yaml", &web_statefulset("nginx:1.28"));
    remote.commit_and_push("web 1.28");
    let out = run("sync", &remote, &ns.name, &["--unstick-statefulsets"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("stuck on the broken revision"),
        "{}",
        out.stderr
    );
    let sts = Api::<StatefulSet>::namespaced(client.clone(), &ns.name)
        .get("web")
        .await
        .unwrap();
    assert_eq!(sts.status.unwrap().ready_replicas, Some(2));
}
