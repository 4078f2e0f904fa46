//! What the pages show of an app, derived once from its status: the sync state, the health
//! with its reason, ages and the next poll. Typed here so every page, the badge and the live
//! updates say the same thing.

use chrono::{DateTime, Utc};

use crate::config::AppSpec;
use crate::reconcile::worker::AppStatus;
use crate::source::{short_sha, GitRef};

/// Where an app's sync stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncState {
    /// The synced commit is the branch head and nothing drifted.
    Synced,
    /// The head is not synced yet, or live objects drifted from git.
    OutOfSync,
    /// A sync is running (or waiting for a slot).
    Syncing,
    /// A sync window keeps the app from applying.
    WindowClosed,
    /// The last attempt failed.
    Error,
    /// No attempt has finished yet.
    Unknown,
}

impl SyncState {
    /// Every state, in the order the filter lists them.
    pub const ALL: [SyncState; 6] = [
        SyncState::Synced,
        SyncState::OutOfSync,
        SyncState::Syncing,
        SyncState::WindowClosed,
        SyncState::Error,
        SyncState::Unknown,
    ];

    /// The word shown and used in `?state=` filters.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::Synced => "synced",
            SyncState::OutOfSync => "out-of-sync",
            SyncState::Syncing => "syncing",
            SyncState::WindowClosed => "window-closed",
            SyncState::Error => "error",
            SyncState::Unknown => "unknown",
        }
    }

    /// The colour class of the state.
    pub fn tone(self) -> Tone {
        match self {
            SyncState::Synced => Tone::Good,
            SyncState::OutOfSync | SyncState::WindowClosed => Tone::Warn,
            SyncState::Syncing => Tone::Busy,
            SyncState::Error => Tone::Bad,
            SyncState::Unknown => Tone::Neutral,
        }
    }
}

/// How an app's workloads are doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthState {
    /// The last sync's gates passed.
    Healthy,
    /// A rollout is under way.
    Progressing,
    /// The last sync failed a gate or an apply.
    Degraded,
    /// Nothing synced yet.
    Unknown,
}

impl HealthState {
    /// The word shown and used in `?state=` filters.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Healthy => "healthy",
            HealthState::Progressing => "progressing",
            HealthState::Degraded => "degraded",
            HealthState::Unknown => "unknown",
        }
    }

    /// The colour class of the state.
    pub fn tone(self) -> Tone {
        match self {
            HealthState::Healthy => Tone::Good,
            HealthState::Progressing => Tone::Busy,
            HealthState::Degraded => Tone::Bad,
            HealthState::Unknown => Tone::Neutral,
        }
    }
}

/// The colour a state is shown in (a CSS class).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Green.
    Good,
    /// Amber.
    Warn,
    /// Blue.
    Busy,
    /// Red.
    Bad,
    /// Grey.
    Neutral,
}

impl Tone {
    /// The CSS class.
    pub fn class(self) -> &'static str {
        match self {
            Tone::Good => "good",
            Tone::Warn => "warn",
            Tone::Busy => "busy",
            Tone::Bad => "bad",
            Tone::Neutral => "neutral",
        }
    }

    /// The badge colour (works on both themes: the badge is an image in someone's README).
    pub fn badge_colour(self) -> &'static str {
        match self {
            Tone::Good => "#2e7d32",
            Tone::Warn => "#b26a00",
            Tone::Busy => "#1565c0",
            Tone::Bad => "#c62828",
            Tone::Neutral => "#616161",
        }
    }
}

/// One app as the pages show it.
#[derive(Debug, Clone)]
pub struct AppView {
    /// The status it was derived from.
    pub status: AppStatus,
    /// The sync state.
    pub sync: SyncState,
    /// The health.
    pub health: HealthState,
    /// Why it is degraded, in error or out of sync (None: nothing to say).
    pub reason: Option<String>,
    /// `branch`, `tag v1`, `commit abc1234` or `default branch`.
    pub reference: String,
    /// The directory in the repository.
    pub path: String,
    /// Seconds until the next poll is due (0: due now), from the last attempt and interval.
    pub next_poll_in: Option<i64>,
}

impl AppView {
    /// The view of `status` for `spec`'s app at `now`.
    pub fn new(spec: &AppSpec, status: AppStatus, now: DateTime<Utc>) -> AppView {
        let gates_running = status.rollout.values().any(|g| !g.state.is_final());
        let sync = if status.syncing || status.waiting_for_slot {
            SyncState::Syncing
        } else if status.window_blocked.is_some() {
            SyncState::WindowClosed
        } else if status.last_error.is_some() {
            SyncState::Error
        } else if !status.attempted {
            SyncState::Unknown
        } else if status.head_commit.is_some() && status.head_commit != status.synced_commit
            || !status.drift.is_empty()
        {
            SyncState::OutOfSync
        } else {
            SyncState::Synced
        };
        let degraded = matches!(
            status.last_outcome.as_deref(),
            Some("gate-failed" | "failed" | "invalid")
        ) && status.last_reason.is_some();
        let health = if gates_running && status.syncing {
            HealthState::Progressing
        } else if degraded {
            HealthState::Degraded
        } else if status.synced_commit.is_some() {
            HealthState::Healthy
        } else {
            HealthState::Unknown
        };
        let reason = match (sync, health) {
            (_, HealthState::Degraded) => status.last_reason.clone(),
            (SyncState::Error, _) => status.last_error.clone(),
            (SyncState::WindowClosed, _) => status.window_blocked.clone(),
            (SyncState::OutOfSync, _) if !status.drift.is_empty() => Some(format!(
                "{} object(s) drifted from git{}",
                status.drift.len(),
                status
                    .drift_note
                    .as_ref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default()
            )),
            (SyncState::Syncing, _) if status.waiting_for_slot => {
                Some("waiting for a sync slot".to_string())
            }
            _ => None,
        };
        let reference = match &spec.reference {
            GitRef::Head => status
                .tracked_branch
                .clone()
                .unwrap_or_else(|| "default branch".to_string()),
            GitRef::Branch(b) => b.clone(),
            GitRef::Tag(t) => format!("tag {t}"),
            GitRef::Commit(c) => format!("commit {}", short_sha(c)),
        };
        let next_poll_in = status
            .last_attempt_at
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|last| {
                let due = last.with_timezone(&Utc)
                    + chrono::Duration::from_std(spec.interval).unwrap_or_default();
                (due - now).num_seconds().max(0)
            });
        AppView {
            status,
            sync,
            health,
            reason,
            reference,
            path: if spec.select.path.is_empty() {
                ".".to_string()
            } else {
                spec.select.path.clone()
            },
            next_poll_in,
        }
    }

    /// True when `query` (lowercase) is in the app's name, repository, branch, path, commit
    /// or subject, and `state` (if any) is its sync state or health.
    pub fn matches(&self, query: &str, state: Option<&str>) -> bool {
        let s = &self.status;
        let text = query.is_empty()
            || [
                Some(s.name.as_str()),
                Some(s.repo.as_str()),
                Some(self.reference.as_str()),
                Some(self.path.as_str()),
                s.synced_commit.as_deref(),
                s.synced_subject.as_deref(),
            ]
            .into_iter()
            .flatten()
            .any(|field| field.to_lowercase().contains(query));
        let state_ok = state.is_none_or(|st| {
            st.is_empty() || st == self.sync.as_str() || st == self.health.as_str()
        });
        text && state_ok
    }
}

/// `42s`, `5m`, `3h`, `2d`: how long ago `time` (RFC 3339) was, or `None` if it doesn't parse.
pub fn age(time: &str, now: DateTime<Utc>) -> Option<String> {
    let then = DateTime::parse_from_rfc3339(time).ok()?;
    Some(duration_words(
        (now - then.with_timezone(&Utc)).num_seconds(),
    ))
}

/// `42s`, `5m`, `3h`, `2d` for a number of seconds.
pub fn duration_words(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m", s / 60),
        7200..=172_799 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}
