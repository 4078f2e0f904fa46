//! Triggers: what makes an app sync (see DESIGN.md, the `trigger` row): what asks for a sync
//! and what a sync records as its trigger ([`TriggerKind`], [`SyncTrigger`]), the poll timer
//! ([`poll`]), the file watcher for local repositories ([`watch`]), the live-object watch
//! that asks for drift checks ([`live`]) and vouches for what it saw ([`live_coverage`]), and webhooks (sync windows, which say when a sync may run, are [`crate::window`]).
//!
//! For webhooks this module holds the pure logic, with no HTTP and no I/O, so the server can
//! stay a thin adapter:
//!
//! - [`verify_and_parse`] checks one request's signature (HMAC-SHA256 or token, compared in
//!   constant time, before any JSON is read) and turns the forge's payload into a
//!   [`WebhookEvent`];
//! - [`normalize_repo_url`] / [`same_repo`] match the push's repository against an app's repo
//!   whatever the URL spelling (ssh, https, scp-like, with credentials or a port);
//! - [`touches_path`] decides whether a push's changed files concern an app's directory.
//!
//! A typical handler: `verify_and_parse` → on `Push`, for each app with
//! `event.matches_repo(&app.repo)`, the app's branch equal to `event.branch()` and
//! `event.touches(&app.path)`, queue a sync; answer 202 with what was queued.

mod kind;
pub mod live;
pub mod live_coverage;
mod live_dispatch;
mod live_tracker;
mod payload;
pub mod poll;
mod repo_url;
mod requests;
pub mod watch;
mod webhook;

pub use kind::{SyncTrigger, TriggerKind};
pub use repo_url::{normalize_repo_url, same_repo};
pub use requests::SyncRequests;
pub use webhook::{verify_and_parse, Forge, PushEvent, WebhookError, WebhookEvent};

/// The largest webhook body the server should accept (1 MiB); enforcing it is the server's job.
/// Push payloads are far smaller unless they list thousands of files, and a delivery over the
/// limit can be answered 413 (the poll still picks the commit up).
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// True when any of `changed_files` (repository-relative paths) lies in the app's manifest
/// directory `app_path`, or is that path itself.
///
/// `""`, `"."` and `"/"` mean the whole repository: true as soon as anything changed. The
/// comparison is by whole path segments (`apps/web` covers `apps/web/x.yaml`, not
/// `apps/webby/x.yaml`) and case-sensitive; leading `./` or `/` and trailing `/` are ignored
/// on both sides. An empty `changed_files` is false.
pub fn touches_path(changed_files: &[String], app_path: &str) -> bool {
    let dir = trim_path(app_path);
    if dir.is_empty() {
        return !changed_files.is_empty();
    }
    changed_files.iter().any(|file| {
        let file = trim_path(file);
        file.strip_prefix(dir)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// Strips leading `./` and `/` (repeatedly) and trailing `/`; `.` alone becomes empty.
fn trim_path(p: &str) -> &str {
    let mut p = p.trim();
    loop {
        if let Some(rest) = p.strip_prefix("./") {
            p = rest;
        } else if let Some(rest) = p.strip_prefix('/') {
            p = rest;
        } else {
            break;
        }
    }
    let p = p.trim_end_matches('/');
    if p == "." {
        ""
    } else {
        p
    }
}

#[cfg(test)]
mod tests;
