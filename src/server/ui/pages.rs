//! The read-only pages' handlers: apps, an app (with its pods and plan), its live part,
//! history, a badge and the embedded assets.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::app_page::{self, AppPage};
use super::view::{self, AppView};
use super::{
    apps_page, badge as badge_svg, history_page, html, layout, no_app, AppsFilter, HISTORY_LIMIT,
};
use crate::reconcile::{Engine, PlanFrom};
use crate::server::ServerState;

pub(super) async fn apps(
    State(state): State<Arc<ServerState>>,
    Query(filter): Query<AppsFilter>,
) -> Response {
    let now = chrono::Utc::now();
    let views: Vec<AppView> = state
        .apps
        .iter()
        .map(|(spec, handle)| AppView::new(spec, state.status_of(handle), now))
        .collect();
    html(
        StatusCode::OK,
        &apps_page::render(&views, &filter, state.writable(), now),
    )
}

pub(super) async fn app(
    State(state): State<Arc<ServerState>>,
    Path(app): Path<String>,
) -> Response {
    let Some((spec, view)) = state.view_of(&app) else {
        return no_app(&app, state.writable());
    };
    let pods = state.pods_of(&view).await;
    let plan = match &state.ui.engine {
        Some(engine) => head_plan(engine, spec).await,
        None => Err("this server has no cluster access for plans".to_string()),
    };
    let page = app_page::render(&AppPage {
        spec,
        view: &view,
        pods: &pods,
        plan: plan.as_ref().map_err(Clone::clone),
        writable: state.writable(),
        now: chrono::Utc::now(),
    });
    html(StatusCode::OK, &page)
}

/// The plan of the branch head against the cluster, from a fetch younger than the app's
/// poll interval when there is one (the app's own loop keeps it fresh).
async fn head_plan(
    engine: &Engine,
    spec: &crate::config::AppSpec,
) -> Result<crate::plan::Plan, String> {
    let (source, head) = crate::reconcile::fetch_reusing(engine, spec, spec.interval)
        .await
        .map_err(|e| e.to_string())?;
    crate::reconcile::plan(engine, spec, PlanFrom::Fetched(source, head))
        .await
        .map_err(|e| e.to_string())
}

pub(super) async fn app_live(
    State(state): State<Arc<ServerState>>,
    Path(app): Path<String>,
) -> Response {
    let Some((spec, view)) = state.view_of(&app) else {
        return (StatusCode::NOT_FOUND, "no such app\n").into_response();
    };
    let pods = state.pods_of(&view).await;
    html(
        StatusCode::OK,
        &app_page::live_part(spec, &view, &pods, chrono::Utc::now()),
    )
}

pub(super) async fn history(
    State(state): State<Arc<ServerState>>,
    Path(app): Path<String>,
) -> Response {
    let Some((spec, _)) = state.app(&app) else {
        return no_app(&app, state.writable());
    };
    match state.history.list(&app, Some(HISTORY_LIMIT)).await {
        Ok(records) => html(
            StatusCode::OK,
            &history_page::render_list(spec, &records, state.writable()),
        ),
        Err(e) => history_error(&app, &e, state.writable()),
    }
}

pub(super) async fn history_entry(
    State(state): State<Arc<ServerState>>,
    Path((app, seq)): Path<(String, String)>,
) -> Response {
    let Some((spec, _)) = state.app(&app) else {
        return no_app(&app, state.writable());
    };
    let records = match state.history.list(&app, Some(HISTORY_LIMIT)).await {
        Ok(records) => records,
        Err(e) => return history_error(&app, &e, state.writable()),
    };
    // A seq, nothing else: `get` would also take a sha prefix.
    let record = match seq.parse::<u64>() {
        Ok(n) => match records.iter().find(|r| r.seq == n) {
            Some(listed) => Some(listed.clone()),
            None => match state.history.get(&app, &n.to_string()).await {
                Ok(found) => found,
                Err(e) => return history_error(&app, &e, state.writable()),
            },
        },
        Err(_) => None,
    };
    if let Some(record) = record {
        return html(
            StatusCode::OK,
            &history_page::render_one(spec, &record, &records, state.writable()),
        );
    }
    let content = maud::html! {
        h1 { "No sync #" (seq) " of " a href={ "/apps/" (app) "/history" } { (app) } }
    };
    html(
        StatusCode::NOT_FOUND,
        &layout::page(
            &layout::Page {
                title: "not found",
                app: Some(&app),
                live: false,
                writable: state.writable(),
            },
            &content,
        ),
    )
}

fn history_error(app: &str, e: &crate::history::HistoryError, writable: bool) -> Response {
    let content = maud::html! {
        h1 { "History of " (app) }
        (layout::note(&format!("could not read the history from the cluster: {e}"), Some(view::Tone::Bad)))
    };
    html(
        StatusCode::BAD_GATEWAY,
        &layout::page(
            &layout::Page {
                title: "history",
                app: Some(app),
                live: false,
                writable,
            },
            &content,
        ),
    )
}

pub(super) async fn badge(
    State(state): State<Arc<ServerState>>,
    Path(file): Path<String>,
) -> Response {
    let Some(app) = file.strip_suffix(".svg") else {
        return (StatusCode::NOT_FOUND, "badges are /badge/<app>.svg\n").into_response();
    };
    let view = state.view_of(app).map(|(_, v)| v);
    let status = if view.is_some() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    (
        status,
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-cache, max-age=0"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
        ],
        badge_svg::render(app, view.as_ref()).into_string(),
    )
        .into_response()
}

pub(super) async fn asset(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "ui.css" => (layout::CSS, "text/css; charset=utf-8"),
        "ui.js" => (layout::JS, "text/javascript; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "no such asset\n").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=86400"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}
