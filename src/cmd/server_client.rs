//! The client side of `ferry sync --server`: asks a running `ferry serve` over HTTP.

use anyhow::Context;

use super::EXIT_ERROR;

/// `ferry sync --server URL --app A`: asks a running `ferry serve` to sync the app now.
pub(super) async fn request_server_sync(
    server: &str,
    args: &ferry::cli::SyncArgs,
) -> anyhow::Result<u8> {
    let app = args
        .app
        .app
        .as_deref()
        .context("--server needs --app to name the app to sync")?;
    let rest = server.strip_prefix("http://").context(
        "--server must be an http:// URL (ferry serve speaks plain HTTP; put TLS in front)",
    )?;
    let (host, base) = rest.split_once('/').unwrap_or((rest, ""));
    let query = if args.force_window {
        "?forceWindow=true"
    } else {
        ""
    };
    let path = format!(
        "/{}api/apps/{app}/sync{query}",
        if base.is_empty() {
            String::new()
        } else {
            format!("{}/", base.trim_end_matches('/'))
        }
    );
    let mut stream = tokio::net::TcpStream::connect(host)
        .await
        .with_context(|| format!("cannot reach ferry serve at {server}"))?;
    let token = ferry::server::api_token(args.api_token_file.as_ref())?;
    let authorization = match token {
        Some(t) => format!("Authorization: Bearer {}\r\n", String::from_utf8_lossy(&t)),
        None => String::new(),
    };
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{authorization}Content-Length: 0\r\n\r\n"
    );
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let status = response.split_whitespace().nth(1).unwrap_or("0");
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or("");
    println!("{body}");
    Ok(if status == "202" { 0 } else { EXIT_ERROR })
}
