//! Git credentials and hostile remotes, end to end with the real `ferry` binary and real git
//! servers on 127.0.0.1: a remote that accepts and never answers fails its app with a clear
//! error (and leaves other apps alone), credentials inside URLs are refused, a token is never
//! sent over plain http unless allowed and never written into the cache clone.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::serve::*;
use support::{client, ferry, wait_until, Remote, TestNamespace};

/// A TCP listener on 127.0.0.1 that accepts connections and never says a word.
struct HangingRemote {
    port: u16,
    _held: Arc<Mutex<Vec<TcpStream>>>,
}

impl HangingRemote {
    fn start() -> HangingRemote {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let held = Arc::new(Mutex::new(Vec::new()));
        let keep = held.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                keep.lock().unwrap().push(stream);
            }
        });
        HangingRemote { port, _held: held }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/platform/cluster.git", self.port)
    }
}

/// Runs ferry, killing it if it is still running after a minute (a hang guard, so a broken
/// timeout fails the test instead of hanging it). Returns (exit code, stderr).
fn ferry_or_kill(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(args)
        .env("KUBECONFIG", support::kubeconfig())
        .env(
            "FERRY_CACHE_DIR",
            std::env::temp_dir().join("ferry-test-cache"),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn a_hanging_remote_fails_the_command_with_a_timeout() {
    let remote = HangingRemote::start();
    let (code, stderr) = ferry_or_kill(&[
        "plan",
        "--repo",
        &remote.url(),
        "--app",
        "hang",
        "--fetch-timeout",
        "2s",
    ]);
    assert_eq!(code, Some(2), "killed after a minute, or: {stderr}");
    assert!(
        stderr.contains(&format!("fetching {} timed out after 2s", remote.url())),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_hanging_remote_fails_its_app_and_never_blocks_the_others() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "g-hang").await;
    let hanging = HangingRemote::start();
    let good = Remote::new();
    commit_cm(&good, "one");
    let config = format!(
        "{}  - name: {ns}-hang\n    repo: {}\n    path: apps\n    namespace: {ns}\n    interval: 1h\n",
        app_config(&ns.name, &good.url(), "1h", ""),
        hanging.url(),
        ns = ns.name,
    );
    // Ready means every app finished one attempt: the hung one only by timing out.
    let server = wait_ready(spawn_server(&config, &["--fetch-timeout", "3s"], &[]));
    assert_eq!(
        config_value(&client, &ns.name).await.as_deref(),
        Some("one"),
        "the app with a working remote synced"
    );
    let status = app_status(server.port, &format!("{}-hang", ns.name)).await;
    let error = status["lastError"].as_str().unwrap_or_default();
    assert!(
        error.contains(&format!("fetching {} timed out after 3s", hanging.url())),
        "{status}"
    );
    // While the hung remote keeps failing, the other app keeps syncing.
    let sha = commit_cm(&good, "two");
    let push = github_push(&good.url(), "refs/heads/main", &sha);
    let (code, reply) = send_github(server.port, &push, &format!("sha256={}", hmac_hex(&push)));
    assert_eq!(code, 202, "{reply}");
    wait_until(Duration::from_secs(20), "the push applied", || async {
        (config_value(&client, &ns.name).await.as_deref() == Some("two")).then_some(())
    })
    .await;
}

#[test]
fn credentials_inside_a_url_are_refused() {
    for url in [
        "https://deploy:s3cr3t-t0ken@127.0.0.1:9/org/repo.git",
        "https://s3cr3t-t0ken@127.0.0.1:9/org/repo.git",
    ] {
        let out = ferry(&["plan", "--repo", url, "--app", "creds"]);
        assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
        assert!(
            out.stderr
                .contains("credentials inside a repository URL are refused"),
            "{}",
            out.stderr
        );
        assert!(!out.stderr.contains("s3cr3t"), "{}", out.stderr);
    }
}

/// A git smart-HTTP server on 127.0.0.1: `git http-backend` behind Basic auth, recording the
/// `Authorization` headers it was sent.
struct AuthGitServer {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl AuthGitServer {
    fn start(root: std::path::PathBuf, user: &'static str, token: &'static str) -> AuthGitServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (root, log) = (root.clone(), log.clone());
                std::thread::spawn(move || {
                    let _ = serve_git(stream, &root, user, token, &log);
                });
            }
        });
        AuthGitServer { port, seen }
    }
}

fn serve_git(
    stream: TcpStream,
    root: &std::path::Path,
    user: &str,
    token: &str,
    log: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    use base64::Engine as _;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let (mut length, mut authorization, mut content_type) = (0usize, None, String::new());
        loop {
            let mut header = String::new();
            reader.read_line(&mut header)?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((header, ""));
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "authorization" => authorization = Some(value.trim().to_string()),
                "content-type" => content_type = value.trim().to_string(),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{token}"))
        );
        if let Some(a) = &authorization {
            log.lock().unwrap().push(a.clone());
        }
        if authorization.as_deref() != Some(expected.as_str()) {
            out.write_all(
                b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\nContent-Length: 0\r\n\r\n",
            )?;
            continue;
        }
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let mut child = Command::new("git")
            .arg("http-backend")
            .env("GIT_PROJECT_ROOT", root)
            .env("GIT_HTTP_EXPORT_ALL", "1")
            .env("REQUEST_METHOD", &method)
            .env("PATH_INFO", path)
            .env("QUERY_STRING", query)
            .env("CONTENT_TYPE", &content_type)
            .env("CONTENT_LENGTH", length.to_string())
            .env("REMOTE_USER", user)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        child.stdin.take().unwrap().write_all(&body)?;
        let cgi = child.wait_with_output()?.stdout;
        let split = cgi
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|p| (p, 4))
            .or_else(|| cgi.windows(2).position(|w| w == b"\n\n").map(|p| (p, 2)));
        let Some((at, skip)) = split else {
            out.write_all(b"HTTP/1.1 500 Bad CGI\r\nContent-Length: 0\r\n\r\n")?;
            continue;
        };
        let head = String::from_utf8_lossy(&cgi[..at]).to_string();
        let payload = &cgi[at + skip..];
        let mut status = "200 OK".to_string();
        let mut response = String::new();
        for header in head.lines() {
            match header.split_once(':') {
                Some((name, value)) if name.eq_ignore_ascii_case("status") => {
                    status = value.trim().to_string();
                }
                Some(_) => response.push_str(&format!("{header}\r\n")),
                None => {}
            }
        }
        out.write_all(
            format!(
                "HTTP/1.1 {status}\r\n{response}Content-Length: {}\r\n\r\n",
                payload.len()
            )
            .as_bytes(),
        )?;
        out.write_all(payload)?;
    }
}

#[tokio::test]
async fn a_token_goes_only_through_the_credential_callback_never_into_the_clone() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "g-token").await;
    let remote = Remote::new();
    commit_cm(&remote, "one");
    let root = remote.bare.path().parent().unwrap().to_path_buf();
    let name = remote.bare.path().file_name().unwrap().to_str().unwrap();
    let server = AuthGitServer::start(root, "deploy", "t0ken-in-a-file");
    let url = format!("http://127.0.0.1:{}/{name}", server.port);
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "t0ken-in-a-file\n").unwrap();
    let cache = dir.path().join("cache");
    let write_config = |extra: &str| {
        let config = dir.path().join("ferry.yaml");
        std::fs::write(
            &config,
            format!(
                "apps:\n  - name: {ns}\n    repo: {url}\n    branch: main\n    path: apps\n    namespace: {ns}\n    auth:\n      username: deploy\n      tokenFile: {}\n{extra}",
                token_file.display(),
                ns = ns.name
            ),
        )
        .unwrap();
        config
    };
    let run = |config: &std::path::Path| {
        let out = Command::new(env!("CARGO_BIN_EXE_ferry"))
            .args(["sync", "--config", config.to_str().unwrap(), "--no-wait"])
            .env("KUBECONFIG", support::kubeconfig())
            .env("FERRY_CACHE_DIR", &cache)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };

    // Plain http: refused before anything is sent.
    let (code, stderr) = run(&write_config(""));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("over plain http"), "{stderr}");
    assert!(
        server.seen.lock().unwrap().is_empty(),
        "no credentials were sent"
    );

    // Allowed explicitly (a git server on a trusted link): the fetch authenticates…
    let (code, stderr) = run(&write_config("      allowPlainHttp: true\n"));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        config_value(&client, &ns.name).await.as_deref(),
        Some("one")
    );
    assert!(
        !server.seen.lock().unwrap().is_empty(),
        "the token was used"
    );
    // …and the token is nowhere in the cache clone.
    let mut leaked = Vec::new();
    for entry in walk(&cache) {
        if let Ok(text) = std::fs::read(&entry) {
            if text.windows(15).any(|w| w == b"t0ken-in-a-file") {
                leaked.push(entry.display().to_string());
            }
        }
    }
    assert!(leaked.is_empty(), "token written to {leaked:?}");
    let configs: Vec<_> = walk(&cache)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "config"))
        .collect();
    assert!(!configs.is_empty(), "a cache clone exists");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}
