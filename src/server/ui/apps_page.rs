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

/// Longest subject a row shows (the app page shows it whole): bounds a row's size.
const SUBJECT_CHARS: usize = 50;

/// `subject`, cut to [`SUBJECT_CHARS`] with an ellipsis.
fn clipped(subject: &str) -> std::borrow::Cow<'_, str> {
    match subject.char_indices().nth(SUBJECT_CHARS) {
        Some((end, _)) => format!("{}…", &subject[..end]).into(),
        None => subject.into(),
    }
}

/// The repository as the apps page groups it: `owner/name` of a forge URL, else as shown.
fn repo_label(repo: &str) -> &str {
    let trimmed = repo.trim_end_matches('/').trim_end_matches(".git");
    let Some((_, rest)) = trimmed
        .split_once("://")
        .or_else(|| trimmed.split_once(':'))
    else {
        return trimmed;
    };
    // Past the host: `owner/name` (or the group path).
    rest.split_once('/').map_or(rest, |(_, path)| path)
}

/// The whole apps page: apps grouped by repository and branch (one heading row each), in
/// config order within a group.
pub fn render(apps: &[AppView], filter: &AppsFilter, writable: bool, now: DateTime<Utc>) -> Markup {
    let query = filter.q.trim().to_lowercase();
    let state = Some(filter.state.as_str()).filter(|s| !s.is_empty());
    let shown = apps.iter().filter(|a| a.matches(&query, state)).count();
    let mut groups: Vec<((&str, &str), Vec<&AppView>)> = Vec::new();
    for app in apps {
        let key = (app.status.repo.as_str(), app.reference.as_str());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(app),
            None => groups.push((key, vec![app])),
        }
    }
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
                    th scope="col" { "Path" }
                    th scope="col" { "Synced commit" }
                    th scope="col" { "Sync" }
                    th scope="col" { "Health" }
                    th scope="col" title="objects drifted from git" { "Drift" }
                    th scope="col" { "Next poll" }
                }
            }
            @for ((repo, reference), members) in &groups {
                tbody data-repo={ (repo) " " (reference) } {
                    tr.group { th colspan="7" scope="rowgroup" title=(repo) { (repo_label(repo)) " · " (reference) } }
                    @for app in members {
                        (row(app, !app.matches(&query, state), now))
                    }
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

/// One app's row (also sent alone, rendered, by the live updates). Kept terse: a thousand
/// of them make the page. Its classes are its sync state and health (for the filter and the
/// colours); its app link finds it (no id of its own).
pub fn row(app: &AppView, hidden: bool, now: DateTime<Utc>) -> Markup {
    let s = &app.status;
    let states = format!("{} {}", app.sync.as_str(), app.health.as_str());
    let degraded = app.health == HealthState::Degraded;
    html! {
        tr class=(states) hidden[hidden] {
            td { a href={ "/apps/" (s.name) } { (s.name) } }
            td { (app.path) }
            td {
                @if let Some(sha) = &s.synced_commit {
                    code { (crate::source::short_sha(sha)) } " " (clipped(s.synced_subject.as_deref().unwrap_or_default()))
                    @if let Some(head) = s.head_commit.as_deref().filter(|h| *h != sha) {
                        " " span.head title="the branch head, not synced yet" { "→ " code { (crate::source::short_sha(head)) } }
                    }
                    small {
                        (s.synced_author.as_deref().unwrap_or_default())
                        @if let Some(when) = s.synced_commit_time.as_deref().and_then(|t| age(t, now)) { " · " (when) }
                    }
                } @else {
                    "none yet"
                    @if let Some(head) = &s.head_commit {
                        " " span.head title="the branch head, not synced yet" { "→ " code { (crate::source::short_sha(head)) } }
                    }
                }
            }
            // Coloured by the row's classes (the stylesheet), not a class per cell.
            td {
                (app.sync.as_str())
                @if let (Some(reason), false) = (&app.reason, degraded) { small { (reason) } }
            }
            td {
                (app.health.as_str())
                @if let (Some(reason), true) = (&app.reason, degraded) { small { (reason) } }
            }
            td { (s.drift.len()) }
            td {
                @match app.next_poll_in {
                    Some(0) => "due",
                    Some(n) => { "in " (duration_words(n)) },
                    None => "—",
                }
            }
        }
    }
}
