//! Health, readiness and the status API.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::ServerState;
use crate::shard::Routed;
use crate::trigger::TriggerKind;

/// Liveness: the process answers.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Readiness: every app synced here has completed one reconcile attempt (sharded: the apps
/// of the shards this replica holds).
pub async fn readyz(State(state): State<Arc<ServerState>>) -> Response {
    let waiting: Vec<String> = state
        .apps
        .iter()
        .filter(|(spec, h)| state.syncs_here(&spec.name) && !h.status().attempted)
        .map(|(spec, _)| spec.name.clone())
        .collect();
    if waiting.is_empty() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "waiting for the first reconcile of: {}\n",
                waiting.join(", ")
            ),
        )
            .into_response()
    }
}

/// `GET /api/apps`: every app's status.
pub async fn list_apps(State(state): State<Arc<ServerState>>) -> Response {
    let apps: Vec<_> = state.apps.iter().map(|(_, h)| state.status_of(h)).collect();
    match &state.router {
        Some(router) => {
            Json(json!({ "apps": apps, "sharding": router.table().snapshot() })).into_response()
        }
        None => Json(json!({ "apps": apps })).into_response(),
    }
}

/// `GET /api/apps/<app>`: one app's status.
pub async fn get_app(State(state): State<Arc<ServerState>>, Path(app): Path<String>) -> Response {
    match state.app(&app) {
        Some((_, handle)) => Json(state.status_of(handle)).into_response(),
        None => not_found(&app),
    }
}

/// Query of the history endpoint.
#[derive(serde::Deserialize)]
pub struct HistoryQuery {
    limit: Option<usize>,
}

/// `GET /api/apps/<app>/history?limit=N`: the app's syncs, newest first.
pub async fn app_history(
    State(state): State<Arc<ServerState>>,
    Path(app): Path<String>,
    Query(query): Query<HistoryQuery>,
) -> Response {
    if state.app(&app).is_none() {
        return not_found(&app);
    }
    match state
        .history
        .list(&app, Some(query.limit.unwrap_or(20)))
        .await
    {
        Ok(records) => Json(json!({ "app": app, "syncs": records })).into_response(),
        Err(e) => (
            StatusCode::BAD_GATEWAY,
            Json(json!({ "error": e.to_string() })),
        )
            .into_response(),
    }
}

/// Query of the manual sync endpoint.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncQuery {
    #[serde(default)]
    force_window: bool,
}

/// `POST /api/apps/<app>/sync[?forceWindow=true]`: request a sync now (202; it runs after
/// the response). `forceWindow` applies even outside the app's sync windows.
pub async fn sync_app(
    State(state): State<Arc<ServerState>>,
    Path(app): Path<String>,
    Query(query): Query<SyncQuery>,
) -> Response {
    match state.app(&app) {
        Some((_, handle)) => {
            let trigger = if query.force_window {
                TriggerKind::ManualForce
            } else {
                TriggerKind::Manual
            };
            match state.request_sync(handle, trigger).await {
                Ok(Routed::Here) => {
                    (StatusCode::ACCEPTED, Json(json!({ "triggered": [app] }))).into_response()
                }
                Ok(Routed::HandedOff { shard, owner }) => (
                    StatusCode::ACCEPTED,
                    Json(json!({
                        "triggered": [app],
                        "handedOff": [{ "app": app, "shard": shard, "owner": owner }],
                    })),
                )
                    .into_response(),
                Err(e) => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(json!({ "error": format!("could not hand the request to app {app:?}'s replica: {e}") })),
                )
                    .into_response(),
            }
        }
        None => not_found(&app),
    }
}

/// Query of the rollback endpoint.
#[derive(serde::Deserialize)]
pub struct RollbackQuery {
    commit: Option<String>,
}

/// `POST /api/apps/<app>/rollback[?commit=<sha>]`: revert the commit (default: the newest
/// change ferry synced) with a git revert, push it and sync it, in the app's loop, as `ferry
/// rollback` does (202; the outcome shows in the app's status and history).
pub async fn rollback_app(
    State(state): State<Arc<ServerState>>,
    Path(app): Path<String>,
    Query(query): Query<RollbackQuery>,
) -> Response {
    let Some((_, handle)) = state.app(&app) else {
        return not_found(&app);
    };
    let commit = query.commit.filter(|c| !c.is_empty());
    if let Some(commit) = &commit {
        if !super::ui::is_sha(commit) {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({ "error": format!("commit {commit:?} is not a hex sha") })),
            )
                .into_response();
        }
    }
    match state
        .request_sync(handle, TriggerKind::Rollback(commit.clone()))
        .await
    {
        Ok(_) => (
            StatusCode::ACCEPTED,
            Json(json!({ "rollback": app, "commit": commit })),
        )
            .into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "error": format!("could not hand the request to app {app:?}'s replica: {e}") })),
        )
            .into_response(),
    }
}

fn not_found(app: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": format!("no app named {app:?}") })),
    )
        .into_response()
}
