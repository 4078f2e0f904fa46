//! `ferry serve` under hostile HTTP clients, over real TCP: webhook bodies over 1 MiB are
//! refused before they are read (by Content-Length and while streaming), slow headers and
//! slow bodies are cut off, webhook bodies beyond the shared memory budget get 503 (and a
//! stalled sender cannot starve a real push), and `/api/*` writes need the bearer token. (RSS under 500 concurrent uploads is measured by `benches/webhook_abuse`.)

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use support::serve::*;
use support::{client, wait_until, Remote, TestNamespace};

/// Connects to the server; reads give up after 60 s so a broken server fails the test
/// instead of hanging it.
fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream
}

/// Reads until the server closes; returns the status code (0 if it closed without answering).
fn read_status(stream: &mut TcpStream) -> (u16, String) {
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => response.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the server neither answered nor closed: {e}"),
        }
    }
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

fn hook_headers(extra: &str) -> String {
    format!(
        "POST /hooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nX-GitHub-Event: push\r\n\
         X-Hub-Signature-256: sha256=00\r\nContent-Type: application/json\r\n{extra}\r\n"
    )
}

#[tokio::test]
async fn oversized_webhook_bodies_are_refused_before_they_are_read() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "h-size").await;
    let remote = Remote::new();
    commit_cm(&remote, "one");
    let server = start_server(&remote, &ns.name, "1h", &[]);

    // A declared 2 MiB body: answered 413 before a single body byte is sent.
    let mut stream = connect(server.port);
    stream
        .write_all(hook_headers("Content-Length: 2097152\r\n").as_bytes())
        .unwrap();
    let (status, reply) = read_status(&mut stream);
    assert_eq!(status, 413, "{reply}");
    assert!(reply.contains("payload too large"), "{reply}");

    // A chunked body with no length: reading stops once it passes 1 MiB.
    let mut stream = connect(server.port);
    stream
        .write_all(hook_headers("Transfer-Encoding: chunked\r\n").as_bytes())
        .unwrap();
    let chunk = vec![b'x'; (1 << 20) + 1];
    stream
        .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
        .unwrap();
    stream.write_all(&chunk).unwrap();
    stream.write_all(b"\r\n").unwrap();
    let (status, reply) = read_status(&mut stream);
    assert_eq!(status, 413, "{reply}");

    // Exactly 1 MiB is still read (and then judged by its signature).
    let body = vec![b' '; 1 << 20];
    let (status, reply) = send_github(server.port, &body, "sha256=00");
    assert_eq!(status, 401, "{reply}");

    // And a signed push still works.
    let sha = commit_cm(&remote, "two");
    let push = github_push(&remote.url(), "refs/heads/main", &sha);
    let (status, reply) = send_github(server.port, &push, &format!("sha256={}", hmac_hex(&push)));
    assert_eq!(status, 202, "{reply}");
    let (_, metrics) = http(server.port, "GET", "/metrics", &[], b"").unwrap();
    assert!(
        metrics.contains("ferry_webhook_requests_total{forge=\"github\",result=\"too-large\"} 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn slow_headers_and_slow_bodies_are_cut_off() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "h-slow").await;
    let remote = Remote::new();
    commit_cm(&remote, "one");
    let server = start_server(
        &remote,
        &ns.name,
        "1h",
        &["--http-header-timeout", "2s", "--http-body-timeout", "2s"],
    );

    // Headers that never end: the server closes the connection (the client would wait 60 s).
    let mut stream = connect(server.port);
    stream
        .write_all(b"POST /hooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    let (status, reply) = read_status(&mut stream);
    assert!(status == 0 || status == 408, "{reply}");

    // A body that stops halfway: 408.
    let mut stream = connect(server.port);
    stream
        .write_all(hook_headers("Content-Length: 100\r\n").as_bytes())
        .unwrap();
    stream.write_all(b"{\"ref\":").unwrap();
    let (status, reply) = read_status(&mut stream);
    assert_eq!(status, 408, "{reply}");

    // The server still answers.
    let (status, _) = http(server.port, "GET", "/healthz", &[], b"").unwrap();
    assert_eq!(status, 200);
}

#[tokio::test]
async fn webhook_bodies_share_a_memory_budget_that_slow_senders_cannot_starve() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "h-cap").await;
    let remote = Remote::new();
    commit_cm(&remote, "one");
    let server = start_server(
        &remote,
        &ns.name,
        "1h",
        &[
            "--max-webhook-buffer-kib",
            "1024",
            "--http-body-timeout",
            "1h",
        ],
    );

    // A sender that stalls after 1000 KiB of its 1 MiB body holds 1000 KiB of the budget.
    let mut stalled = connect(server.port);
    stalled
        .write_all(hook_headers("Content-Length: 1048576\r\n").as_bytes())
        .unwrap();
    stalled.write_all(&vec![b'x'; 1000 * 1024]).unwrap();
    wait_until(Duration::from_secs(20), "the stalled body held", || async {
        let (_, metrics) = http(server.port, "GET", "/metrics", &[], b"").unwrap();
        metrics
            .contains(&format!("ferry_webhook_body_bytes {}", 1000 * 1024))
            .then_some(())
    })
    .await;
    // Another upload does not fit: once it has sent 30 KiB (more than the 24 KiB left) it is
    // answered 503 + Retry-After, without waiting for the rest of its body.
    let mut stream = connect(server.port);
    stream
        .write_all(hook_headers("Content-Length: 102400\r\n").as_bytes())
        .unwrap();
    stream.write_all(&vec![b'y'; 30 * 1024]).unwrap();
    let (status, reply) = read_status(&mut stream);
    assert_eq!(status, 503, "{reply}");
    assert!(reply.contains("too many webhook"), "{reply}");
    assert!(
        reply.to_ascii_lowercase().contains("retry-after: 1"),
        "{reply}"
    );

    // A real push (well under the 24 KiB left) still goes through while the sender stalls.
    let sha = commit_cm(&remote, "two");
    let push = github_push(&remote.url(), "refs/heads/main", &sha);
    let (status, reply) = send_github(server.port, &push, &format!("sha256={}", hmac_hex(&push)));
    assert_eq!(status, 202, "{reply}");
    wait_until(Duration::from_secs(20), "the push applied", || async {
        (config_value(&client, &ns.name).await.as_deref() == Some("two")).then_some(())
    })
    .await;
    drop(stalled);
}

#[tokio::test]
async fn api_writes_need_the_bearer_token() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "h-api").await;
    let remote = Remote::new();
    commit_cm(&remote, "one");
    let server = start_server(&remote, &ns.name, "1h", &[]);
    let sync = format!("/api/apps/{}/sync", ns.name);

    let (status, reply) = http(server.port, "POST", &sync, &[], b"").unwrap();
    assert_eq!(status, 401, "{reply}");
    assert!(reply.contains("Authorization: Bearer"), "{reply}");
    let wrong = ("Authorization", "Bearer nope".to_string());
    let (status, reply) = http(server.port, "POST", &sync, &[wrong], b"").unwrap();
    assert_eq!(status, 401, "{reply}");
    let (status, reply) = http(
        server.port,
        "POST",
        &format!("{sync}?forceWindow=true"),
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(status, 401, "forceWindow too: {reply}");
    assert_eq!(api_post(server.port, &sync).0, 202);
    // Reads stay open.
    let (status, _) = http(server.port, "GET", "/api/apps", &[], b"").unwrap();
    assert_eq!(status, 200);

    // The CLI sends the token from --api-token-file, and says why without it.
    let url = format!("http://127.0.0.1:{}", server.port);
    let token = api_token_file();
    let with = support::ferry(&[
        "sync",
        "--server",
        &url,
        "--app",
        &ns.name,
        "--api-token-file",
        token.path().to_str().unwrap(),
    ]);
    assert_eq!(with.code, 0, "{}{}", with.stdout, with.stderr);
    let empty = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(empty.path(), "wrong-token").unwrap();
    let without = support::ferry(&[
        "sync",
        "--server",
        &url,
        "--app",
        &ns.name,
        "--api-token-file",
        empty.path().to_str().unwrap(),
    ]);
    assert_eq!(without.code, 2, "{}{}", without.stdout, without.stderr);
    assert!(
        without.stdout.contains("invalid API token"),
        "{}",
        without.stdout
    );
    drop(server);

    // Without a configured token the API is read-only, and says how to configure one.
    let config = app_config(&ns.name, &remote.url(), "1h", "");
    let server = wait_ready(spawn_server(&config, &[], &[("FERRY_API_TOKEN", "")]));
    let (status, reply) = api_post(server.port, &sync);
    assert_eq!(status, 403, "{reply}");
    assert!(reply.contains("FERRY_API_TOKEN"), "{reply}");
    drop(server);

    // --api-read-auth closes reads too (health and metrics stay open).
    let server = wait_ready(spawn_server(&config, &["--api-read-auth"], &[]));
    let (status, _) = http(server.port, "GET", "/api/apps", &[], b"").unwrap();
    assert_eq!(status, 401);
    let (status, _) = http(server.port, "GET", "/api/apps", &[bearer()], b"").unwrap();
    assert_eq!(status, 200);
    let (status, _) = http(server.port, "GET", "/metrics", &[], b"").unwrap();
    assert_eq!(status, 200);
}
