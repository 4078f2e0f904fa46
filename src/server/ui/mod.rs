//! The web UI `ferry serve` serves on its own listener: the apps page (`/`), an app's page
//! (`/apps/<app>`), its history (`/apps/<app>/history[/<seq>]`), the Sync now / Roll back
//! confirmations, a badge (`/badge/<app>.svg`), live updates (`/ui/events`, Server-Sent
//! Events) and the embedded stylesheet and script (`/ui/assets/…`).
//!
//! Pages are rendered on the server with maud from the state `serve` already holds (the
//! apps' statuses, history, and, for an app page, its pods and plan read on demand); they are
//! complete without JavaScript. No page, event or URL carries a secret: tokens are asked for
//! in a form body, repository URLs are shown without credentials, Secret values are masked
//! by the plan. With `--api-read-auth`, pages need the API token too (HTTP Basic: any user
//! name, the token as password).

mod actions;
mod app_page;
mod apps_page;
mod badge;
mod events;
mod history_page;
mod layout;
mod links;
mod pages;
pub mod view;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::Markup;
use tokio::sync::{watch, Semaphore};

use self::app_page::PodsByWorkload;
use self::view::AppView;
use super::ServerState;
use crate::reconcile::feed::StatusFeed;
use crate::reconcile::Engine;

pub use self::actions::is_sha;
pub use self::apps_page::{render as render_apps_page, AppsFilter};

/// Live pages (event streams) open at once, at most; more are answered 503.
const MAX_STREAMS: usize = 64;
/// How many syncs the history page lists.
const HISTORY_LIMIT: usize = 50;

/// What the UI needs beside the server's state.
pub struct UiState {
    /// Where app changes come from (none: pages don't update live).
    pub feed: Option<StatusFeed>,
    /// The engine, for an app page's pods and plan (none: not shown).
    pub engine: Option<Engine>,
    /// Turns true when the server stops, so open event streams end.
    pub closing: watch::Sender<bool>,
    /// One permit per open event stream.
    pub streams: Arc<Semaphore>,
}

impl Default for UiState {
    fn default() -> UiState {
        UiState {
            feed: None,
            engine: None,
            closing: watch::channel(false).0,
            streams: Arc::new(Semaphore::new(MAX_STREAMS)),
        }
    }
}

/// The UI's routes.
pub fn routes(state: Arc<ServerState>) -> Router<Arc<ServerState>> {
    Router::new()
        .route("/", get(pages::apps))
        .route("/apps/{app}", get(pages::app))
        .route("/apps/{app}/live", get(pages::app_live))
        .route("/apps/{app}/history", get(pages::history))
        .route("/apps/{app}/history/{seq}", get(pages::history_entry))
        .route(
            "/apps/{app}/sync",
            get(actions::confirm_sync).post(actions::do_sync),
        )
        .route(
            "/apps/{app}/rollback",
            get(actions::confirm_rollback).post(actions::do_rollback),
        )
        .route("/badge/{file}", get(pages::badge))
        .route("/ui/events", get(events::events))
        .route("/ui/assets/{file}", get(pages::asset))
        .route_layer(axum::middleware::from_fn_with_state(state, read_guard))
}

/// With `--api-read-auth`, every UI page needs the token (Basic auth, token as password).
async fn read_guard(
    State(state): State<Arc<ServerState>>,
    request: Request,
    next: Next,
) -> Response {
    if !state.api_auth.read_auth || request.uri().path().starts_with("/ui/assets/") {
        return next.run(request).await;
    }
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    if state.api_auth.accepts_page_credentials(authorization) {
        return next.run(request).await;
    }
    tracing::warn!(path = %request.uri().path(), "refused UI request without the API token");
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Basic realm=\"ferry\", charset=\"UTF-8\"")],
        "this ferry serve needs the API token to show its pages (--api-read-auth): use any user name and the token as the password\n",
    )
        .into_response()
}

/// An HTML page with headers that keep it self-contained: only its own scripts, styles and
/// images, no framing, no referrer (links to the forge carry no ferry URL).
fn html(status: StatusCode, markup: &Markup) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                 connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        markup.clone().into_string(),
    )
        .into_response()
}

fn no_app(app: &str, writable: bool) -> Response {
    let content = maud::html! {
        h1 { "No app named " code { (app) } }
        p { a href="/" { "All apps" } }
    };
    html(
        StatusCode::NOT_FOUND,
        &layout::page(
            &layout::Page {
                title: "not found",
                app: None,
                live: false,
                writable,
            },
            &content,
        ),
    )
}

impl ServerState {
    /// Shows the UI with live updates from `feed` and pods and plans read through `engine`.
    #[must_use]
    pub fn with_ui(mut self, engine: Engine, feed: StatusFeed) -> ServerState {
        self.ui.engine = Some(engine);
        self.ui.feed = Some(feed);
        self
    }

    /// True when the UI may offer actions (an API token is configured).
    fn writable(&self) -> bool {
        self.api_auth.has_token()
    }

    fn view_of(&self, app: &str) -> Option<(&crate::config::AppSpec, AppView)> {
        let (spec, handle) = self.app(app)?;
        Some((
            spec,
            AppView::new(spec, self.status_of(handle), chrono::Utc::now()),
        ))
    }

    /// The pods of the app's workloads, read concurrently.
    async fn pods_of(&self, view: &AppView) -> PodsByWorkload {
        let Some(engine) = &self.ui.engine else {
            return PodsByWorkload::new();
        };
        let reads = app_page::workloads(view).into_iter().map(|(key, target)| {
            let cluster = engine.cluster.clone();
            async move {
                let pods = crate::rollout::overview::workload_pods(&cluster, &target)
                    .await
                    .map_err(|e| e.to_string());
                (key, pods)
            }
        });
        futures::future::join_all(reads).await.into_iter().collect()
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
