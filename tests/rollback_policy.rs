//! Rollback never redeploys the broken commit: `ferry rollback` run twice (or after
//! `failurePolicy: revert`) finds nothing to do, a named commit must be on the branch, `ferry
//! serve` follows the failure policy and an app's own `prune: false`, and a remote that
//! refuses the revert (a real `pre-receive` hook behind `git http-backend`) makes ferry apply
//! the failing commit's parent with a WARNING.

mod support;

use std::process::Command;
use std::time::Duration;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use support::git_http::{bare_repo, refuse_pushes, refuse_revert_pushes, GitHttp};
use support::serve::{app_status, history, spawn_server, wait_ready};
use support::{
    client, daemonset_yaml, ferry_app, wait_until, FerryRun, GitRepo, Remote, TestNamespace,
};

fn run(verb: &str, repo: &str, ns: &str, extra: &[&str]) -> FerryRun {
    let gates = ["--grace", "2s", "--timeout", "90s"];
    ferry_app(verb, repo, ns, &[&gates[..], extra].concat())
}

fn cm(value: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  value: \"{value}\"\n")
}

async fn cm_value(client: &kube::Client, ns: &str, name: &str) -> Option<String> {
    let cm = Api::<ConfigMap>::namespaced(client.clone(), ns)
        .get_opt(name)
        .await
        .unwrap()?;
    cm.data?.get("value").cloned()
}

async fn ds_image(client: &kube::Client, ns: &str) -> String {
    let ds = Api::<DaemonSet>::namespaced(client.clone(), ns)
        .get("agent")
        .await
        .unwrap();
    ds.spec.unwrap().template.spec.unwrap().containers[0]
        .image
        .clone()
        .unwrap()
}

fn tip(bare: &std::path::Path) -> String {
    git2::Repository::open_bare(bare)
        .unwrap()
        .refname_to_id("refs/heads/main")
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn rollback_twice_finds_nothing_to_roll_back_instead_of_redeploying_the_broken_commit() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "rbp-twice").await;
    let remote = Remote::new();
    let url = remote.url();
    remote.work.write("settings.yaml", &cm("good"));
    remote.commit_and_push("good");
    assert_eq!(run("sync", &url, &ns.name, &[]).code, 0);
    remote.work.write("settings.yaml", &cm("broken"));
    let bad = remote.commit_and_push("broken");
    assert_eq!(run("sync", &url, &ns.name, &[]).code, 0);

    let out = run("rollback", &url, &ns.name, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(remote
        .tip_message()
        .contains(&format!("This reverts commit {bad}.")));
    assert_eq!(
        cm_value(&client, &ns.name, "settings").await.as_deref(),
        Some("good")
    );
    let revert = tip(remote.bare.path());
    let records = history(&ns.name).as_array().unwrap().len();

    // Again: the newest change is already reverted. Nothing is written, nothing synced.
    let out = run("rollback", &url, &ns.name, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("Nothing to roll back")
            && out
                .stdout
                .contains(&format!("already reverted by {}", &revert[..7])),
        "{}",
        out.stdout
    );
    assert_eq!(tip(remote.bare.path()), revert, "no commit written");
    assert_eq!(
        cm_value(&client, &ns.name, "settings").await.as_deref(),
        Some("good")
    );
    assert_eq!(
        history(&ns.name).as_array().unwrap().len(),
        records,
        "nothing synced"
    );
    let out = run("rollback", &url, &ns.name, &["-o", "json"]);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["result"], "nothingToRollBack", "{json}");
    assert_eq!(json["revertedBy"], revert.as_str());

    // A new change is the next target.
    let pull = Command::new("git")
        .args(["pull", "-q", "--ff-only", &url, "main"])
        .current_dir(remote.work.path())
        .output()
        .unwrap();
    assert!(
        pull.status.success(),
        "{}",
        String::from_utf8_lossy(&pull.stderr)
    );
    remote
        .work
        .write("b.yaml", &cm("b").replace("settings", "b"));
    let next = remote.commit_and_push("add b");
    assert_eq!(run("sync", &url, &ns.name, &[]).code, 0);
    let out = run("rollback", &url, &ns.name, &["--prune"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(remote
        .tip_message()
        .contains(&format!("This reverts commit {next}.")));
    assert_eq!(cm_value(&client, &ns.name, "b").await, None, "pruned");
    assert_eq!(
        cm_value(&client, &ns.name, "settings").await.as_deref(),
        Some("good")
    );
}

#[tokio::test]
async fn rollback_after_the_revert_policy_has_nothing_to_roll_back() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "rbp-policy").await;
    let remote = Remote::new();
    let url = remote.url();
    remote
        .work
        .write("agent.yaml", &daemonset_yaml("agent", "nginx:1.18.0"));
    remote.commit_and_push("agent 1.18");
    assert_eq!(run("sync", &url, &ns.name, &[]).code, 0);
    remote
        .work
        .write("agent.yaml", &daemonset_yaml("agent", "nginx:doesnotexist"));
    let bad = remote.commit_and_push("agent broken");
    let out = run("sync", &url, &ns.name, &["--on-failure", "revert"]);
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    let revert = tip(remote.bare.path());
    assert!(remote
        .tip_message()
        .contains(&format!("This reverts commit {bad}.")));

    let out = run("rollback", &url, &ns.name, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("Nothing to roll back"),
        "{}",
        out.stdout
    );
    assert_eq!(
        tip(remote.bare.path()),
        revert,
        "the revert is not reverted"
    );
    assert_eq!(ds_image(&client, &ns.name).await, "nginx:1.18.0");
}

#[tokio::test]
async fn a_commit_that_is_not_on_the_tracked_branch_is_refused() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "rbp-branch").await;
    let remote = Remote::new();
    let url = remote.url();
    remote.work.write("settings.yaml", &cm("one"));
    remote.commit_and_push("one");
    // A commit on another branch of the same remote: reverting it would apply cleanly.
    remote
        .work
        .write("side.yaml", &cm("side").replace("settings", "side"));
    let side = remote.work.commit("side change");
    remote.push("HEAD:refs/heads/side");
    let reset = Command::new("git")
        .args(["reset", "-q", "--hard", "HEAD~1"])
        .current_dir(remote.work.path())
        .output()
        .unwrap();
    assert!(reset.status.success());
    remote.work.write("settings.yaml", &cm("two"));
    remote.commit_and_push("two");
    assert_eq!(run("sync", &url, &ns.name, &[]).code, 0);
    let before = tip(remote.bare.path());
    for args in [vec![&side[..10]], vec!["--to", &side[..]]] {
        let out = run("rollback", &url, &ns.name, &args);
        assert_eq!(out.code, 2, "{args:?}: {}{}", out.stdout, out.stderr);
        assert!(
            out.stderr
                .contains(&format!("commit {side} is not on main")),
            "{}",
            out.stderr
        );
        assert_eq!(tip(remote.bare.path()), before, "nothing written");
    }
    assert_eq!(
        cm_value(&client, &ns.name, "settings").await.as_deref(),
        Some("two")
    );
}

#[tokio::test]
async fn serve_reverts_a_failing_commit_under_failure_policy_revert() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "rbp-serve").await;
    let remote = Remote::new();
    remote
        .work
        .write("apps/agent.yaml", &daemonset_yaml("agent", "nginx:1.18.0"));
    let good = remote.commit_and_push("agent 1.18");
    let config =
        support::serve::app_config(&ns.name, &remote.url(), "1s", "    failurePolicy: revert\n");
    let _server = wait_ready(spawn_server(&config, &[], &[]));
    let synced = |sha: String| {
        let app = ns.name.clone();
        move || {
            let sha = sha.clone();
            let app = app.clone();
            async move {
                let records = history(&app);
                records
                    .as_array()?
                    .iter()
                    .find(|r| {
                        r["commit"]["sha"] == sha.as_str() && r["outcome"]["status"] != "inProgress"
                    })
                    .cloned()
            }
        }
    };
    wait_until(
        Duration::from_secs(60),
        "the good commit synced",
        synced(good),
    )
    .await;

    remote.work.write(
        "apps/agent.yaml",
        &daemonset_yaml("agent", "nginx:doesnotexist"),
    );
    let bad = remote.commit_and_push("agent broken");
    let failed = wait_until(
        Duration::from_secs(120),
        "the broken commit synced",
        synced(bad.clone()),
    )
    .await;
    assert_eq!(failed["outcome"]["status"], "gateFailed", "{failed}");
    // The policy wrote the revert on the remote and synced it.
    let revert = wait_until(
        Duration::from_secs(60),
        "the revert on the remote",
        || async {
            remote
                .tip_message()
                .contains(&format!("This reverts commit {bad}."))
                .then(|| tip(remote.bare.path()))
        },
    )
    .await;
    let record = wait_until(
        Duration::from_secs(120),
        "the revert synced",
        synced(revert),
    )
    .await;
    assert_eq!(record["trigger"], "revert-policy", "{record}");
    assert_eq!(record["outcome"]["status"], "succeeded", "{record}");
    assert!(
        remote.tip_message().contains("ImagePullBackOff"),
        "names the reason: {}",
        remote.tip_message()
    );
    assert_eq!(ds_image(&client, &ns.name).await, "nginx:1.18.0");
}

#[tokio::test]
async fn serve_prune_fills_only_apps_that_do_not_set_prune() {
    let client = client().await;
    let keep = TestNamespace::new(&client, "rbp-keep").await;
    let fill = TestNamespace::new(&client, "rbp-fill").await;
    let remote = Remote::new();
    remote
        .work
        .write("apps/a.yaml", &cm("a").replace("settings", "a"));
    remote
        .work
        .write("apps/b.yaml", &cm("b").replace("settings", "b"));
    remote.commit_and_push("a and b");
    let entry = |ns: &str, extra: &str| {
        format!(
            "  - name: {ns}\n    repo: {}\n    branch: main\n    path: apps\n    namespace: {ns}\n    interval: 1s\n{extra}",
            remote.url()
        )
    };
    let config = format!(
        "apps:\n{}{}",
        entry(&keep.name, "    prune: false\n"),
        entry(&fill.name, "")
    );
    let server = wait_ready(spawn_server(&config, &["--prune"], &[]));
    for ns in [&keep.name, &fill.name] {
        wait_until(Duration::from_secs(30), "b applied", || async {
            cm_value(&client, ns, "b").await
        })
        .await;
    }
    remote.work.remove("apps/b.yaml");
    let removed = remote.commit_and_push("remove b");
    wait_until(
        Duration::from_secs(30),
        "--prune to fill in pruning for the app that does not set it",
        || async {
            cm_value(&client, &fill.name, "b")
                .await
                .is_none()
                .then_some(())
        },
    )
    .await;
    wait_until(
        Duration::from_secs(30),
        "the removal synced for the prune: false app",
        || async {
            let status = app_status(server.port, &keep.name).await;
            (status["syncedCommit"] == removed.as_str()).then_some(())
        },
    )
    .await;
    assert_eq!(
        cm_value(&client, &keep.name, "b").await.as_deref(),
        Some("b"),
        "prune: false in ferry.yaml wins over --prune"
    );
}

#[tokio::test]
async fn a_refused_revert_push_applies_the_parent_with_a_warning() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "rbp-refused").await;
    let root = tempfile::tempdir().unwrap();
    let bare = bare_repo(root.path(), "cluster.git");
    let server = GitHttp::serve(root.path());
    let url = server.url("cluster.git");
    let work = GitRepo::new();
    let push = |work: &GitRepo| {
        let out = Command::new("git")
            .args(["push", "-q", &url, "HEAD:main"])
            .current_dir(work.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    work.write("agent.yaml", &daemonset_yaml("agent", "nginx:1.18.0"));
    let good = work.commit("agent 1.18");
    push(&work);
    assert_eq!(run("sync", &url, &ns.name, &[]).code, 0);
    work.write("agent.yaml", &daemonset_yaml("agent", "nginx:doesnotexist"));
    let bad = work.commit("agent broken");
    push(&work);
    // From now on the remote refuses every push, like a protected branch.
    refuse_pushes(&bare, "main is protected: open a merge request");

    let out = run("sync", &url, &ns.name, &["--on-failure", "revert"]);
    assert_eq!(
        out.code, 3,
        "the gate failure is reported: {}{}",
        out.stdout, out.stderr
    );
    assert!(
        out.stderr.contains("WARNING: REVERT NOT PUSHED")
            && out.stderr.contains("pre-receive hook declined")
            && out
                .stderr
                .contains(&format!("applied the previous commit {}", &good[..7])),
        "{}",
        out.stderr
    );
    assert_eq!(tip(&bare), bad, "the branch on the remote is unchanged");
    assert_eq!(ds_image(&client, &ns.name).await, "nginx:1.18.0");
    let ds = Api::<DaemonSet>::namespaced(client.clone(), &ns.name)
        .get("agent")
        .await
        .unwrap();
    let annotations = ds.metadata.annotations.unwrap_or_default();
    assert_eq!(
        annotations.get("ferry.dev/commit"),
        Some(&good),
        "{annotations:?}"
    );
    let records = history(&ns.name);
    let newest = &records[0];
    assert_eq!(newest["commit"]["sha"], good.as_str(), "{newest}");
    assert_eq!(newest["trigger"], "revert-fallback", "{newest}");
    assert_eq!(newest["outcome"]["status"], "succeeded", "{newest}");
    assert_eq!(records[1]["commit"]["sha"], bad.as_str());
    assert_eq!(records[1]["outcome"]["status"], "gateFailed");
}

#[tokio::test]
async fn serve_falls_back_to_the_parent_and_does_not_self_heal_back_to_the_failing_commit() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "rbp-serve-refused").await;
    let root = tempfile::tempdir().unwrap();
    let bare = bare_repo(root.path(), "cluster.git");
    let git = GitHttp::serve(root.path());
    let url = git.url("cluster.git");
    let work = GitRepo::new();
    let push = |work: &GitRepo| {
        let out = Command::new("git")
            .args(["push", "-q", &url, "HEAD:main"])
            .current_dir(work.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    refuse_revert_pushes(&bare, "reverts need a review");
    work.write("apps/agent.yaml", &daemonset_yaml("agent", "nginx:1.18.0"));
    let good = work.commit("agent 1.18");
    push(&work);
    let config = support::serve::app_config(
        &ns.name,
        &url,
        "1s",
        "    failurePolicy: revert\n    selfHeal: true\n",
    );
    let server = wait_ready(spawn_server(&config, &["--heal-interval", "1s"], &[]));
    work.write(
        "apps/agent.yaml",
        &daemonset_yaml("agent", "nginx:doesnotexist"),
    );
    let bad = work.commit("agent broken");
    push(&work);

    let status = wait_until(Duration::from_secs(120), "the fallback", || async {
        let status = app_status(server.port, &ns.name).await;
        (status["fallbackCommit"] == good.as_str()).then_some(status)
    })
    .await;
    assert_eq!(status["headCommit"], bad.as_str(), "{status}");
    let records = history(&ns.name);
    assert_eq!(records[0]["trigger"], "revert-fallback", "{records}");
    assert_eq!(records[0]["commit"]["sha"], good.as_str());
    assert_eq!(tip(&bare), bad, "the branch on the remote is unchanged");
    // Polls see the cluster differ from the branch: reported, never healed back to `bad`.
    let polls = |s: &serde_json::Value| s["triggers"]["poll"].as_u64().unwrap_or(0);
    let noted = wait_until(Duration::from_secs(30), "the drift note", || async {
        let status = app_status(server.port, &ns.name).await;
        status["driftNote"]
            .as_str()
            .is_some_and(|n| n.contains("refused the revert"))
            .then_some(status)
    })
    .await;
    wait_until(Duration::from_secs(30), "two more polls", || async {
        let status = app_status(server.port, &ns.name).await;
        (polls(&status) >= polls(&noted) + 2).then_some(())
    })
    .await;
    let status = app_status(server.port, &ns.name).await;
    assert_eq!(status["selfHeals"], 0, "{status}");
    assert_eq!(ds_image(&client, &ns.name).await, "nginx:1.18.0");
}
