//! The web UI in a real browser: Debian's headless chromium driven over WebDriver against a
//! real `ferry serve` and the local control plane. A push shows up live, a failing image shows
//! its pod, node and reason, history shows the failed gate, Roll back writes the revert, and
//! the plan view shows exactly the changed field with Secrets masked.

mod support;

use std::time::{Duration, Instant};

use support::browser::Browser;
use support::serve::*;
use support::{client, daemonset_yaml, wait_until, Remote, TestNamespace};

fn short(sha: &str) -> &str {
    &sha[..7]
}

/// Waits until the app's status says `sha` is synced.
async fn wait_synced(port: u16, app: &str, sha: &str) {
    wait_until(Duration::from_secs(60), "the commit synced", || async {
        (app_status(port, app).await["syncedCommit"] == sha).then_some(())
    })
    .await;
}

/// Waits until the app's last sync ended with `outcome`.
async fn wait_outcome(port: u16, app: &str, outcome: &str) {
    wait_until(Duration::from_secs(60), outcome, || async {
        let status = app_status(port, app).await;
        (status["lastOutcome"] == outcome && status["syncing"] == false).then_some(())
    })
    .await;
}

/// A ferry.yaml with two apps of one repository (`apps/` and `more/`), polled every second.
fn two_apps(failing: &str, healthy: &str, repo: &str) -> String {
    format!(
        "apps:\n  - name: {failing}\n    repo: {repo}\n    branch: main\n    path: apps\n    namespace: {failing}\n    interval: 1s\n  - name: {healthy}\n    repo: {repo}\n    branch: main\n    path: more\n    namespace: {healthy}\n    interval: 1s\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_shows_live_and_a_failing_image_shows_its_pod_node_and_reason() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "ui-live").await;
    let other = TestNamespace::new(&client, "ui-ok").await;
    let remote = Remote::new();
    remote
        .work
        .write("apps/agent.yaml", &daemonset_yaml("agent", "nginx:1.25"))
        .write(
            "more/collector.yaml",
            &daemonset_yaml("collector", "nginx:1.25"),
        );
    let first = remote.commit_and_push("agent 1.25");
    let server = wait_ready(spawn_server(
        &two_apps(&ns.name, &other.name, &remote.url()),
        &[],
        &[],
    ));
    wait_synced(server.port, &ns.name, &first).await;

    let browser = Browser::start().await;
    browser.open(server.port, "/").await;
    let row = format!("#apps tr:has(a[href=\"/apps/{}\"])", ns.name);
    let cell = format!("{row} td:nth-child(3)");
    assert!(
        browser.text(&cell).await.unwrap().contains(short(&first)),
        "the synced sha is on the page"
    );
    // A mark that a reload would lose.
    browser
        .client
        .execute("window.ferryMark = 42; return 1;", vec![])
        .await
        .unwrap();

    remote
        .work
        .write("apps/agent.yaml", &daemonset_yaml("agent", "nginx:1.26"));
    let second = remote.commit_and_push("agent 1.26");
    let pushed = Instant::now();
    // The row shows the new sha (as the head, then as synced) without a reload; the time
    // from the server's status knowing it to the page showing it is the live path's latency.
    let mut api_saw = None;
    let shown = loop {
        if api_saw.is_none()
            && app_status(server.port, &ns.name).await["headCommit"] == second.as_str()
        {
            api_saw = Some(pushed.elapsed());
        }
        let text = browser.text(&cell).await.unwrap_or_default();
        if text.contains(short(&second)) {
            break pushed.elapsed();
        }
        assert!(
            pushed.elapsed() < Duration::from_secs(2),
            "the new sha is not on the apps page 2s after the push: {text}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    eprintln!("push → new sha on the apps page: {shown:?} (status had it after {api_saw:?})");
    let mark = browser
        .client
        .execute("return window.ferryMark === 42;", vec![])
        .await
        .unwrap();
    assert_eq!(mark, serde_json::json!(true), "the page was not reloaded");
    wait_synced(server.port, &ns.name, &second).await;
    browser
        .wait_for(Duration::from_secs(5), "the synced state live", || async {
            let sync = browser.text(&format!("{row} td:nth-child(4)")).await?;
            let commit = browser
                .text(&format!("{row} td:nth-child(3) > code"))
                .await?;
            (sync.starts_with("synced") && commit == short(&second)).then_some(())
        })
        .await;

    remote.work.write(
        "apps/agent.yaml",
        &daemonset_yaml("agent", "nginx:doesnotexist"),
    );
    let broken = remote.commit_and_push("agent broken");
    browser
        .open(server.port, &format!("/apps/{}", ns.name))
        .await;
    // The live part follows the rollout until the gate fails (grace 2s).
    let problem = browser
        .wait_for(
            Duration::from_secs(60),
            "the failing pod with its reason",
            || async {
                let text = browser.text("#resources .pod .problem").await?;
                text.contains("ImagePullBackOff").then_some(text)
            },
        )
        .await;
    let pod = browser.text("#resources .pod").await.unwrap();
    assert!(pod.starts_with("agent-"), "{pod}");
    let node = browser.text("#resources .pod .node").await.unwrap();
    assert!(node.starts_with("kwok-"), "the pod's node: {node}");
    assert!(problem.contains("doesnotexist"), "{problem}");
    wait_outcome(server.port, &ns.name, "gate-failed").await;
    browser
        .wait_for(Duration::from_secs(5), "the degraded health", || async {
            let health = browser.text("#health").await?;
            (health.starts_with("degraded") && health.contains("ImagePullBackOff")).then_some(())
        })
        .await;
    browser.screenshot("app-failing").await;

    browser.open(server.port, "/").await;
    let health = browser
        .text(&format!("{row} td:nth-child(5)"))
        .await
        .unwrap();
    assert!(health.starts_with("degraded"), "{health}");
    browser.screenshot("apps").await;

    browser
        .open(server.port, &format!("/apps/{}/history", ns.name))
        .await;
    let newest = browser.text("#history tbody tr").await.unwrap();
    assert!(newest.contains(short(&broken)), "{newest}");
    assert!(newest.contains("gate-failed"), "{newest}");
    browser.click("#history tbody tr a").await;
    let outcome = browser
        .wait_for(Duration::from_secs(5), "the sync's page", || async {
            browser.text("#outcome").await
        })
        .await;
    assert!(outcome.starts_with("gate-failed"), "{outcome}");
    assert!(
        outcome.contains(&format!("DaemonSet {}/agent", ns.name)),
        "{outcome}"
    );
    assert!(outcome.contains("ImagePullBackOff"), "{outcome}");
    let objects = browser.text("#objects").await.unwrap();
    assert!(objects.contains("ControllerRevision"), "{objects}");
    browser.screenshot("history-entry").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roll_back_needs_the_token_writes_the_revert_and_shows_the_sync() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "ui-rb").await;
    let remote = Remote::new();
    remote
        .work
        .write("apps/agent.yaml", &daemonset_yaml("agent", "nginx:1.25"));
    let good = remote.commit_and_push("agent good");
    let server = start_server(&remote, &ns.name, "1s", &[]);
    wait_synced(server.port, &ns.name, &good).await;
    remote.work.write(
        "apps/agent.yaml",
        &daemonset_yaml("agent", "nginx:doesnotexist"),
    );
    let broken = remote.commit_and_push("agent broken");
    wait_outcome(server.port, &ns.name, "gate-failed").await;

    let browser = Browser::start().await;
    browser
        .open(server.port, &format!("/apps/{}/history", ns.name))
        .await;
    browser.click("#history tbody tr a").await;
    let button = browser
        .client
        .wait()
        .for_element(fantoccini::Locator::Css("#roll-back"))
        .await
        .unwrap();
    button.click().await.unwrap();
    let question = browser
        .wait_for(Duration::from_secs(5), "the confirmation", || async {
            browser.text("#confirm p").await
        })
        .await;
    assert!(question.contains(short(&broken)), "{question}");

    // A wrong token: refused, nothing written.
    let token = browser
        .client
        .find(fantoccini::Locator::Css("#token"))
        .await
        .unwrap();
    token.send_keys("not-the-token").await.unwrap();
    browser.click("#confirm-button").await;
    let refusal = browser
        .wait_for(Duration::from_secs(5), "the refusal", || async {
            browser.text(".note.bad").await
        })
        .await;
    assert!(refusal.contains("not this server's API token"), "{refusal}");
    assert_eq!(remote.tip_message().trim(), "agent broken");

    // The token: the revert is pushed and synced, and history shows it.
    let token = browser
        .client
        .find(fantoccini::Locator::Css("#token"))
        .await
        .unwrap();
    token.send_keys(API_TOKEN).await.unwrap();
    browser.click("#confirm-button").await;
    // The action answers with a redirect to the app's history.
    browser
        .wait_for(Duration::from_secs(10), "the history page", || async {
            let url = browser.client.current_url().await.ok()?;
            url.path().ends_with("/history").then_some(())
        })
        .await;
    let row = browser
        .wait_for(
            Duration::from_secs(60),
            "the rollback sync in history",
            || async {
                browser.client.refresh().await.ok()?;
                let row = browser.text("#history tbody tr").await?;
                (row.contains("rollback") && row.contains("succeeded")).then_some(row)
            },
        )
        .await;
    assert!(row.contains("Revert \"agent broken\""), "{row}");
    assert!(
        remote.tip_message().starts_with("Revert \"agent broken\""),
        "the revert is on the remote: {}",
        remote.tip_message()
    );
    assert!(
        row.contains(&format!("reverts {}", short(&broken))),
        "{row}"
    );
    browser
        .open(server.port, &format!("/apps/{}", ns.name))
        .await;
    let notice = browser.text("#notice").await.unwrap();
    assert!(
        notice.contains(&format!("rolled back {}", short(&broken))),
        "{notice}"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_the_ui_is_read_only() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "ui-ro").await;
    let remote = Remote::new();
    let sha = commit_cm(&remote, "one");
    let server = wait_ready(spawn_server(
        &app_config(&ns.name, &remote.url(), "1s", ""),
        &[],
        &[("FERRY_API_TOKEN", "")],
    ));
    wait_synced(server.port, &ns.name, &sha).await;
    let browser = Browser::start().await;
    browser
        .open(server.port, &format!("/apps/{}", ns.name))
        .await;
    let banner = browser.text("#read-only").await.unwrap();
    assert!(banner.contains("Read-only"), "{banner}");
    assert!(!browser.has("#roll-back").await, "no Roll back button");
    assert!(!browser.has("#sync-now").await, "no Sync button");
    browser
        .open(server.port, &format!("/apps/{}/history/1", ns.name))
        .await;
    assert!(browser.has("#outcome").await);
    assert!(!browser.has("#roll-back").await, "no Roll back button");
    browser
        .open(server.port, &format!("/apps/{}/rollback", ns.name))
        .await;
    assert!(!browser.has("#confirm").await, "no form");
    browser.close().await;
    let (status, _) = http(
        server.port,
        "POST",
        &format!("/apps/{}/rollback", ns.name),
        &[(
            "Content-Type",
            "application/x-www-form-urlencoded".to_string(),
        )],
        b"token=anything",
    )
    .unwrap();
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_shows_exactly_the_changed_field_and_masks_secrets() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let client = client().await;
    let ns = TestNamespace::new(&client, "ui-diff").await;
    let remote = Remote::new();
    remote.work.write(
        "apps/creds.yaml",
        &format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\ndata:\n  password: {}\n  user: {}\n",
            b64("git-secret-value"),
            b64("admin")
        ),
    );
    let sha = commit_cm(&remote, "one");
    let server = start_server(&remote, &ns.name, "1s", &[]);
    wait_synced(server.port, &ns.name, &sha).await;
    // Changed by hand: one ConfigMap field and one Secret value.
    hand_edit(&ns.name, "hand-edit");
    support::kubectl_ok(&[
        "patch",
        "secret",
        "creds",
        "-n",
        &ns.name,
        "--type=merge",
        "-p",
        &format!(
            r#"{{"data":{{"password":"{}"}}}}"#,
            b64("live-secret-value")
        ),
    ]);

    let browser = Browser::start().await;
    browser
        .open(server.port, &format!("/apps/{}", ns.name))
        .await;
    let cm = format!(".diff[data-object=\"ConfigMap {}/settings\"]", ns.name);
    let rows = browser
        .client
        .find_all(fantoccini::Locator::Css(&format!("{cm} tr.field")))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "exactly one changed field");
    assert_eq!(
        browser.text(&format!("{cm} .path")).await.unwrap(),
        "data.value"
    );
    assert_eq!(
        browser.text(&format!("{cm} .before")).await.unwrap(),
        "hand-edit"
    );
    assert_eq!(browser.text(&format!("{cm} .after")).await.unwrap(), "one");
    let secret = format!(".diff[data-object=\"Secret {}/creds\"]", ns.name);
    let rows = browser
        .client
        .find_all(fantoccini::Locator::Css(&format!("{secret} tr.field")))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "only the password changed");
    assert_eq!(
        browser.text(&format!("{secret} .path")).await.unwrap(),
        "data.password"
    );
    let before = browser.text(&format!("{secret} .before")).await.unwrap();
    let after = browser.text(&format!("{secret} .after")).await.unwrap();
    assert!(before.starts_with("<masked: 17 bytes"), "{before}");
    assert!(after.starts_with("<masked: 16 bytes"), "{after}");
    assert_ne!(before, after, "a changed value still shows as changed");
    let html = browser.source().await;
    for secret in ["git-secret-value", "live-secret-value"] {
        assert!(!html.contains(secret), "{secret} is on the page");
        assert!(
            !html.contains(&b64(secret)),
            "{secret} (base64) is on the page"
        );
    }
    browser.screenshot("app-diff").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn badges_and_pages_behind_api_read_auth() {
    use base64::Engine as _;
    let client = client().await;
    let ns = TestNamespace::new(&client, "ui-auth").await;
    let remote = Remote::new();
    let sha = commit_cm(&remote, "one");
    let server = start_server(&remote, &ns.name, "1s", &["--api-read-auth"]);
    let basic = |password: &str| {
        (
            "Authorization",
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("me:{password}"))
            ),
        )
    };
    let bearer = bearer();
    wait_until(Duration::from_secs(30), "the commit synced", || async {
        let (_, body) = http(
            server.port,
            "GET",
            &format!("/api/apps/{}", ns.name),
            std::slice::from_ref(&bearer),
            b"",
        )
        .ok()?;
        body.contains(&sha).then_some(())
    })
    .await;
    for path in [
        "/",
        &format!("/apps/{}", ns.name),
        &format!("/badge/{}.svg", ns.name),
        "/ui/events",
    ] {
        let (status, _) = http(server.port, "GET", path, &[], b"").unwrap();
        assert_eq!(status, 401, "{path} without the token");
        let (status, _) = http(server.port, "GET", path, &[basic("wrong")], b"").unwrap();
        assert_eq!(status, 401, "{path} with a wrong token");
    }
    let (status, page) = http(server.port, "GET", "/", &[basic(API_TOKEN)], b"").unwrap();
    assert_eq!(status, 200);
    assert!(page.contains(short(&sha)), "{page}");
    assert!(!page.contains(API_TOKEN), "the token is not on the page");
    let (status, svg) = http(
        server.port,
        "GET",
        &format!("/badge/{}.svg", ns.name),
        &[basic(API_TOKEN)],
        b"",
    )
    .unwrap();
    assert_eq!(status, 200);
    assert!(svg.contains("synced · healthy"), "{svg}");
    // The stylesheet and script are no secret: a browser fetches them before it has asked
    // for credentials.
    let (status, css) = http(server.port, "GET", "/ui/assets/ui.css", &[], b"").unwrap();
    assert_eq!(status, 200);
    assert!(css.contains("prefers-color-scheme: dark"));
}
