//! Bearer-token protection of `/api/*`. Writes (`POST /api/apps/<app>/sync`) always need the
//! token; reads need it only with `--api-read-auth`. Without a configured token the API is
//! read-only: writes are answered 403 with how to configure one. `/healthz`, `/readyz` and
//! `/metrics` are never behind the token (probes and Prometheus); restrict them with the
//! NetworkPolicy in `deploy/`.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::ServerState;

/// The environment variable `ferry serve` and `ferry sync --server` read the token from.
pub const API_TOKEN_ENV: &str = "FERRY_API_TOKEN";

/// Who may use the API.
#[derive(Clone, Default)]
pub struct ApiAuth {
    /// SHA-256 of the token, when one is configured (only the digest is kept, so comparing
    /// takes the same time whatever the length of the guess).
    token_digest: Option<[u8; 32]>,
    /// Reads need the token too.
    pub read_auth: bool,
}

impl std::fmt::Debug for ApiAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiAuth")
            .field("token", &self.token_digest.map(|_| "<set>"))
            .field("read_auth", &self.read_auth)
            .finish()
    }
}

impl ApiAuth {
    /// An API guarded by `token` (none: read-only API).
    pub fn new(token: Option<&[u8]>, read_auth: bool) -> ApiAuth {
        ApiAuth {
            token_digest: token.map(|t| Sha256::digest(t).into()),
            read_auth,
        }
    }

    /// True when a token is configured.
    pub fn has_token(&self) -> bool {
        self.token_digest.is_some()
    }

    /// Checks an `Authorization` header value, in constant time.
    fn accepts(&self, authorization: Option<&[u8]>) -> bool {
        let Some(value) = authorization else {
            return false;
        };
        let Some(given) = value.strip_prefix(b"Bearer ") else {
            return false;
        };
        self.accepts_token(given.trim_ascii())
    }

    /// Checks a token given as such (the UI's action forms), in constant time.
    pub fn accepts_token(&self, given: &[u8]) -> bool {
        let Some(expected) = &self.token_digest else {
            return false;
        };
        let given: [u8; 32] = Sha256::digest(given).into();
        given.ct_eq(expected).into()
    }

    /// Checks a page request's `Authorization`: `Bearer <token>`, or HTTP Basic with any user
    /// name and the token as the password (what a browser can send).
    pub fn accepts_page_credentials(&self, authorization: Option<&[u8]>) -> bool {
        if self.accepts(authorization) {
            return true;
        }
        let Some(encoded) = authorization.and_then(|v| v.strip_prefix(b"Basic ")) else {
            return false;
        };

        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim_ascii())
        else {
            return false;
        };
        match decoded.iter().position(|b| *b == b':') {
            Some(colon) => self.accepts_token(&decoded[colon + 1..]),
            None => false,
        }
    }

    /// The decision for one request: `None` lets it through.
    fn check(&self, method: &Method, authorization: Option<&[u8]>) -> Option<Response> {
        let write = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !write && !self.read_auth {
            return None;
        }
        if !self.has_token() {
            return Some(
                (
                    StatusCode::FORBIDDEN,
                    Json(json!({
                        "error": format!(
                            "the API is read-only: ferry serve was started without an API token; \
                             set {API_TOKEN_ENV} or --api-token-file to allow POST requests"
                        )
                    })),
                )
                    .into_response(),
            );
        }
        if self.accepts(authorization) {
            return None;
        }
        let error = if authorization.is_some() {
            "invalid API token"
        } else {
            "this endpoint needs the API token: send `Authorization: Bearer <token>` \
             (ferry sync --server reads it from FERRY_API_TOKEN or --api-token-file)"
        };
        Some(
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer realm=\"ferry\"")],
                Json(json!({ "error": error })),
            )
                .into_response(),
        )
    }
}

/// The API token from `file` (an error when unreadable or empty) or `$FERRY_API_TOKEN` (none
/// when unset or empty).
pub fn api_token(
    file: Option<&std::path::PathBuf>,
) -> Result<Option<Vec<u8>>, crate::config::ConfigError> {
    use crate::config::SecretRef;
    let token = match file {
        Some(path) => SecretRef {
            env: None,
            file: Some(path.clone()),
        }
        .read()
        .map(Some),
        None => Ok(SecretRef {
            env: Some(API_TOKEN_ENV.into()),
            file: None,
        }
        .read()
        .ok()),
    }?;
    // It travels in an HTTP header: visible ASCII only.
    if token
        .as_ref()
        .is_some_and(|t| !t.iter().all(u8::is_ascii_graphic))
    {
        return Err(crate::config::ConfigError::Invalid(
            "the API token must be printable ASCII without spaces".into(),
        ));
    }
    Ok(token)
}

/// Middleware for the `/api` routes.
pub async fn require_token(
    State(state): State<Arc<ServerState>>,
    request: Request,
    next: Next,
) -> Response {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(hyper::http::HeaderValue::as_bytes);
    if let Some(refusal) = state.api_auth.check(request.method(), authorization) {
        tracing::warn!(method = %request.method(), path = %request.uri().path(), "refused API request");
        return refusal;
    }
    next.run(request).await
}

#[cfg(test)]
#[path = "auth_tests.rs"]
mod tests;
