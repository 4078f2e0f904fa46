//! `/ui/events`: Server-Sent Events from the apps' [`StatusFeed`](crate::reconcile::feed):
//! `row` (the apps page: a changed app's row, rendered), `status` (an app page: its app
//! changed, re-read the live part), `gate` (a gate's progress, the same events `ferry sync`
//! prints as progress lines) and `resync` (events were missed: reload). Changes are
//! coalesced for [`COALESCE`], so a burst of status updates costs one row per app.

use std::collections::{BTreeSet, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch, OwnedSemaphorePermit};

use super::apps_page::row;
use super::view::AppView;
use crate::reconcile::feed::{AppChange, ChangeKind};
use crate::server::ServerState;

/// How long status changes are gathered before they are sent.
const COALESCE: Duration = Duration::from_millis(100);

/// Which events a page wants.
#[derive(Debug, Default, serde::Deserialize)]
pub struct EventsQuery {
    /// One app's events (its page); none: every app's rows (the apps page).
    pub app: Option<String>,
}

/// The event stream of one page.
pub async fn events(
    State(state): State<Arc<ServerState>>,
    Query(query): Query<EventsQuery>,
) -> Response {
    let Some(feed) = state.ui.feed.as_ref() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "no live feed\n").into_response();
    };
    let Ok(permit) = state.ui.streams.clone().try_acquire_owned() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "too many live pages open; reload later\n",
        )
            .into_response();
    };
    if let Some(app) = &query.app {
        if state.app(app).is_none() {
            return (StatusCode::NOT_FOUND, "no such app\n").into_response();
        }
    }
    let stream = Stream {
        changes: feed.subscribe(),
        closing: state.ui.closing.subscribe(),
        app: query.app,
        ready: VecDeque::new(),
        state: state.clone(),
        _permit: permit,
    };
    let events = futures::stream::unfold(stream, |mut stream| async move {
        let event = stream.next().await?;
        Some((Ok::<Event, Infallible>(event), stream))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

struct Stream {
    changes: broadcast::Receiver<AppChange>,
    closing: watch::Receiver<bool>,
    app: Option<String>,
    ready: VecDeque<Event>,
    state: Arc<ServerState>,
    _permit: OwnedSemaphorePermit,
}

impl Stream {
    /// The next event; `None` ends the stream (the server is stopping).
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Some(event);
            }
            if *self.closing.borrow() {
                return None;
            }
            let change = tokio::select! {
                change = self.changes.recv() => change,
                _ = self.closing.changed() => return None,
            };
            match change {
                Ok(change) => {
                    let mut changed = BTreeSet::new();
                    self.take(change, &mut changed);
                    // Gather what else changes in the next moment, then send it at once.
                    let deadline = tokio::time::Instant::now() + COALESCE;
                    while let Ok(more) =
                        tokio::time::timeout_at(deadline, self.changes.recv()).await
                    {
                        match more {
                            Ok(more) => self.take(more, &mut changed),
                            Err(RecvError::Lagged(_)) => {
                                self.ready
                                    .push_back(Event::default().event("resync").data("{}"));
                                break;
                            }
                            Err(RecvError::Closed) => break,
                        }
                    }
                    for app in changed {
                        if let Some(event) = self.status_event(&app) {
                            self.ready.push_back(event);
                        }
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "live page fell behind; asking it to reload");
                    return Some(Event::default().event("resync").data("{}"));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// Files one change: a gate event is ready at once, a status change waits in `changed`.
    fn take(&mut self, change: AppChange, changed: &mut BTreeSet<Arc<str>>) {
        if self.app.as_deref().is_some_and(|a| a != &*change.app) {
            return;
        }
        match change.what {
            ChangeKind::Status => {
                changed.insert(change.app);
            }
            ChangeKind::Gate(event) => {
                let data = serde_json::json!({
                    "app": &*change.app,
                    "target": event.target.to_string(),
                    "state": event.state,
                    "message": event.message,
                    "elapsed_seconds": event.elapsed.as_secs_f64(),
                });
                self.ready
                    .push_back(Event::default().event("gate").data(data.to_string()));
            }
        }
    }

    /// The event for a changed app: its rendered row (apps page) or a nudge (its page).
    fn status_event(&self, app: &str) -> Option<Event> {
        let (spec, handle) = self.state.app(app)?;
        let view = AppView::new(spec, self.state.status_of(handle), chrono::Utc::now());
        let data = match self.app {
            Some(_) => serde_json::json!({
                "name": app,
                "sync": view.sync.as_str(),
                "health": view.health.as_str(),
            }),
            None => serde_json::json!({
                "name": app,
                "html": row(&view, false, chrono::Utc::now()).into_string(),
            }),
        };
        let kind = if self.app.is_some() { "status" } else { "row" };
        Some(Event::default().event(kind).data(data.to_string()))
    }
}
