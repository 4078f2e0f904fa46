//! The apps page (`/`): one row per app with its source, synced commit, sync state, health,
//! drift and next poll; filtered by text and state on the server (`?q=&state=`, works without
//! JavaScript) and as you type (the script). Rows are compact: 1,000 apps stay one small page.

use chrono::{DateTime, Utc};
use maud::{html, Markup};

use super::layout::{page, Page};
use super::view::{age, duration_words, AppView, HealthState, SyncState};

/// The `?q=&state=` filter of the apps page.
#[derive(Debug, Default, serde::Deserialize)]
pub struct AppsFilter {
    /// Text to look for (name, repository, branch, path, commit, subject).
    #[serde(default)]
    pub q: String,
    /// A sync state or health word (`synced`, `degraded`…); empty: any.
    #[serde(default)]
    pub state: String,
}

/// The whole apps page.
pub fn render(apps: &[AppView], filter: &AppsFilter, writable: bool, now: DateTime<Utc>) -> Markup {
    let query = filter.q.trim().to_lowercase();
    let state = Some(filter.state.as_str()).filter(|s| !s.is_empty());
    let shown = apps.iter().filter(|a| a.matches(&query, state)).count();
    let content = html! {
        h1 { "Apps " span.muted { (shown) " of " (apps.len()) } }
        form.filter method="get" action="/" role="search" {
            label for="q" { "Filter" }
            input #q type="search" name="q" value=(filter.q) placeholder="name, repo, path, commit";
            label for="state" { "State" }
            select #state name="state" {
                option value="" { "any" }
                @for s in SyncState::ALL {
                    option value=(s.as_str()) selected[state == Some(s.as_str())] { (s.as_str()) }
                }
                @for h in [HealthState::Healthy, HealthState::Progressing, HealthState::Degraded] {
                    option value=(h.as_str()) selected[state == Some(h.as_str())] { (h.as_str()) }
                }
            }
            button type="submit" { "Apply" }
            span.muted { span #shown { (shown) } " shown" }
        }
        table #apps {
            thead {
                tr {
                    th scope="col" { "App" }
                    th.wide scope="col" { "Source" }
                    th scope="col" { "Synced commit" }
                    th scope="col" { "Sync" }
                    th scope="col" { "Health" }
                    th scope="col" title="objects drifted from git" { "Drift" }
                    th.wide scope="col" { "Next poll" }
                }
            }
            tbody {
                @for app in apps {
                    (row(app, !app.matches(&query, state), now))
                }
            }
        }
    };
    page(
        &Page {
            title: "apps",
            app: None,
            live: true,
            writable,
        },
        &content,
    )
}

/// One app's row (also sent alone, rendered, by the live updates).
pub fn row(app: &AppView, hidden: bool, now: DateTime<Utc>) -> Markup {
    let s = &app.status;
    let states = format!("{} {}", app.sync.as_str(), app.health.as_str());
    html! {
        tr.app-row id={ "app-" (s.name) } data-states=(states) hidden[hidden] {
            td { a href={ "/apps/" (s.name) } { (s.name) } }
            td.wide { (s.repo) " " span.muted { (app.reference) " " (app.path) } }
            td {
                @if let Some(sha) = &s.synced_commit {
                    code.sha { (crate::source::short_sha(sha)) } " " (s.synced_subject.as_deref().unwrap_or_default())
                    span.reason {
                        (s.synced_author.as_deref().unwrap_or_default())
                        @if let Some(when) = s.synced_commit_time.as_deref().and_then(|t| age(t, now)) { " · " (when) }
                    }
                } @else {
                    span.muted { "none yet" }
                }
            }
            td class=(app.sync.tone().class()) {
                (app.sync.as_str())
                @if let (Some(reason), false) = (&app.reason, app.health == HealthState::Degraded) {
                    span.reason { (reason) }
                }
            }
            td class=(app.health.tone().class()) {
                (app.health.as_str())
                @if let (Some(reason), true) = (&app.reason, app.health == HealthState::Degraded) {
                    span.reason { (reason) }
                }
            }
            td { (s.drift.len()) }
            td.wide {
                @match app.next_poll_in {
                    Some(0) => "due",
                    Some(n) => { "in " (duration_words(n)) },
                    None => "—",
                }
            }
        }
    }
}
