//! The client side of `ferry sync --server`: asks a running `ferry serve` over HTTP.

use anyhow::Context;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, CONTENT_LENGTH};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::EXIT_ERROR;

/// `ferry sync --server URL --app A`: asks a running `ferry serve` to sync the app now.
/// Prints the server's reply; exit 0 when it accepted the sync (202), else 2.
pub(super) async fn request_server_sync(
    server: &str,
    args: &ferry::cli::SyncArgs,
) -> anyhow::Result<u8> {
    let app = args
        .app
        .app
        .as_deref()
        .context("--server needs --app to name the app to sync")?;
    let url = sync_url(server, app, args.force_window)?;
    let token = ferry::server::api_token(args.api_token_file.as_ref())?;
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(&url)
        .header(CONTENT_LENGTH, 0);
    if let Some(token) = token {
        request = request.header(
            AUTHORIZATION,
            format!("Bearer {}", String::from_utf8_lossy(&token)),
        );
    }
    let request = request
        .body(Empty::<Bytes>::new())
        .with_context(|| format!("cannot build a request for {url}"))?;
    let client = Client::builder(TokioExecutor::new()).build_http();
    let response = client
        .request(request)
        .await
        .with_context(|| format!("cannot reach ferry serve at {server}"))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .with_context(|| format!("reading the reply of ferry serve at {server}"))?
        .to_bytes();
    println!("{}", String::from_utf8_lossy(&body));
    Ok(if status == StatusCode::ACCEPTED {
        0
    } else {
        EXIT_ERROR
    })
}

/// `http://host[:port][/base]` → `http://host[:port][/base]/api/apps/APP/sync[?forceWindow=true]`.
fn sync_url(server: &str, app: &str, force_window: bool) -> anyhow::Result<String> {
    let rest = server.strip_prefix("http://").context(
        "--server must be an http:// URL (ferry serve speaks plain HTTP; put TLS in front)",
    )?;
    let (host, base) = rest.split_once('/').unwrap_or((rest, ""));
    let base = base.trim_end_matches('/');
    let base = if base.is_empty() {
        String::new()
    } else {
        format!("{base}/")
    };
    let query = if force_window {
        "?forceWindow=true"
    } else {
        ""
    };
    Ok(format!("http://{host}/{base}api/apps/{app}/sync{query}"))
}

#[cfg(test)]
#[path = "server_client_tests.rs"]
mod tests;
