//! ferry's git transport against a real forge: a private Gitea repository cloned and fetched
//! over HTTP with a token and over Gitea's SSH server with a key checked against known_hosts.
//! A wrong token, a wrong key and a changed host key each fail with a clear error that holds
//! no secret.

mod support;

use support::gitea::{Gitea, GiteaRepo};
use support::serve::config_value;
use support::{client, ferry, ssh_keygen as keygen, FerryRun, TestNamespace};

fn commit_value(repo: &GiteaRepo, value: &str) -> String {
    repo.work.write(
        "apps/cm.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  value: \"{value}\"\n"
        ),
    );
    repo.commit_and_push(&format!("settings {value}"))
}

/// Runs `ferry <verb> -f <config>` for one app of `url` with `auth` (YAML flow mapping),
/// asserting no secret reaches its output.
fn run(verb: &str, ns: &str, url: &str, auth: &str, secrets: &[&str]) -> FerryRun {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ferry.yaml");
    std::fs::write(
        &config,
        format!(
            "apps:\n  - name: {ns}\n    repo: {url}\n    branch: main\n    path: apps\n    namespace: {ns}\n    auth: {auth}\n"
        ),
    )
    .unwrap();
    let out = ferry(&[verb, "-f", config.to_str().unwrap()]);
    out.assert_hides(secrets);
    out
}

#[tokio::test]
async fn http_with_a_token_clones_and_fetches_and_a_wrong_token_fails_clearly() {
    let gitea = Gitea::from_env();
    let client = client().await;
    let ns = TestNamespace::new(&client, "gitea-http").await;
    let repo = gitea.create_repo("http");
    commit_value(&repo, "one");
    let token = gitea.user_token();
    let auth = format!(
        "{{username: {}, tokenFile: {}, allowPlainHttp: true}}",
        gitea.user,
        gitea.user_token_file.display()
    );
    let out = run("sync", &ns.name, &repo.http_url(), &auth, &[&token]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        config_value(&client, &ns.name).await.as_deref(),
        Some("one")
    );
    // The second sync fetches into the clone the first one made.
    commit_value(&repo, "two");
    let out = run("sync", &ns.name, &repo.http_url(), &auth, &[&token]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        config_value(&client, &ns.name).await.as_deref(),
        Some("two")
    );

    let wrong = tempfile::NamedTempFile::new().unwrap();
    let wrong_token = "0123456789abcdef0123456789abcdef01234567";
    std::fs::write(wrong.path(), wrong_token).unwrap();
    let auth = format!(
        "{{username: {}, tokenFile: {}, allowPlainHttp: true}}",
        gitea.user,
        wrong.path().display()
    );
    let out = run(
        "plan",
        &ns.name,
        &repo.http_url(),
        &auth,
        &[wrong_token, &token],
    );
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "cannot fetch {}: the server refused the token from auth.tokenFile {} for user {}",
            repo.http_url(),
            wrong.path().display(),
            gitea.user
        )),
        "the error names the remote and where the token came from: {}",
        out.stderr
    );
}

#[tokio::test]
async fn ssh_with_a_key_checks_giteas_host_key_and_refuses_a_wrong_key_or_a_changed_host_key() {
    let gitea = Gitea::from_env();
    let client = client().await;
    let ns = TestNamespace::new(&client, "gitea-ssh").await;
    let repo = gitea.create_repo("ssh");
    commit_value(&repo, "one");
    let url = format!(
        "ssh://git@127.0.0.1:{}/{}.git",
        gitea.ssh_port, repo.full_name
    );
    let key_text = std::fs::read_to_string(&gitea.ssh_key).unwrap();
    let key_body = key_text.lines().nth(1).unwrap().to_string();
    let auth = |key: &std::path::Path, known_hosts: &std::path::Path| {
        format!(
            "{{sshKeyFile: {}, knownHostsFile: {}}}",
            key.display(),
            known_hosts.display()
        )
    };
    let out = run(
        "sync",
        &ns.name,
        &url,
        &auth(&gitea.ssh_key, &gitea.known_hosts),
        &[&key_body],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        config_value(&client, &ns.name).await.as_deref(),
        Some("one")
    );

    // A key Gitea does not know.
    let dir = tempfile::tempdir().unwrap();
    keygen(&dir.path().join("stranger"));
    let stranger = std::fs::read_to_string(dir.path().join("stranger")).unwrap();
    let out = run(
        "plan",
        &ns.name,
        &url,
        &auth(&dir.path().join("stranger"), &gitea.known_hosts),
        &[stranger.lines().nth(1).unwrap()],
    );
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "cannot fetch {url}: the server refused the SSH key {} (auth.sshKeyFile)",
            dir.path().join("stranger").display()
        )),
        "{}",
        out.stderr
    );

    // known_hosts names another key for Gitea's host and port: a man in the middle.
    keygen(&dir.path().join("impostor"));
    let impostor = std::fs::read_to_string(dir.path().join("impostor.pub")).unwrap();
    let host = format!("[127.0.0.1]:{}", gitea.ssh_port);
    let changed = dir.path().join("known_hosts-changed");
    std::fs::write(&changed, format!("{host} {impostor}")).unwrap();
    let out = run(
        "plan",
        &ns.name,
        &url,
        &auth(&gitea.ssh_key, &changed),
        &[&key_body],
    );
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "SSH host key for {host} does NOT match {}",
            changed.display()
        )),
        "{}",
        out.stderr
    );
}
