//! One notification request over HTTP(S), and what its answer means for a retry.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::config::origin;
use super::NotifyError;

/// How long one request may take, connect to last byte.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A POST to send. Its `Debug` shows the URL only: headers carry tokens.
#[derive(Clone)]
pub struct OutgoingRequest {
    /// Where.
    pub url: String,
    /// Headers (the forge's token among them).
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body.
    pub body: Vec<u8>,
    /// The secret this request carries, removed from any answer ferry logs.
    pub secret: Option<String>,
}

impl std::fmt::Debug for OutgoingRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingRequest")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Attempt {
    /// Accepted (2xx).
    Sent,
    /// Worth another try: no connection, a timeout, 429 or 5xx.
    Retry(String),
    /// Another try would get the same answer (401, 403, 404, 422, a bad URL…).
    GiveUp(String),
}

/// `ferry/<version>`, the `User-Agent` of every notification (GitHub requires one).
pub(super) fn user_agent() -> String {
    format!("ferry/{}", env!("CARGO_PKG_VERSION"))
}

/// An HTTP(S) client for notifications, verifying servers against the system's roots.
#[derive(Clone)]
pub(super) struct Sender {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl Sender {
    /// A client; without the system's CA roots it can still reach plain-http targets.
    pub(super) fn new() -> Sender {
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        let connector = match builder.with_native_roots() {
            Ok(b) => b.https_or_http().enable_http1().build(),
            Err(e) => {
                tracing::warn!(error = %e, "no system CA roots found: https notifications will fail");
                hyper_rustls::HttpsConnectorBuilder::new()
                    .with_tls_config(rustls_config_without_roots())
                    .https_or_http()
                    .enable_http1()
                    .build()
            }
        };
        Sender {
            client: Client::builder(TokioExecutor::new()).build(connector),
        }
    }

    /// Sends `request` once.
    pub(super) async fn send(&self, request: &OutgoingRequest) -> Attempt {
        let built = match build(request) {
            Ok(r) => r,
            Err(e) => return Attempt::GiveUp(e.to_string()),
        };
        let answer = tokio::time::timeout(REQUEST_TIMEOUT, async {
            let response = self.client.request(built).await?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map(http_body_util::Collected::to_bytes)
                .unwrap_or_default();
            Ok::<_, hyper_util::client::legacy::Error>((status, body))
        })
        .await;
        match answer {
            Err(_) => Attempt::Retry(format!("no answer within {}s", REQUEST_TIMEOUT.as_secs())),
            Ok(Err(e)) => Attempt::Retry(format!(
                "cannot reach {}: {}",
                origin(&request.url),
                cause(&e)
            )),
            Ok(Ok((status, body))) => {
                if status.is_success() {
                    return Attempt::Sent;
                }
                let excerpt = excerpt(&body, request.secret.as_deref());
                let text = format!("answered {status}{excerpt}");
                if status.as_u16() == 429 || status.is_server_error() || status.as_u16() == 408 {
                    Attempt::Retry(text)
                } else {
                    Attempt::GiveUp(text)
                }
            }
        }
    }
}

fn rustls_config_without_roots() -> rustls::ClientConfig {
    rustls::ClientConfig::builder()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth()
}

fn build(request: &OutgoingRequest) -> Result<Request<Full<Bytes>>, NotifyError> {
    let mut builder = Request::builder().method(Method::POST).uri(&request.url);
    for (name, value) in &request.headers {
        builder = builder.header(*name, value);
    }
    builder
        .body(Full::new(Bytes::from(request.body.clone())))
        .map_err(|source| NotifyError::Request {
            url: origin(&request.url).to_string(),
            source,
        })
}

/// The innermost cause of a client error (`Connection refused`), not hyper's wrapper text.
fn cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut last = err.to_string();
    let mut current = err.source();
    while let Some(e) = current {
        last = e.to_string();
        current = e.source();
    }
    last
}

/// `: <first 200 characters of the answer>` with the request's secret blanked, or nothing.
fn excerpt(body: &[u8], secret: Option<&str>) -> String {
    let text = String::from_utf8_lossy(body);
    let mut text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(secret) = secret.filter(|s| !s.is_empty()) {
        text = text.replace(secret, "[redacted]");
    }
    let text: String = text.chars().take(200).collect();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}
