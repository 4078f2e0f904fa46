//! Limits that keep `ferry serve` small under abuse: webhook bodies are capped before they are
//! buffered (by `Content-Length` and again while streaming) and read against a deadline; all
//! bodies being read share one byte budget (so memory is bounded however many clients upload,
//! while a client trickling bytes holds only what it sent and never starves a real push); and
//! only a bounded number of webhook requests are verified and handled at once. Header
//! timeouts live in [`super::listen`].

use std::time::Duration;

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap};
use futures::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The unit of the body budget: one permit per started KiB.
const BUDGET_UNIT: usize = 1024;

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
    /// Webhook requests verified and handled at once; more are answered 503 at once.
    pub max_webhook_requests: usize,
    /// Bytes of webhook bodies held in memory at once, over all requests; a body that would
    /// pass it is answered 503 at once.
    pub max_buffered_bytes: usize,
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
            max_buffered_bytes: 16 << 20,
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
    /// The shared body budget is spent (many large uploads at once).
    #[error("too many webhook bodies in flight; retry shortly")]
    Busy,
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

/// The permits for `budget` sized from `limits` (one per KiB).
pub fn body_budget(limits: &HttpLimits) -> Arc<Semaphore> {
    Arc::new(Semaphore::new(budget_units(limits)))
}

fn budget_units(limits: &HttpLimits) -> usize {
    (limits.max_buffered_bytes / BUDGET_UNIT).clamp(1, Semaphore::MAX_PERMITS)
}

/// Bytes of webhook bodies held now (in whole KiB), for `/metrics`.
pub fn buffered_bytes(limits: &HttpLimits, budget: &Semaphore) -> usize {
    budget_units(limits).saturating_sub(budget.available_permits()) * BUDGET_UNIT
}

/// Reads the body into memory, stopping as soon as more than `limit` bytes arrived or
/// `timeout` passed. Every chunk first takes its size from `budget` (refused at once when
/// it is spent); the returned permit keeps the bytes accounted until it is dropped.
pub async fn read_limited(
    body: Body,
    limit: usize,
    timeout: Duration,
    budget: &Arc<Semaphore>,
) -> Result<(Bytes, Option<OwnedSemaphorePermit>), BodyError> {
    let read = async {
        let mut stream = body.into_data_stream();
        let mut chunks = Vec::new();
        let mut total = 0usize;
        let mut held: Option<OwnedSemaphorePermit> = None;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| BodyError::Read(e.to_string()))?;
            if total + chunk.len() > limit {
                return Err(BodyError::TooLarge { limit });
            }
            // Units for the running total, so small chunks are not each rounded up.
            let needed = (total + chunk.len()).div_ceil(BUDGET_UNIT);
            let held_units = held
                .as_ref()
                .map_or(0, tokio::sync::OwnedSemaphorePermit::num_permits);
            let more = u32::try_from(needed.saturating_sub(held_units)).unwrap_or(u32::MAX);
            if more > 0 {
                let permit = budget
                    .clone()
                    .try_acquire_many_owned(more)
                    .map_err(|_| BodyError::Busy)?;
                match &mut held {
                    Some(h) => h.merge(permit),
                    None => held = Some(permit),
                }
            }
            total += chunk.len();
            chunks.push(chunk);
        }
        let mut buf = Vec::with_capacity(total);
        for chunk in chunks {
            buf.extend_from_slice(&chunk);
        }
        Ok((Bytes::from(buf), held))
    };
    tokio::time::timeout(timeout, read)
        .await
        .map_err(|_| BodyError::Timeout(timeout))?
}

#[cfg(test)]
#[path = "limits_tests.rs"]
mod tests;
