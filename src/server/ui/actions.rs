//! "Sync now" and "Roll back": a confirmation page (GET) and the action (POST), which asks
//! for the API token of `/api/*` writes in the form's body (never in a URL) and then makes the
//! same request `POST /api/apps/<app>/sync` and `…/rollback` make. Without a token configured
//! the UI is read-only: the pages offer no buttons and these answer 403.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};

use super::layout::{note, page, Page};
use super::view::Tone;
use super::{html as html_response, no_app};
use crate::server::ServerState;
use crate::source::short_sha;
use crate::trigger::TriggerKind;

/// What a confirmation page asks to confirm.
pub enum Confirm<'a> {
    /// A sync of the branch head now.
    Sync,
    /// A revert of this commit (`None`: the newest change ferry synced).
    Rollback(Option<&'a str>),
}

/// The form fields of a confirmed action.
#[derive(Debug, serde::Deserialize)]
pub struct ActionForm {
    /// The API token.
    #[serde(default)]
    pub token: String,
    /// The commit to revert (rollback only; empty: the newest synced change).
    #[serde(default)]
    pub commit: String,
}

/// True for a plausible abbreviated or full sha (hex, 4 to 64 characters).
pub fn is_sha(text: &str) -> bool {
    (4..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The confirmation page; `error` is shown above the form (a wrong token).
pub fn confirm_page(app: &str, what: &Confirm<'_>, writable: bool, error: Option<&str>) -> Markup {
    let (title, action, question, button) = match what {
        Confirm::Sync => (
            "Sync now",
            format!("/apps/{app}/sync"),
            format!("Sync app {app} to the head of its branch now? It applies whatever the plan on the app page shows."),
            "Sync now",
        ),
        Confirm::Rollback(commit) => (
            "Roll back",
            format!("/apps/{app}/rollback"),
            match commit {
                Some(sha) => format!(
                    "Roll back commit {} of app {app}? ferry writes a git revert of it, pushes it to the branch and syncs it.",
                    short_sha(sha)
                ),
                None => format!(
                    "Roll back the newest change ferry synced for app {app}? ferry writes a git revert of it, pushes it to the branch and syncs it."
                ),
            },
            "Roll back",
        ),
    };
    let content = html! {
        h1 { (title) ": " (app) }
        @if let Some(error) = error { (note(error, Some(Tone::Bad))) }
        @if writable {
            form #confirm method="post" action=(action) {
                p { (question) }
                @if let Confirm::Rollback(Some(sha)) = what {
                    input type="hidden" name="commit" value=(sha);
                }
                p {
                    label for="token" { "API token " }
                    input #token type="password" name="token" autocomplete="current-password" required autofocus;
                }
                div.actions {
                    button.danger #confirm-button type="submit" { (button) }
                    a.button href={ "/apps/" (app) } { "Cancel" }
                }
            }
        } @else {
            (note("This ferry serve has no API token, so the UI is read-only: set FERRY_API_TOKEN or --api-token-file to allow this.", Some(Tone::Warn)))
        }
    };
    page(
        &Page {
            title,
            app: Some(app),
            live: false,
            writable,
        },
        &content,
    )
}

pub(super) async fn confirm_sync(
    State(state): State<Arc<ServerState>>,
    Path(app): Path<String>,
) -> Response {
    if state.app(&app).is_none() {
        return no_app(&app, state.writable());
    }
    html_response(
        StatusCode::OK,
        &confirm_page(&app, &Confirm::Sync, state.writable(), None),
    )
}

/// Query of the rollback confirmation.
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct RollbackQuery {
    /// The commit to revert (empty: the newest synced change).
    #[serde(default)]
    commit: String,
}

pub(super) async fn confirm_rollback(
    State(state): State<Arc<ServerState>>,
    Path(app): Path<String>,
    Query(query): Query<RollbackQuery>,
) -> Response {
    if state.app(&app).is_none() {
        return no_app(&app, state.writable());
    }
    let commit = Some(query.commit.as_str()).filter(|c| !c.is_empty());
    if commit.is_some_and(|c| !is_sha(c)) {
        return html_response(
            StatusCode::BAD_REQUEST,
            &confirm_page(
                &app,
                &Confirm::Rollback(None),
                false,
                Some("commit must be a hex sha"),
            ),
        );
    }
    html_response(
        StatusCode::OK,
        &confirm_page(&app, &Confirm::Rollback(commit), state.writable(), None),
    )
}

pub(super) async fn do_sync(
    State(state): State<Arc<ServerState>>,
    Path(app): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    act(
        &state,
        &app,
        &form,
        &Confirm::Sync,
        TriggerKind::Manual,
        format!("/apps/{app}"),
    )
    .await
}

pub(super) async fn do_rollback(
    State(state): State<Arc<ServerState>>,
    Path(app): Path<String>,
    Form(form): Form<ActionForm>,
) -> Response {
    let commit = Some(form.commit.trim()).filter(|c| !c.is_empty());
    if commit.is_some_and(|c| !is_sha(c)) {
        return html_response(
            StatusCode::BAD_REQUEST,
            &confirm_page(
                &app,
                &Confirm::Rollback(None),
                state.writable(),
                Some("commit must be a hex sha"),
            ),
        );
    }
    let trigger = TriggerKind::Rollback(commit.map(str::to_string));
    act(
        &state,
        &app,
        &form,
        &Confirm::Rollback(commit),
        trigger,
        format!("/apps/{app}/history"),
    )
    .await
}

/// Checks the form's token, requests `trigger` for `app` and sends the browser to `then`.
async fn act(
    state: &ServerState,
    app: &str,
    form: &ActionForm,
    what: &Confirm<'_>,
    trigger: TriggerKind,
    then: String,
) -> Response {
    let Some((_, handle)) = state.app(app) else {
        return no_app(app, state.writable());
    };
    if !state.writable() {
        return html_response(StatusCode::FORBIDDEN, &confirm_page(app, what, false, None));
    }
    if !state.api_auth.accepts_token(form.token.trim().as_bytes()) {
        tracing::warn!(app, "refused UI action: wrong API token");
        return html_response(
            StatusCode::UNAUTHORIZED,
            &confirm_page(
                app,
                what,
                true,
                Some("That is not this server's API token."),
            ),
        );
    }
    tracing::info!(app, trigger = ?trigger, "action requested from the UI");
    match state.request_sync(handle, trigger).await {
        Ok(_) => Redirect::to(&then).into_response(),
        Err(e) => html_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &confirm_page(
                app,
                what,
                true,
                Some(&format!(
                    "could not hand the request to the app's replica: {e}"
                )),
            ),
        ),
    }
}
