//! Commit statuses and webhooks from `ferry sync` and `ferry rollback`, received on 127.0.0.1
//! by receivers that check each request against the forge's documented API
//! (`support::receivers` links each one). Gitea itself is in `tests/forge_gitea.rs`.

mod support;

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use support::receivers::{Api, Receiver};
use support::{client, daemonset_yaml, ferry, FerryRun, Remote, TestNamespace};

const TOKEN: &str = "forge-token-7f3a9c";
const HOOK_SECRET: &str = "hook-secret-51d2";

/// A `ferry.yaml` for one app of `remote` deploying into `ns`, with `notify` as given.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(remote: &Remote, ns: &str, notify: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), format!("{TOKEN}\n")).unwrap();
        std::fs::write(dir.path().join("hook-secret"), HOOK_SECRET).unwrap();
        let notify = notify.replace("DIR", &dir.path().display().to_string());
        let config = format!(
            "externalUrl: https://ferry.example.com\napps:\n  - name: {ns}\n    repo: {}\n    namespace: {ns}\n    notify:\n{notify}",
            remote.url()
        );
        std::fs::write(dir.path().join("ferry.yaml"), config).unwrap();
        Setup { dir }
    }

    fn run(&self, verb: &str) -> FerryRun {
        let config = self.dir.path().join("ferry.yaml");
        let out = ferry(&[
            verb,
            "--config",
            config.to_str().unwrap(),
            "--grace",
            "2s",
            "--timeout",
            "90s",
        ]);
        out.assert_hides(&[TOKEN, HOOK_SECRET]);
        out
    }
}

fn states(receiver: &Receiver, sha: &str) -> Vec<String> {
    receiver
        .requests()
        .iter()
        .filter(|r| r.path.contains(sha))
        .map(|r| r.body["state"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn signed_correctly(raw: &[u8], header: &str) -> bool {
    let mut mac = Hmac::<Sha256>::new_from_slice(HOOK_SECRET.as_bytes()).unwrap();
    mac.update(raw);
    header == format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[tokio::test]
async fn github_gets_pending_then_success_and_the_webhook_gets_signed_events() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "notify-gh").await;
    // A slow forge: `ferry sync` must wait for its statuses before it exits.
    let github = Receiver::start_slow(Api::GithubStatus, TOKEN, Duration::from_millis(700));
    let hook = Receiver::start(Api::Webhook, "");
    let remote = Remote::new();
    let setup = Setup::new(
        &remote,
        &ns.name,
        &format!(
            "      commitStatus: {{forge: github, api: '{}', tokenFile: DIR/token, repository: platform/cluster, allowPlainHttp: true}}\n      webhooks:\n        - {{url: '{}/ferry', secretFile: DIR/hook-secret}}\n",
            github.url, hook.url
        ),
    );
    remote
        .work
        .write("agent.yaml", &daemonset_yaml("agent", "nginx:1.27"));
    let sha = remote.commit_and_push("agent 1.27");
    let out = setup.run("sync");
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);

    // `ferry sync` waited for its notifications before it exited.
    assert_eq!(github.violations(), Vec::<String>::new());
    assert_eq!(states(&github, &sha), ["pending", "success"]);
    let requests = github.requests();
    assert_eq!(
        requests[0].path,
        format!("/repos/platform/cluster/statuses/{sha}")
    );
    let body = &requests[1].body;
    assert_eq!(body["context"], format!("ferry/{}", ns.name));
    assert_eq!(
        body["target_url"],
        format!("https://ferry.example.com/apps/{}/history", ns.name)
    );
    assert_eq!(body["description"], "synced and healthy: 1 create");
    assert_eq!(requests[0].body["description"], "syncing: 1 create");

    let events = hook.requests();
    let names: Vec<_> = events
        .iter()
        .map(|r| r.body["event"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(names, ["sync.started", "sync.succeeded"]);
    for event in &events {
        let signature = event.headers["x-ferry-signature"].to_str().unwrap();
        assert!(signed_correctly(&event.raw, signature), "{signature}");
        assert_eq!(event.body["commit"], sha.as_str());
        assert_eq!(event.body["app"], ns.name.as_str());
    }

    // Nothing to apply: no sync, so no new status.
    let out = setup.run("sync");
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(github.requests().len(), 2);
}

#[tokio::test]
async fn gitlab_and_slack_show_a_failed_gate_with_its_object_and_reason() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "notify-gl").await;
    let gitlab = Receiver::start(Api::GitlabStatus, TOKEN);
    let slack = Receiver::start(Api::Webhook, "");
    let remote = Remote::new();
    let setup = Setup::new(
        &remote,
        &ns.name,
        &format!(
            "      commitStatus: {{forge: gitlab, api: '{}', tokenFile: DIR/token, repository: group/sub/cluster, allowPlainHttp: true}}\n      webhooks:\n        - {{url: '{}/services/T0/B0/x', format: slack, events: [failed]}}\n",
            gitlab.url, slack.url
        ),
    );
    remote
        .work
        .write("agent.yaml", &daemonset_yaml("agent", "nginx:doesnotexist"));
    let sha = remote.commit_and_push("agent broken");
    let out = setup.run("sync");
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);

    assert_eq!(gitlab.violations(), Vec::<String>::new());
    assert_eq!(states(&gitlab, &sha), ["running", "failed"]);
    let failed = gitlab.requests()[1].clone();
    assert_eq!(
        failed.path,
        format!("/api/v4/projects/group%2Fsub%2Fcluster/statuses/{sha}")
    );
    assert_eq!(failed.body["name"], format!("ferry/{}", ns.name));
    let description = failed.body["description"].as_str().unwrap();
    assert!(
        description.starts_with(&format!("DaemonSet {}/agent: ", ns.name))
            && description.contains("ImagePullBackOff")
            && description.contains(" on kwok-"),
        "{description}"
    );

    let messages = slack.requests();
    assert_eq!(messages.len(), 1, "slack subscribed to failures only");
    let text = messages[0].body["text"].as_str().unwrap();
    assert!(
        text.starts_with(&format!(
            ":x: *{}* `{}` failed: DaemonSet",
            ns.name,
            &sha[..12]
        )),
        "{text}"
    );
}

#[tokio::test]
async fn a_rollback_sets_the_revert_commits_status_at_bitbucket_and_says_rolled_back() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "notify-bb").await;
    let bitbucket = Receiver::start(Api::BitbucketStatus, TOKEN);
    let hook = Receiver::start(Api::Webhook, "");
    let remote = Remote::new();
    let setup = Setup::new(
        &remote,
        &ns.name,
        &format!(
            "      commitStatus: {{forge: bitbucket, api: '{}', tokenFile: DIR/token, repository: team/cluster, allowPlainHttp: true}}\n      webhooks:\n        - {{url: '{}/h', events: [rolledBack]}}\n",
            bitbucket.url, hook.url
        ),
    );
    remote
        .work
        .write("agent.yaml", &daemonset_yaml("agent", "nginx:1.27"));
    remote.commit_and_push("agent 1.27");
    assert_eq!(setup.run("sync").code, 0);
    remote
        .work
        .write("agent.yaml", &daemonset_yaml("agent", "nginx:doesnotexist"));
    let bad = remote.commit_and_push("agent broken");
    assert_eq!(setup.run("sync").code, 3);
    assert_eq!(states(&bitbucket, &bad), ["INPROGRESS", "FAILED"]);

    let out = setup.run("rollback");
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let events = hook.requests();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].body["event"], "sync.rolledBack");
    assert_eq!(events[0].body["reverted"], bad.as_str());
    let revert = events[0].body["revert"].as_str().unwrap().to_string();
    assert_eq!(events[0].body["commit"], revert.as_str());
    assert!(remote.tip_message().starts_with("Revert \"agent broken\""));

    assert_eq!(bitbucket.violations(), Vec::<String>::new());
    assert_eq!(states(&bitbucket, &revert), ["INPROGRESS", "SUCCESSFUL"]);
    let last = bitbucket.requests().last().cloned().unwrap();
    assert_eq!(
        last.path,
        format!("/2.0/repositories/team/cluster/commit/{revert}/statuses/build")
    );
    assert_eq!(last.body["key"], format!("ferry/{}", ns.name));
    assert_eq!(
        last.body["url"],
        format!("https://ferry.example.com/apps/{}/history", ns.name)
    );
}

#[tokio::test]
async fn a_forge_that_is_down_is_a_warning_and_the_sync_still_succeeds() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "notify-down").await;
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let remote = Remote::new();
    let setup = Setup::new(
        &remote,
        &ns.name,
        &format!("      commitStatus: {{forge: gitea, api: 'http://127.0.0.1:{port}', tokenFile: DIR/token, repository: o/r, allowPlainHttp: true}}\n"),
    );
    remote
        .work
        .write("agent.yaml", &daemonset_yaml("agent", "nginx:1.27"));
    remote.commit_and_push("agent 1.27");
    let out = setup.run("sync");
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("notification not delivered") && out.stderr.contains("127.0.0.1"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn an_invalid_commit_gets_an_error_status_naming_file_and_line() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "notify-bad").await;
    let github = Receiver::start(Api::GithubStatus, TOKEN);
    let remote = Remote::new();
    let setup = Setup::new(
        &remote,
        &ns.name,
        &format!(
            "      commitStatus: {{forge: github, api: '{}', tokenFile: DIR/token, repository: o/r, allowPlainHttp: true}}\n",
            github.url
        ),
    );
    remote.work.write(
        "agent.yaml",
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  labels: {a: b}\nspec: {}\n",
    );
    let sha = remote.commit_and_push("agent without a name");
    let out = setup.run("sync");
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert_eq!(github.violations(), Vec::<String>::new());
    assert_eq!(states(&github, &sha), ["error"]);
    let description = github.requests()[0].body["description"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        description.starts_with("not synced: ") && description.contains("agent.yaml:1"),
        "{description}"
    );
}
