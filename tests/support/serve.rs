//! Driving `ferry serve` from tests: start it on a free port with a generated ferry.yaml, talk
//! HTTP to it, sign webhooks with the shared test secret.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use sha2::Sha256;

use super::{kubeconfig, Remote};

pub const SECRET: &str = "s3cret-for-tests";

/// The API token every test server is started with (`FERRY_API_TOKEN`).
pub const API_TOKEN: &str = "api-t0ken-for-tests";

/// The `Authorization` header `POST /api/...` needs.
pub fn bearer() -> (&'static str, String) {
    ("Authorization", format!("Bearer {API_TOKEN}"))
}

/// A file holding [`API_TOKEN`], for `ferry sync --server --api-token-file`.
pub fn api_token_file() -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), API_TOKEN).unwrap();
    file
}

/// `POST` to the API with the token.
pub fn api_post(port: u16, path: &str) -> (u16, String) {
    http(port, "POST", path, &[bearer()], b"").unwrap()
}

/// Writes `apps/cm.yaml` with `value`, commits and pushes it.
pub fn commit_cm(remote: &Remote, value: &str) -> String {
    remote.work.write(
        "apps/cm.yaml",
        &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  value: \"{value}\"\n"),
    );
    remote.commit_and_push(&format!("settings {value}"))
}

pub struct Server {
    /// The `ferry serve` process.
    pub child: Child,
    /// Its HTTP port on 127.0.0.1.
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn start_server(remote: &Remote, app: &str, interval: &str, extra: &[&str]) -> Server {
    start_server_with(remote, app, interval, "", extra)
}

/// `app_yaml` is appended to the app's entry in ferry.yaml (e.g. "    selfHeal: true\n").
pub fn start_server_with(
    remote: &Remote,
    app: &str,
    interval: &str,
    app_yaml: &str,
    extra: &[&str],
) -> Server {
    wait_ready(spawn_server(
        &app_config(app, &remote.url(), interval, app_yaml),
        extra,
        &[],
    ))
}

/// Waits (up to a minute) until the server answers /readyz with 200.
pub fn wait_ready(server: Server) -> Server {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok((200, _)) = http(server.port, "GET", "/readyz", &[], b"") {
            return server;
        }
        assert!(
            Instant::now() < deadline,
            "ferry serve did not become ready"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// ferry.yaml with one app following `main` of `repo`, manifests under `apps/`.
pub fn app_config(app: &str, repo: &str, interval: &str, app_yaml: &str) -> String {
    format!(
        "apps:\n  - name: {app}\n    repo: {repo}\n    branch: main\n    path: apps\n    namespace: {app}\n    interval: {interval}\n{app_yaml}"
    )
}

/// Starts `ferry serve` on a free port with this config (grace 2s unless `extra` sets
/// `--grace`); does not wait for readiness.
pub fn spawn_server(config_yaml: &str, extra: &[&str], env: &[(&str, &str)]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ferry.yaml");
    std::fs::write(&config, config_yaml).unwrap();
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args([
            "serve",
            "--config",
            config.to_str().unwrap(),
            "--listen",
            &listen,
        ])
        // Short grace so failing rollouts fail fast, unless the test sets its own.
        .args(if extra.contains(&"--grace") {
            &[][..]
        } else {
            &["--grace", "2s"][..]
        })
        .args(extra)
        .envs(super::render_tools_env())
        .env("KUBECONFIG", kubeconfig())
        .env("FERRY_CACHE_DIR", dir.path().join("cache"))
        .env("FERRY_WEBHOOK_SECRET", SECRET)
        .env("FERRY_API_TOKEN", API_TOKEN)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Server {
        child,
        port,
        _dir: dir,
    }
}

/// One HTTP/1.1 request over a plain TCP connection.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<(u16, String)> {
    http_version(port, "HTTP/1.1", method, path, headers, body)
}

/// [`http`] in the given protocol version: `HTTP/1.0` for a server that would otherwise
/// answer in chunks (Gitea), since the body is read as it arrives.
pub fn http_version(
    port: u16,
    version: &str,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut request = format!(
        "{method} {path} {version}\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    stream.write_all(body)?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

pub fn hmac_hex(body: &[u8]) -> String {
    hmac_hex_with(SECRET, body)
}

/// Hex HMAC-SHA256 of `body` under `key`.
pub fn hmac_hex_with(key: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

pub fn github_push(url: &str, git_ref: &str, after: &str) -> Vec<u8> {
    serde_json::json!({
        "ref": git_ref, "before": "0000000000000000000000000000000000000000", "after": after,
        "repository": {"full_name": "org/repo", "clone_url": url, "ssh_url": url, "html_url": url},
        "commits": [{"id": after, "added": [], "removed": [], "modified": ["apps/cm.yaml"]}],
        "head_commit": {"id": after}
    })
    .to_string()
    .into_bytes()
}

pub fn send_github(port: u16, body: &[u8], signature: &str) -> (u16, String) {
    http(
        port,
        "POST",
        "/hooks/github",
        &[
            ("Content-Type", "application/json".into()),
            ("X-GitHub-Event", "push".into()),
            ("X-Hub-Signature-256", signature.into()),
        ],
        body,
    )
    .unwrap()
}

pub fn total_syncs(port: u16, app: &str) -> u64 {
    let (_, body) = http(port, "GET", &format!("/api/apps/{app}"), &[], b"").unwrap();
    let status: serde_json::Value = serde_json::from_str(&body).unwrap();
    status["syncsByOutcome"].as_object().map_or(0, |m| {
        m.values().filter_map(serde_json::Value::as_u64).sum()
    })
}

pub async fn config_value(client: &kube::Client, ns: &str) -> Option<String> {
    let cm = Api::<ConfigMap>::namespaced(client.clone(), ns)
        .get_opt("settings")
        .await
        .ok()??;
    cm.data?.get("value").cloned()
}

pub async fn app_status(port: u16, app: &str) -> serde_json::Value {
    let (_, body) = http(port, "GET", &format!("/api/apps/{app}"), &[], b"").unwrap();
    serde_json::from_str(&body).unwrap()
}

/// Changes the `settings` ConfigMap's value with `kubectl patch`, the way a person would.
pub fn hand_edit(namespace: &str, value: &str) {
    super::kubectl_ok(&[
        "patch",
        "configmap",
        "settings",
        "-n",
        namespace,
        "--type=merge",
        "-p",
        &format!(r#"{{"data":{{"value":"{value}"}}}}"#),
    ]);
}

/// `ferry history --app <app> -o json`, newest first.
pub fn history(app: &str) -> serde_json::Value {
    let out = super::ferry(&["history", "--app", app, "-o", "json"]);
    serde_json::from_str(&out.stdout).unwrap()
}
