//! The HTTP side of `ferry serve` (axum): webhooks (`/hooks/<forge>`), `/healthz`, `/readyz`,
//! `/metrics` (Prometheus text), the status API (`/api/apps…`) and the web UI ([`ui`]: `/`,
//! `/apps/…`, `/badge/…`, `/ui/…`). Handlers only read status
//! and request syncs; syncs run in the apps' own loops after the response is sent.

mod api;
mod auth;
mod hooks;
mod limits;
mod listen;
mod metrics;
pub mod ui;

pub use auth::{api_token, ApiAuth, API_TOKEN_ENV};
pub use limits::HttpLimits;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::routing::{get, post};
use axum::Router;
use tokio::sync::Semaphore;

use crate::cluster::ClusterError;
use crate::config::AppSpec;
use crate::history::History;
use crate::reconcile::slots::SyncSlots;
use crate::reconcile::worker::AppHandle;
use crate::shard::{RequestRouter, Routed};
use crate::trigger::TriggerKind;

/// Everything the handlers share.
pub struct ServerState {
    /// The running apps, in config order.
    pub apps: Vec<(AppSpec, AppHandle)>,
    /// Each app's webhook secret (its own or the server-wide one), in the order of `apps`; a
    /// push only triggers apps whose secret signed it. Webhooks answer 503 when none has one.
    pub webhook_secrets: Vec<Option<Vec<u8>>>,
    /// Sync history, for `/api/apps/<app>/history`.
    pub history: History,
    /// Webhook requests by (forge, result).
    pub webhook_requests: Mutex<BTreeMap<(String, String), u64>>,
    /// Who may call `/api/*`.
    pub api_auth: ApiAuth,
    /// Body, header and concurrency limits.
    pub limits: HttpLimits,
    /// One permit per webhook request being verified and handled.
    pub webhook_slots: Arc<Semaphore>,
    /// One permit per KiB of webhook body held in memory, over all requests.
    pub body_budget: Arc<Semaphore>,
    /// The apps' shared sync slots, for `/metrics` (none: not shown).
    pub sync_slots: Option<SyncSlots>,
    /// With `--shards`: who holds which app, and where requests for another replica's apps
    /// go. `None`: every app is synced here.
    pub router: Option<RequestRouter>,
    /// The engine's notifier, for `ferry_notifications_total` (none: not shown).
    pub notifier: Option<crate::notify::Notifier>,
    /// The web UI's live feed, engine and open streams.
    pub ui: ui::UiState,
}

impl ServerState {
    /// The state for these apps, with a permit pool sized by `limits`.
    pub fn new(
        apps: Vec<(AppSpec, AppHandle)>,
        webhook_secrets: Vec<Option<Vec<u8>>>,
        history: History,
        api_auth: ApiAuth,
        limits: HttpLimits,
    ) -> ServerState {
        ServerState {
            apps,
            webhook_secrets,
            history,
            webhook_requests: Mutex::default(),
            api_auth,
            limits,
            webhook_slots: Arc::new(Semaphore::new(limits.max_webhook_requests.max(1))),
            body_budget: limits::body_budget(&limits),
            sync_slots: None,
            router: None,
            notifier: None,
            ui: ui::UiState::default(),
        }
    }

    /// Sharded: shows each app's owner and hands requests for other replicas' apps over.
    #[must_use]
    pub fn with_router(mut self, router: RequestRouter) -> ServerState {
        self.router = Some(router);
        self
    }

    /// Requests a sync of `handle`'s app here or, sharded, on the replica that owns it.
    pub(crate) async fn request_sync(
        &self,
        handle: &AppHandle,
        trigger: TriggerKind,
    ) -> Result<Routed, ClusterError> {
        if let Some(router) = &self.router {
            return router
                .route(handle.name(), &handle.requests(), trigger)
                .await;
        }
        handle.trigger(trigger);
        Ok(Routed::Here)
    }

    /// `handle`'s status, with its shard and owner when sharded.
    pub(crate) fn status_of(&self, handle: &AppHandle) -> crate::reconcile::worker::AppStatus {
        let mut status = handle.status();
        if let Some(router) = &self.router {
            let (shard, owner) = router.table().owner_of(handle.name());
            status.shard = Some(shard);
            status.owner = owner;
        }
        status
    }

    /// True when this replica syncs the app (always, unless sharded).
    pub(crate) fn syncs_here(&self, app: &str) -> bool {
        self.router
            .as_ref()
            .is_none_or(|router| router.table().syncs_here(app))
    }

    /// Shows these sync slots in `/metrics`.
    #[must_use]
    pub fn with_sync_slots(mut self, slots: SyncSlots) -> ServerState {
        self.sync_slots = Some(slots);
        self
    }

    /// Shows the notifier's counters in `/metrics`.
    #[must_use]
    pub fn with_notifier(mut self, notifier: crate::notify::Notifier) -> ServerState {
        self.notifier = Some(notifier);
        self
    }

    fn app(&self, name: &str) -> Option<&(AppSpec, AppHandle)> {
        self.apps.iter().find(|(spec, _)| spec.name == name)
    }

    fn count_webhook(&self, forge: &str, result: &str) {
        // A poisoned lock (a panic while it was held) loses this count, nothing else.
        if let Ok(mut counts) = self.webhook_requests.lock() {
            *counts
                .entry((forge.to_string(), result.to_string()))
                .or_default() += 1;
        }
    }
}

/// Problems starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The server failed while running.
    #[error("HTTP server: {0}")]
    Serve(#[source] std::io::Error),
}

/// The routes.
pub fn router(state: Arc<ServerState>) -> Router {
    let api = Router::new()
        .route("/api/apps", get(api::list_apps))
        .route("/api/apps/{app}", get(api::get_app))
        .route("/api/apps/{app}/history", get(api::app_history))
        .route("/api/apps/{app}/sync", post(api::sync_app))
        .route("/api/apps/{app}/rollback", post(api::rollback_app))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));
    Router::new()
        .route("/healthz", get(api::healthz))
        .route("/readyz", get(api::readyz))
        .route("/metrics", get(metrics::metrics))
        .route("/hooks/{forge}", post(hooks::webhook))
        .merge(api)
        .merge(ui::routes(state.clone()))
        .with_state(state)
}

/// Binds the listen address: a taken or forbidden address is an error before anything else
/// starts. Connections wait in the kernel's backlog until [`spawn`] serves them.
pub fn bind(addr: SocketAddr) -> Result<std::net::TcpListener, ServerError> {
    let listener =
        std::net::TcpListener::bind(addr).map_err(|source| ServerError::Bind { addr, source })?;
    listener
        .set_nonblocking(true)
        .map_err(|source| ServerError::Bind { addr, source })?;
    Ok(listener)
}

/// Serves on `listener` (see [`bind`]) on a thread and runtime of its own until `shutdown`
/// resolves, then stops accepting and finishes open requests. Its own runtime keeps health
/// checks and webhooks answered however busy the apps keep the main runtime (a thousand
/// loops starting at once).
pub fn spawn(
    listener: std::net::TcpListener,
    state: Arc<ServerState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<std::thread::JoinHandle<Result<(), ServerError>>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("ferry-http".into())
        .spawn(move || runtime.block_on(serve(listener, state, shutdown)))
}

/// Serves on `listener` (see [`bind`]) on the current runtime until `shutdown` resolves, then
/// stops accepting and finishes open requests.
pub async fn serve(
    listener: std::net::TcpListener,
    state: Arc<ServerState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let listener = tokio::net::TcpListener::from_std(listener).map_err(ServerError::Serve)?;
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "listening");
    }
    let limits = state.limits;
    // Open live pages (event streams) end when the server stops, so the graceful stop does
    // not wait for them.
    let closing = state.ui.closing.clone();
    let shutdown = async move {
        shutdown.await;
        closing.send_replace(true);
    };
    listen::run(listener, router(state), limits, shutdown)
        .await
        .map_err(ServerError::Serve)
}
