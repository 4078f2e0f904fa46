//! Limits that keep `ferry serve` small under abuse: webhook bodies are capped before they are
//! buffered (by `Content-Length` and again while streaming), read against a deadline, and only
//! a bounded number of webhook requests are read at once. Header timeouts live in
//! [`super::listen`].

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap};
use futures::StreamExt;

/// The server's limits; [`HttpLimits::default`] is what `ferry serve` uses unless flags say
/// otherwise.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// Largest webhook body accepted (bytes); larger ones are answered 413 unread.
    pub max_body_bytes: usize,
    /// Time a client has to send a request's headers; the connection is closed after it.
    pub header_timeout: Duration,
    /// Time a client has to send a webhook body once its headers arrived.
    pub body_timeout: Duration,
    /// Webhook requests read and handled at once; more are answered 503 at once.
    pub max_webhook_requests: usize,
    /// Open connections at once; further ones wait in the listen backlog.
    pub max_connections: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_body_bytes: crate::trigger::MAX_BODY_BYTES,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_webhook_requests: 16,
            max_connections: 1024,
        }
    }
}

/// Why a body was not read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BodyError {
    /// `Content-Length` or the bytes received passed the limit.
    #[error("payload too large: the limit is {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The client did not finish sending the body in time.
    #[error("the request body did not arrive within {0:?}")]
    Timeout(Duration),
    /// The connection failed while the body was read.
    #[error("reading the request body: {0}")]
    Read(String),
}

/// The declared `Content-Length`, if it is present and a number.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Refuses a body whose declared length is over `limit` before reading any of it.
pub fn check_declared_length(headers: &HeaderMap, limit: usize) -> Result<(), BodyError> {
    match declared_length(headers) {
        Some(n) if n > limit as u64 => Err(BodyError::TooLarge { limit }),
        _ => Ok(()),
    }
}

/// Reads the body into memory, stopping as soon as more than `limit` bytes arrived or
/// `timeout` passed; at most `limit` bytes (plus one frame) are ever held.
pub async fn read_limited(body: Body, limit: usize, timeout: Duration) -> Result<Bytes, BodyError> {
    let read = async {
        let mut stream = body.into_data_stream();
        let mut buf = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| BodyError::Read(e.to_string()))?;
            if buf.len() + chunk.len() > limit {
                return Err(BodyError::TooLarge { limit });
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(buf))
    };
    tokio::time::timeout(timeout, read)
        .await
        .map_err(|_| BodyError::Timeout(timeout))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_length_over_the_limit_is_refused_unread() {
        let mut headers = HeaderMap::new();
        assert_eq!(check_declared_length(&headers, 10), Ok(()));
        headers.insert(header::CONTENT_LENGTH, "10".parse().unwrap());
        assert_eq!(check_declared_length(&headers, 10), Ok(()));
        headers.insert(header::CONTENT_LENGTH, "11".parse().unwrap());
        assert_eq!(
            check_declared_length(&headers, 10),
            Err(BodyError::TooLarge { limit: 10 })
        );
    }

    #[tokio::test]
    async fn streamed_bodies_stop_at_the_limit() {
        let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(Bytes::from(vec![b'a'; 6])),
            Ok(Bytes::from(vec![b'b'; 6])),
        ];
        let body = Body::from_stream(futures::stream::iter(chunks));
        let got = read_limited(body, 10, Duration::from_secs(5)).await;
        assert_eq!(got, Err(BodyError::TooLarge { limit: 10 }));
        let body = Body::from(vec![b'a'; 10]);
        let got = read_limited(body, 10, Duration::from_secs(5)).await;
        assert_eq!(got.map(|b| b.len()), Ok(10));
    }

    #[tokio::test]
    async fn a_body_that_never_ends_times_out() {
        let body = Body::from_stream(futures::stream::pending::<Result<Bytes, std::io::Error>>());
        let got = read_limited(body, 10, Duration::from_millis(50)).await;
        assert_eq!(got, Err(BodyError::Timeout(Duration::from_millis(50))));
    }
}
