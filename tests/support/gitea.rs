//! The real Gitea that `dev/forge/gitea.sh up` runs on 127.0.0.1 (dev/test.sh starts it and
//! sets `FERRY_TEST_GITEA_ENV`): one fresh repository per test under the organisation, pushed
//! to with the git CLI, and Gitea's REST API for webhooks, branch protection and commit
//! statuses (https://docs.gitea.com/api/1.27/). Tokens are read from the env file's token
//! files and never printed.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};

use super::serve::http_version;
use super::{random_suffix, GitRepo};

/// The running forge, as the env file describes it.
pub struct Gitea {
    /// `http://127.0.0.1:PORT/`.
    pub url: String,
    /// Its HTTP port.
    pub port: u16,
    /// Its built-in SSH server's port.
    pub ssh_port: u16,
    /// The organisation tests create repositories in.
    pub org: String,
    /// The user who pushes (`dev`).
    pub user: String,
    /// The user's API token file (also its git password).
    pub user_token_file: PathBuf,
    /// The user's SSH private key.
    pub ssh_key: PathBuf,
    /// known_hosts with Gitea's SSH host key.
    pub known_hosts: PathBuf,
    admin_token: String,
}

/// One test's repository on the forge, and a work tree that pushes to it.
pub struct GiteaRepo {
    /// `org/name`.
    pub full_name: String,
    /// The work tree.
    pub work: GitRepo,
    http_url: String,
    push_url: String,
}

impl Gitea {
    /// Reads `FERRY_TEST_GITEA_ENV`; panics with the command to run when it is unset.
    pub fn from_env() -> Gitea {
        let path = std::env::var("FERRY_TEST_GITEA_ENV").unwrap_or_else(|_| {
            panic!(
                "FERRY_TEST_GITEA_ENV is not set: start the forge with \
                 `export FERRY_TEST_GITEA_ENV=$(bash dev/forge/gitea.sh up)` (dev/test.sh does)"
            )
        });
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {path}: {e}; run bash dev/forge/gitea.sh up"));
        let get = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{key}=")))
                .unwrap_or_else(|| panic!("{path} has no {key}"))
                .to_string()
        };
        let url = get("GITEA_URL");
        let port = url
            .trim_end_matches('/')
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("GITEA_URL has a port");
        let admin_token = std::fs::read_to_string(get("GITEA_ADMIN_TOKEN_FILE"))
            .unwrap()
            .trim()
            .to_string();
        Gitea {
            port,
            ssh_port: get("GITEA_SSH_PORT").parse().unwrap(),
            org: get("GITEA_ORG"),
            user: get("GITEA_USER"),
            user_token_file: get("GITEA_USER_TOKEN_FILE").into(),
            ssh_key: get("GITEA_SSH_KEY").into(),
            known_hosts: get("GITEA_KNOWN_HOSTS").into(),
            url,
            admin_token,
        }
    }

    /// The user's token.
    pub fn user_token(&self) -> String {
        std::fs::read_to_string(&self.user_token_file)
            .unwrap()
            .trim()
            .to_string()
    }

    /// One API call as the admin: status and JSON body (`Value::Null` when empty).
    pub fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        // HTTP/1.0, so Gitea answers without chunked encoding and the body is plain JSON.
        let (status, text) = http_version(
            self.port,
            "HTTP/1.0",
            method,
            &format!("/api/v1{path}"),
            &[
                ("Authorization", format!("token {}", self.admin_token)),
                ("Content-Type", "application/json".into()),
                ("Accept", "application/json".into()),
            ],
            body.as_bytes(),
        )
        .unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    fn api_ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.api(method, path, body);
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {value}"
        );
        value
    }

    /// A new private repository `org/<prefix>-<random>` with `main` as its default branch.
    pub fn create_repo(&self, prefix: &str) -> GiteaRepo {
        let name = format!("{prefix}-{}", random_suffix());
        self.api_ok(
            "POST",
            &format!("/orgs/{}/repos", self.org),
            Some(json!({"name": name, "private": true, "default_branch": "main", "auto_init": false})),
        );
        let full_name = format!("{}/{name}", self.org);
        let origin = self.url.trim_end_matches('/');
        GiteaRepo {
            http_url: format!("{origin}/{full_name}.git"),
            push_url: origin.replacen(
                "http://",
                &format!("http://{}:{}@", self.user, self.user_token()),
                1,
            ) + &format!("/{full_name}.git"),
            full_name,
            work: GitRepo::new(),
        }
    }

    /// Every status of `sha`, newest first.
    pub fn commit_statuses(&self, repo: &GiteaRepo, sha: &str) -> Value {
        self.api_ok(
            "GET",
            &format!("/repos/{}/commits/{sha}/statuses", repo.full_name),
            None,
        )
    }

    /// The combined state Gitea shows on the commit (`success`, `failure`, `pending`…).
    pub fn combined_state(&self, repo: &GiteaRepo, sha: &str) -> String {
        self.api_ok(
            "GET",
            &format!("/repos/{}/commits/{sha}/status", repo.full_name),
            None,
        )["state"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The branch's tip commit (`id`, `message`, …).
    pub fn branch_tip(&self, repo: &GiteaRepo, branch: &str) -> Value {
        self.api_ok(
            "GET",
            &format!("/repos/{}/branches/{branch}", repo.full_name),
            None,
        )["commit"]
            .clone()
    }
}

impl GiteaRepo {
    /// The clone URL over HTTP (no credentials).
    pub fn http_url(&self) -> String {
        self.http_url.clone()
    }

    fn git(&self, args: &[&str]) {
        let out = Command::new("git")
            .args(args)
            .current_dir(self.work.path())
            .output()
            .unwrap();
        // The push URL carries the token: never print the command, only git's words with
        // the token blanked.
        let token = self
            .push_url
            .split('@')
            .next()
            .and_then(|s| s.rsplit(':').next())
            .unwrap_or_default();
        assert!(
            out.status.success(),
            "git {} failed: {}",
            args[0],
            String::from_utf8_lossy(&out.stderr).replace(token, "[token]")
        );
    }

    /// Commits everything and pushes it to `main` over HTTP as the user.
    pub fn commit_and_push(&self, message: &str) -> String {
        let sha = self.work.commit(message);
        self.git(&["push", "-q", &self.push_url, "HEAD:main"]);
        sha
    }

    /// Resets the work tree to the forge's `main` (after ferry pushed to it).
    pub fn pull(&self) {
        self.git(&["fetch", "-q", &self.push_url, "main"]);
        self.git(&["reset", "-q", "--hard", "FETCH_HEAD"]);
    }

    /// A Gitea push webhook to `url` signed with `secret`, for pushes to `branch`.
    pub fn add_webhook(&self, gitea: &Gitea, url: &str, secret: &str, branch: &str) {
        gitea.api_ok(
            "POST",
            &format!("/repos/{}/hooks", self.full_name),
            Some(json!({
                "type": "gitea",
                "active": true,
                "events": ["push"],
                "branch_filter": branch,
                "config": {"url": url, "content_type": "json", "secret": secret},
            })),
        );
    }

    /// A protection rule on `branch` that refuses every push.
    pub fn protect_branch(&self, gitea: &Gitea, branch: &str) {
        gitea.api_ok(
            "POST",
            &format!("/repos/{}/branch_protections", self.full_name),
            Some(json!({"rule_name": branch, "enable_push": false})),
        );
    }
}
