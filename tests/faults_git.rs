//! Faults between ferry and a git remote: a `git daemon` on 127.0.0.1 behind Toxiproxy,
//! hanging (`timeout` toxic: the connection is accepted, nothing ever comes back) and gone
//! (proxy disabled: connection refused). ferry must fail that app with a clear error naming
//! the remote, and a second app on a healthy remote in the same `ferry serve` keeps syncing.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use support::faults::{ferry_command, Running};
use support::serve::{app_status, spawn_server, wait_ready};
use support::toxi::{GitDaemon, Toxic, Toxiproxy};
use support::{client, kubeconfig, wait_until, GitRepo, TestNamespace};

/// A bare repository `<base>/<name>.git` whose `main` holds one ConfigMap `settings` with
/// `value`; returns the working repository that pushes to it.
fn served_repo(base: &Path, name: &str, value: &str) -> GitRepo {
    let bare = base.join(format!("{name}.git"));
    let mut opts = git2::RepositoryInitOptions::new();
    opts.bare(true).initial_head("main");
    git2::Repository::init_opts(&bare, &opts).unwrap();
    let work = GitRepo::new();
    push_value(&work, &bare, value);
    work
}

fn push_value(work: &GitRepo, bare: &Path, value: &str) -> String {
    work.write(
        "apps/cm.yaml",
        &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  value: \"{value}\"\n"),
    );
    let sha = work.commit(&format!("settings {value}"));
    let out = Command::new("git")
        .args(["push", "-q", "-f"])
        .arg(bare)
        .arg("HEAD:main")
        .current_dir(work.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    sha
}

fn hang() -> Toxic {
    Toxic {
        kind: "timeout",
        stream: "downstream",
        toxicity: 1.0,
        attributes: serde_json::json!({ "timeout": 0 }),
    }
}

/// `ferry sync` of the app at `url`, bounded at `limit`.
fn sync_url(url: &str, ns: &str, limit: Duration) -> support::faults::Finished {
    let cache = tempfile::tempdir().unwrap();
    let args = [
        "sync",
        "--fetch-timeout",
        "5s",
        "--repo",
        url,
        "--path",
        "apps",
        "--namespace",
        ns,
        "--app",
        ns,
    ];
    Running::spawn(ferry_command(&kubeconfig(), cache.path(), &args)).finish(limit)
}

#[tokio::test]
async fn a_remote_that_is_gone_fails_the_sync_with_an_error_naming_it() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "fx-git-gone").await;
    let base = tempfile::tempdir().unwrap();
    let _work = served_repo(base.path(), "a", "1");
    let daemon = GitDaemon::start(base.path());
    let toxi = Toxiproxy::start(1);
    let proxy = toxi.proxy("git", &format!("127.0.0.1:{}", daemon.port));
    let url = format!("git://127.0.0.1:{}/a.git", proxy.port);
    // Through the healthy proxy it syncs: the fault below is the only difference.
    let ok = sync_url(&url, &ns.name, Duration::from_secs(120));
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);

    proxy.set_enabled(false);
    let gone = sync_url(&url, &ns.name, Duration::from_secs(120));
    assert_eq!(gone.code, 2, "{}{}", gone.stdout, gone.stderr);
    assert!(
        gone.stderr.contains(&url) && gone.stderr.contains("error:"),
        "the error names the remote: {}",
        gone.stderr
    );
    assert!(!gone.stderr.contains("panicked"), "{}", gone.stderr);
}

#[tokio::test]
async fn a_hanging_remote_fails_the_sync_within_a_bound() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "fx-git-hang").await;
    let base = tempfile::tempdir().unwrap();
    let _work = served_repo(base.path(), "a", "1");
    let daemon = GitDaemon::start(base.path());
    let toxi = Toxiproxy::start(2);
    let proxy = toxi.proxy("git", &format!("127.0.0.1:{}", daemon.port));
    proxy.add("hang", &hang());
    let url = format!("git://127.0.0.1:{}/a.git", proxy.port);
    // Bounded: Running::finish fails the test as a hang after 5 minutes.
    let hung = sync_url(&url, &ns.name, Duration::from_secs(300));
    assert_eq!(hung.code, 2, "{}{}", hung.stdout, hung.stderr);
    assert!(hung.stderr.contains(&url), "{}", hung.stderr);
    assert!(
        hung.stderr.contains("timed out after 5s"),
        "{}",
        hung.stderr
    );
}

#[tokio::test]
async fn a_hanging_and_then_gone_remote_does_not_stop_another_app_in_serve() {
    let client = client().await;
    let ns_a = TestNamespace::new(&client, "fx-git-a").await;
    let ns_b = TestNamespace::new(&client, "fx-git-b").await;
    let base = tempfile::tempdir().unwrap();
    let _work_a = served_repo(base.path(), "a", "1");
    let work_b = served_repo(base.path(), "b", "1");
    let daemon = GitDaemon::start(base.path());
    let toxi = Toxiproxy::start(3);
    let proxy = toxi.proxy("git", &format!("127.0.0.1:{}", daemon.port));
    let url_a = format!("git://127.0.0.1:{}/a.git", proxy.port);
    let url_b = format!("git://127.0.0.1:{}/b.git", daemon.port);
    let app = |name: &str, url: &str| {
        format!("  - name: {name}\n    repo: {url}\n    branch: main\n    path: apps\n    namespace: {name}\n    interval: 1s\n")
    };
    let config = format!(
        "apps:\n{}{}",
        app(&ns_a.name, &url_a),
        app(&ns_b.name, &url_b)
    );
    let server = wait_ready(spawn_server(&config, &["--max-backoff", "2s"], &[]));
    let synced = |app: String, sha: String| async move {
        let status = app_status(server.port, &app).await;
        (status["syncedCommit"] == sha.as_str()).then_some(())
    };
    wait_until(Duration::from_secs(60), "both apps synced", || async {
        let a = app_status(server.port, &ns_a.name).await;
        let b = app_status(server.port, &ns_b.name).await;
        (a["syncedCommit"].is_string() && b["syncedCommit"].is_string()).then_some(())
    })
    .await;

    // A's remote hangs: B still follows its own commits.
    proxy.add("hang", &hang());
    let bare_b = base.path().join("b.git");
    let b2 = push_value(&work_b, &bare_b, "2");
    wait_until(Duration::from_secs(60), "B to sync while A hangs", || {
        synced(ns_b.name.clone(), b2.clone())
    })
    .await;

    // A's remote is gone: A reports an error naming it, B still syncs.
    proxy.remove("hang");
    proxy.set_enabled(false);
    let b3 = push_value(&work_b, &bare_b, "3");
    wait_until(Duration::from_secs(60), "B to sync while A is gone", || {
        synced(ns_b.name.clone(), b3.clone())
    })
    .await;
    let error = wait_until(
        Duration::from_secs(60),
        "A to report its remote gone",
        || async {
            let a = app_status(server.port, &ns_a.name).await;
            a["lastError"].as_str().map(str::to_string)
        },
    )
    .await;
    assert!(
        error.contains(&url_a),
        "A's error names its remote: {error}"
    );
}
