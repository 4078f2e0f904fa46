//! Outgoing webhooks: ferry's JSON event (signed like ferry's incoming generic hook:
//! `X-Ferry-Signature: sha256=<hex HMAC-SHA256 of the body>`), or a Slack-compatible
//! `{"text": …}` message.

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::config::{WebhookFormat, WebhookTarget};
use super::event::{short, EventKind, SyncEvent};
use super::send::OutgoingRequest;

/// The header carrying the body's signature, `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "X-Ferry-Signature";

/// The request for `event` at `target`, or `None` when the target does not subscribe to it.
/// `secret` is the HMAC key, when the target has one; `at` is the event's time (RFC 3339).
pub fn webhook_request(
    target: &WebhookTarget,
    secret: Option<&str>,
    event: &SyncEvent,
    details_url: Option<&str>,
    at: &str,
) -> Option<OutgoingRequest> {
    let name = event.kind.name();
    if !target.events.contains(&name) {
        return None;
    }
    let body = match target.format {
        WebhookFormat::Json => json_body(event, details_url, at),
        WebhookFormat::Slack => json!({ "text": slack_text(event, details_url) }),
    };
    let body = serde_json::to_vec(&body).unwrap_or_default();
    let mut headers = vec![
        ("Content-Type", "application/json".to_string()),
        ("User-Agent", super::send::user_agent()),
        ("X-Ferry-Event", name.wire().to_string()),
    ];
    if let Some(secret) = secret {
        headers.push((SIGNATURE_HEADER, format!("sha256={}", sign(secret, &body))));
    }
    Some(OutgoingRequest {
        url: target.url.clone(),
        headers,
        body,
        secret: secret.map(str::to_string),
    })
}

/// Hex HMAC-SHA256 of `body` under `secret`.
fn sign(secret: &str, body: &[u8]) -> String {
    // HMAC takes keys of any length; the error arm cannot happen.
    match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(body);
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

fn json_body(event: &SyncEvent, details_url: Option<&str>, at: &str) -> Value {
    let mut body = json!({
        "event": event.kind.name().wire(),
        "app": event.app,
        "commit": event.commit,
        "outcome": event.kind.outcome(),
        "description": event.kind.describe(),
        "trigger": event.trigger,
        "at": at,
    });
    if let Some((state, _)) = event.kind.status() {
        body["state"] = Value::from(state.name());
    }
    if let Some(seq) = event.seq {
        body["seq"] = Value::from(seq);
    }
    if let Some(url) = details_url {
        body["url"] = Value::from(url);
    }
    match &event.kind {
        EventKind::Started { summary } | EventKind::Succeeded { summary } => {
            body["summary"] = Value::from(summary.as_str());
        }
        EventKind::Failed { reason }
        | EventKind::Errored { reason }
        | EventKind::Interrupted { reason } => body["reason"] = Value::from(reason.as_str()),
        EventKind::Superseded { by } => body["supersededBy"] = Value::from(by.as_str()),
        EventKind::RolledBack { reverted, revert } => {
            body["reverted"] = Value::from(reverted.as_str());
            body["revert"] = Value::from(revert.as_str());
        }
    }
    body
}

/// `:x: fluentd abc123456789 failed: DaemonSet logging/fluentd: …` (Slack mrkdwn).
fn slack_text(event: &SyncEvent, details_url: Option<&str>) -> String {
    let icon = match &event.kind {
        EventKind::Started { .. } => ":hourglass_flowing_sand:",
        EventKind::Succeeded { .. } => ":white_check_mark:",
        EventKind::Failed { .. } | EventKind::Errored { .. } => ":x:",
        EventKind::Superseded { .. } | EventKind::Interrupted { .. } => ":double_vertical_bar:",
        EventKind::RolledBack { .. } => ":rewind:",
    };
    let mut text = format!(
        "{icon} *{}* `{}` {}: {}",
        escape(&event.app),
        short(&event.commit),
        event.kind.outcome(),
        escape(&event.kind.describe())
    );
    if let Some(url) = details_url {
        text.push_str(&format!(" (<{url}|details>)"));
    }
    text
}

/// Slack's three control characters.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
