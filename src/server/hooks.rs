//! `POST /hooks/<forge>`: verify the signature, parse the push, and request syncs of the apps
//! that track that repository and ref (and, when the payload lists changed files, whose path
//! they touch). Answers 202 at once; syncs run in the apps' loops.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::limits::{check_declared_length, read_limited, BodyError};
use super::ServerState;
use crate::config::AppSpec;
use crate::reconcile::worker::AppHandle;
use crate::shard::Routed;
use crate::source::GitRef;
use crate::trigger::{
    same_repo, touches_path, verify_and_parse, Forge, PushEvent, TriggerKind, WebhookError,
    WebhookEvent,
};

/// The forge of `/hooks/<name>`: exactly one of [`Forge::as_str`]'s names (the route is
/// case-sensitive, unlike `Forge::parse`, which also reads config and CLI spellings).
fn forge_of(name: &str) -> Option<Forge> {
    Forge::ALL.into_iter().find(|forge| forge.as_str() == name)
}

/// The webhook endpoint. The body is read only after cheap checks (known forge, webhooks
/// enabled, declared length) and with a permit from the webhook pool; reading it stops at the
/// size limit and the body deadline.
pub async fn webhook(
    State(state): State<Arc<ServerState>>,
    Path(forge_name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(forge) = forge_of(&forge_name) else {
        return reply(
            StatusCode::NOT_FOUND,
            json!({
                "error": format!("unknown forge {forge_name:?}; use github, gitlab, gitea, forgejo, bitbucket or generic")
            }),
        );
    };
    let mut secrets: Vec<&[u8]> = state
        .webhook_secrets
        .iter()
        .flatten()
        .map(Vec::as_slice)
        .collect();
    secrets.sort_unstable();
    secrets.dedup();
    if secrets.is_empty() {
        state.count_webhook(&forge_name, "disabled");
        return reply(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "error": "webhooks are disabled: ferry serve was started without a webhook secret" }),
        );
    }
    let limits = state.limits;
    if let Err(e) = check_declared_length(&headers, limits.max_body_bytes) {
        return body_refused(&state, &forge_name, e);
    }
    // Bytes in flight are bounded by the shared budget, not by a count of requests, so
    // clients that trickle their bodies hold almost nothing and a real push gets through.
    let (body, _bytes) = match read_limited(
        body,
        limits.max_body_bytes,
        limits.body_timeout,
        &state.body_budget,
    )
    .await
    {
        Ok(read) => read,
        Err(e) => return body_refused(&state, &forge_name, e),
    };
    // Verifying and handling: a bounded number at once.
    let Ok(_permit) = state.webhook_slots.clone().try_acquire_owned() else {
        return busy(&state, &forge_name);
    };
    let lowered: HashMap<String, String> = headers
        .iter()
        .filter_map(|(k, v)| {
            Some((
                k.as_str().to_ascii_lowercase(),
                v.to_str().ok()?.to_string(),
            ))
        })
        .collect();
    // The signature is checked (in constant time) against each distinct secret before the
    // body is parsed; the secret that verifies decides which apps the push may trigger.
    let mut verified = None;
    let mut rejection = WebhookError::MissingSignature;
    for secret in secrets {
        match verify_and_parse(forge, &lowered, &body, secret) {
            Ok(event) => {
                verified = Some((secret, event));
                break;
            }
            Err(e @ (WebhookError::MissingSignature | WebhookError::BadSignature)) => {
                rejection = e;
            }
            Err(e) => {
                state.count_webhook(&forge_name, "bad-request");
                return reply(StatusCode::BAD_REQUEST, json!({ "error": e.to_string() }));
            }
        }
    }
    let Some((secret, event)) = verified else {
        state.count_webhook(&forge_name, "unauthorized");
        tracing::warn!(forge = %forge_name, error = %rejection, "rejected webhook");
        return reply(
            StatusCode::UNAUTHORIZED,
            json!({ "error": rejection.to_string() }),
        );
    };
    match event {
        WebhookEvent::Ping => {
            state.count_webhook(&forge_name, "ping");
            reply(StatusCode::OK, json!({ "pong": true }))
        }
        WebhookEvent::Ignored { event } => {
            state.count_webhook(&forge_name, "ignored");
            reply(
                StatusCode::ACCEPTED,
                json!({ "ignored": format!("event {event:?} does not trigger syncs") }),
            )
        }
        WebhookEvent::Push(push) => {
            let mut triggered = Vec::new();
            let mut handed_off = Vec::new();
            let mut ignored = Vec::new();
            let mut failed = Vec::new();
            let signed_for = state
                .apps
                .iter()
                .zip(&state.webhook_secrets)
                .filter(|(_, s)| s.as_deref() == Some(secret))
                .map(|(app, _)| app);
            for (spec, handle) in signed_for {
                if let Err(reason) = wants(spec, handle, &push) {
                    ignored.push(json!({ "app": spec.name, "reason": reason.to_string() }));
                    continue;
                }
                let trigger = TriggerKind::Webhook(forge_name.clone());
                match state.request_sync(handle, trigger).await {
                    Ok(Routed::Here) => triggered.push(spec.name.clone()),
                    Ok(Routed::HandedOff { shard, owner }) => {
                        triggered.push(spec.name.clone());
                        handed_off
                            .push(json!({ "app": spec.name, "shard": shard, "owner": owner }));
                    }
                    Err(e) => {
                        tracing::warn!(app = %spec.name, error = %e, "could not hand a webhook to the app's replica");
                        failed.push(json!({ "app": spec.name, "error": e.to_string() }));
                    }
                }
            }
            tracing::info!(forge = %forge_name, git_ref = %push.git_ref, triggered = triggered.len(), handed_off = handed_off.len(), "webhook push");
            if !failed.is_empty() {
                // The forge retries a 503; the apps already triggered coalesce the repeat.
                state.count_webhook(&forge_name, "handoff-failed");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::RETRY_AFTER, "1")],
                    Json(json!({ "ref": push.git_ref, "triggered": triggered, "failed": failed })),
                )
                    .into_response();
            }
            let result = if triggered.is_empty() {
                "ignored"
            } else {
                "triggered"
            };
            state.count_webhook(&forge_name, result);
            let mut body =
                json!({ "ref": push.git_ref, "triggered": triggered, "ignored": ignored });
            if !handed_off.is_empty() {
                body["handedOff"] = serde_json::Value::Array(handed_off);
            }
            reply(StatusCode::ACCEPTED, body)
        }
    }
}

/// Why a push does not concern an app (the `reason` of its entry in the reply's `ignored`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum NotWanted {
    /// The push is to another repository.
    OtherRepository,
    /// The app is pinned to a commit.
    PinnedToCommit(String),
    /// The app follows the remote's HEAD, not fetched yet, and the push is not to a branch.
    NotABranchPush,
    /// The push is to another ref than the one the app follows.
    OtherRef {
        /// The ref pushed.
        pushed: String,
        /// The ref the app follows.
        followed: String,
    },
    /// No changed file lies under the app's manifest directory.
    OutsidePath(String),
    /// No changed file is one the app's last render (kustomize or helm) of this root read.
    OutsideRender(String),
}

impl std::fmt::Display for NotWanted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotWanted::OtherRepository => f.write_str("another repository"),
            NotWanted::PinnedToCommit(c) => write!(f, "pinned to commit {c}"),
            NotWanted::NotABranchPush => f.write_str("not a branch push"),
            NotWanted::OtherRef { pushed, followed } => {
                write!(f, "push to {pushed}, the app follows {followed}")
            }
            NotWanted::OutsidePath(path) => write!(f, "no changed file under {path:?}"),
            NotWanted::OutsideRender(root) => {
                write!(f, "no changed file is read by the render of {root:?}")
            }
        }
    }
}

/// Whether a push concerns an app: same repository, the ref it follows, and (when the
/// payload lists changed files) its manifest directory.
fn wants(spec: &AppSpec, handle: &AppHandle, push: &PushEvent) -> Result<(), NotWanted> {
    let repo = spec.location.display();
    if !push.repo_urls.iter().any(|u| same_repo(u, &repo)) {
        return Err(NotWanted::OtherRepository);
    }
    let followed = match &spec.reference {
        GitRef::Branch(b) => format!("refs/heads/{b}"),
        GitRef::Tag(t) => format!("refs/tags/{t}"),
        GitRef::Commit(c) => return Err(NotWanted::PinnedToCommit(c.clone())),
        GitRef::Head => match handle.status().tracked_branch {
            Some(b) => format!("refs/heads/{b}"),
            // Not fetched yet: any branch push is worth a (cheap) look.
            None if push.git_ref.starts_with("refs/heads/") => push.git_ref.clone(),
            None => return Err(NotWanted::NotABranchPush),
        },
    };
    if push.git_ref != followed {
        return Err(NotWanted::OtherRef {
            pushed: push.git_ref.clone(),
            followed,
        });
    }
    if let Some(files) = &push.changed_files {
        // A rendered app reads what its last render read (an overlay's bases, a chart and its
        // values files), not only its path. Before a chart's first render every push is
        // looked at; an overlay's own path is always read.
        match handle.status().render_reads {
            Some(reads) if !reads.touched_by(files) => {
                let root = match &spec.render {
                    crate::render::RenderSpec::Helm(helm) => helm.chart.clone(),
                    crate::render::RenderSpec::Path { .. } => spec.select.path.clone(),
                };
                return Err(NotWanted::OutsideRender(root));
            }
            Some(_) => {}
            None if matches!(spec.render, crate::render::RenderSpec::Helm(_)) => {}
            None if !touches_path(files, &spec.select.path) => {
                return Err(NotWanted::OutsidePath(spec.select.path.clone()));
            }
            None => {}
        }
    }
    Ok(())
}

/// 503 with `Retry-After`.
fn busy(state: &ServerState, forge_name: &str) -> Response {
    state.count_webhook(forge_name, "busy");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "1")],
        Json(json!({ "error": "too many webhook requests at once; retry shortly" })),
    )
        .into_response()
}

/// 413 for an oversized body, 408 for one that came too slowly, 400 for a broken one; the
/// connection is closed so the rest of the body is never read.
fn body_refused(state: &ServerState, forge_name: &str, error: BodyError) -> Response {
    let (status, result) = match error {
        BodyError::Busy => return busy(state, forge_name),
        BodyError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too-large"),
        BodyError::Timeout(_) => (StatusCode::REQUEST_TIMEOUT, "timeout"),
        BodyError::Read(_) => (StatusCode::BAD_REQUEST, "bad-request"),
    };
    state.count_webhook(forge_name, result);
    tracing::warn!(forge = %forge_name, error = %error, "webhook body refused");
    (
        status,
        [(header::CONNECTION, "close")],
        Json(json!({ "error": error.to_string() })),
    )
        .into_response()
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response {
    (status, Json(body)).into_response()
}

#[cfg(test)]
#[path = "hooks_tests.rs"]
mod tests;
