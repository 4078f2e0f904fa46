//! A real Gitea (dev/forge/gitea.sh, started by dev/test.sh) in the loop with `ferry serve`
//! and the CLI: Gitea's own HMAC-signed push webhook drives a sync, its real payload drives
//! the path filter, and every sync's outcome is written back as a commit status that is read
//! back through Gitea's API. `ferry rollback` pushes its revert to Gitea over HTTP with a
//! token, and a branch protection rule that refuses it makes the policy fall back for real.

mod support;

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::DaemonSet;
use kube::api::Api;
use serde_json::{json, Value};
use support::gitea::{Gitea, GiteaRepo};
use support::serve::{http, spawn_server, wait_ready, SECRET};
use support::{client, daemonset_yaml, ferry, wait_until, TestNamespace};

async fn image_of(client: &kube::Client, ns: &str, name: &str) -> Option<String> {
    let ds = Api::<DaemonSet>::namespaced(client.clone(), ns)
        .get_opt(name)
        .await
        .ok()??;
    ds.spec?.template.spec?.containers[0].image.clone()
}

/// The app entry for `path` of `repo`, fetched over HTTP with the user's token, with a Gitea
/// commit status.
fn app_entry(gitea: &Gitea, repo: &GiteaRepo, name: &str, ns: &str, path: &str) -> String {
    let token = gitea.user_token_file.display();
    format!(
        "  - name: {name}\n    repo: {url}\n    branch: main\n    path: {path}\n    namespace: {ns}\n    interval: 1h\n    auth: {{username: {user}, tokenFile: {token}, allowPlainHttp: true}}\n    notify:\n      commitStatus: {{forge: gitea, api: '{api}', tokenFile: {token}, allowPlainHttp: true}}\n",
        url = repo.http_url(),
        user = gitea.user,
        api = gitea.url.trim_end_matches('/'),
    )
}

/// The newest status of context `ferry/<app>` on `sha`, once it is not `pending`.
async fn final_status(gitea: &Gitea, repo: &GiteaRepo, sha: &str, app: &str) -> Value {
    let context = format!("ferry/{app}");
    wait_until(Duration::from_secs(90), "a final commit status", || async {
        // The newest is the one with the highest id (the list's order is not documented).
        let statuses = gitea.commit_statuses(repo, sha);
        let newest = statuses
            .as_array()?
            .iter()
            .filter(|s| s["context"] == context.as_str())
            .max_by_key(|s| s["id"].as_u64())?
            .clone();
        (newest["status"] != "pending").then_some(newest)
    })
    .await
}

fn metric(port: u16, line_start: &str) -> u64 {
    let (_, body) = http(port, "GET", "/metrics", &[], b"").unwrap();
    body.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_push_to_gitea_is_applied_through_its_webhook_and_the_commit_shows_the_outcome() {
    let gitea = Gitea::from_env();
    let client = client().await;
    let ns = TestNamespace::new(&client, "gitea-serve").await;
    let repo = gitea.create_repo("serve");
    let (a, b) = (format!("{}-a", ns.name), format!("{}-b", ns.name));
    repo.work.write(
        "apps/a/agent.yaml",
        &daemonset_yaml("agent-a", "nginx:1.27"),
    );
    repo.work.write(
        "apps/b/agent.yaml",
        &daemonset_yaml("agent-b", "nginx:1.27"),
    );
    let first = repo.commit_and_push("two agents");
    let config = format!(
        "externalUrl: https://ferry.example.com\napps:\n{}{}",
        app_entry(&gitea, &repo, &a, &ns.name, "apps/a"),
        app_entry(&gitea, &repo, &b, &ns.name, "apps/b")
    );
    let server = wait_ready(spawn_server(&config, &[], &[]));
    assert_eq!(
        final_status(&gitea, &repo, &first, &a).await["status"],
        "success"
    );
    repo.add_webhook(
        &gitea,
        &format!("http://127.0.0.1:{}/hooks/gitea", server.port),
        SECRET,
        "main",
    );

    // A push touching only apps/a: Gitea's signed webhook, Gitea's payload, applied.
    repo.work.write(
        "apps/a/agent.yaml",
        &daemonset_yaml("agent-a", "nginx:1.28"),
    );
    let pushed_at = Instant::now();
    let second = repo.commit_and_push("agent-a 1.28");
    wait_until(Duration::from_secs(60), "agent-a on 1.28", || async {
        (image_of(&client, &ns.name, "agent-a").await.as_deref() == Some("nginx:1.28"))
            .then_some(())
    })
    .await;
    eprintln!(
        "gitea push to applied: {} ms",
        pushed_at.elapsed().as_millis()
    );
    let status = final_status(&gitea, &repo, &second, &a).await;
    assert_eq!(status["status"], "success", "{status}");
    assert!(
        status["description"]
            .as_str()
            .unwrap()
            .starts_with("synced and healthy: 1 update"),
        "{status}"
    );
    // The path filter read Gitea's list of changed files: app b was not triggered.
    let webhook_a = metric(
        server.port,
        &format!("ferry_triggers_total{{app=\"{a}\",trigger=\"webhook\"}}"),
    );
    let webhook_b = metric(
        server.port,
        &format!("ferry_triggers_total{{app=\"{b}\",trigger=\"webhook\"}}"),
    );
    assert!(webhook_a >= 1, "a was triggered by the webhook");
    assert_eq!(webhook_b, 0, "b's path was not touched");
    assert!(gitea
        .commit_statuses(&repo, &second)
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["context"] != format!("ferry/{b}").as_str()));

    // A broken image: the commit turns red on Gitea, naming the object, the reason, the node.
    repo.work.write(
        "apps/a/agent.yaml",
        &daemonset_yaml("agent-a", "nginx:doesnotexist"),
    );
    let broken = repo.commit_and_push("agent-a broken");
    let status = final_status(&gitea, &repo, &broken, &a).await;
    eprintln!(
        "gitea status of the broken commit: {}",
        serde_json::to_string_pretty(&json!({
            "context": status["context"], "status": status["status"],
            "description": status["description"], "target_url": status["target_url"],
            "creator": status["creator"]["login"],
        }))
        .unwrap()
    );
    assert_eq!(status["status"], "failure", "{status}");
    assert_eq!(
        status["target_url"],
        format!("https://ferry.example.com/apps/{a}/history")
    );
    let description = status["description"].as_str().unwrap();
    assert!(
        description.starts_with(&format!("DaemonSet {}/agent-a: ", ns.name))
            && description.contains("ImagePullBackOff")
            && description.contains(" on kwok-"),
        "{description}"
    );
    // The combined status Gitea shows on the commit is red too.
    assert_eq!(gitea.combined_state(&repo, &broken), "failure");
    let sent = metric(
        server.port,
        &format!("ferry_notifications_total{{app=\"{a}\",target=\"gitea\",result=\"sent\"}}"),
    );
    assert!(sent >= 6, "pending + outcome for three commits, got {sent}");
}

#[tokio::test]
async fn rollback_pushes_its_revert_to_gitea_and_a_protected_branch_gets_the_fallback() {
    let gitea = Gitea::from_env();
    let client = client().await;
    let ns = TestNamespace::new(&client, "gitea-rb").await;
    let repo = gitea.create_repo("rollback");
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("ferry.yaml");
    std::fs::write(
        &config_path,
        format!(
            "apps:\n{}",
            app_entry(&gitea, &repo, &ns.name, &ns.name, "apps")
        ),
    )
    .unwrap();
    let config = config_path.to_str().unwrap();
    let run = |args: &[&str]| {
        let mut all = vec![
            args[0],
            "--config",
            config,
            "--grace",
            "2s",
            "--timeout",
            "90s",
        ];
        all.extend_from_slice(&args[1..]);
        let out = ferry(&all);
        out.assert_hides(&[&gitea.user_token()]);
        out
    };
    repo.work
        .write("apps/agent.yaml", &daemonset_yaml("agent", "nginx:1.27"));
    repo.commit_and_push("agent 1.27");
    assert_eq!(run(&["sync"]).code, 0);
    repo.work.write(
        "apps/agent.yaml",
        &daemonset_yaml("agent", "nginx:doesnotexist"),
    );
    let bad = repo.commit_and_push("agent broken");
    assert_eq!(run(&["sync"]).code, 3);

    // ferry rollback pushes the revert to Gitea over HTTP with the token.
    let out = run(&["rollback"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let tip = gitea.branch_tip(&repo, "main");
    assert!(
        tip["message"]
            .as_str()
            .unwrap()
            .starts_with("Revert \"agent broken\""),
        "{tip}"
    );
    assert!(tip["message"]
        .as_str()
        .unwrap()
        .contains(&format!("This reverts commit {bad}.")));
    let revert = tip["id"].as_str().unwrap().to_string();
    assert_eq!(
        final_status(&gitea, &repo, &revert, &ns.name).await["status"],
        "success"
    );
    assert_eq!(
        image_of(&client, &ns.name, "agent").await.as_deref(),
        Some("nginx:1.27")
    );

    // The same break again, now on a branch Gitea protects: the revert push is refused and
    // the documented fallback applies the parent, with a WARNING.
    repo.pull();
    repo.work.write(
        "apps/agent.yaml",
        &daemonset_yaml("agent", "nginx:doesnotexist"),
    );
    let bad_again = repo.commit_and_push("agent broken again");
    repo.protect_branch(&gitea, "main");
    let out = run(&["sync", "--on-failure", "revert"]);
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("WARNING: REVERT NOT PUSHED"),
        "{}",
        out.stderr
    );
    assert_eq!(gitea.branch_tip(&repo, "main")["id"], bad_again.as_str());
    assert_eq!(
        image_of(&client, &ns.name, "agent").await.as_deref(),
        Some("nginx:1.27")
    );
}
