//! One app loop's handle (request syncs, read status) and the status it reports for
//! `/api/apps`, `/readyz`, `/metrics` and the web UI. Every status change and gate event is
//! also sent to the handle's [`StatusFeed`], which the UI streams live.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;

use super::feed::{ChangeKind, StatusFeed};
use super::SyncReport;
use crate::config::AppSpec;
use crate::trigger::{SyncRequests, TriggerKind};

/// What one app is doing, for `/api/apps`, `/readyz` and `/metrics`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppStatus {
    /// App name.
    pub name: String,
    /// Repository as shown to users.
    pub repo: String,
    /// With `--shards`: the app's shard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<u32>,
    /// With `--shards`: the replica holding the app's shard (`None` while nobody does). Only
    /// that replica's status of the app is current.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// True once the app has completed one reconcile attempt (successful or not).
    pub attempted: bool,
    /// True while a sync runs.
    pub syncing: bool,
    /// True while a sync request waits for one of the server's sync slots.
    pub waiting_for_slot: bool,
    /// The commit last synced successfully (sha).
    pub synced_commit: Option<String>,
    /// Its subject.
    pub synced_subject: Option<String>,
    /// Its author.
    pub synced_author: Option<String>,
    /// Its commit time (RFC 3339).
    pub synced_commit_time: Option<String>,
    /// The newest commit seen on the tracked ref.
    pub head_commit: Option<String>,
    /// The branch followed (resolved from the remote's HEAD when not configured).
    pub tracked_branch: Option<String>,
    /// Outcome of the last sync that did something ("succeeded", "gate-failed", …).
    pub last_outcome: Option<String>,
    /// When the last attempt finished (RFC 3339).
    pub last_attempt_at: Option<String>,
    /// Why the last sync that did something did not succeed (its record's outcome with the
    /// reason, e.g. `gate-failed: DaemonSet ns/a: …`); `None` after a success.
    pub last_reason: Option<String>,
    /// The last error, if the last attempt failed.
    pub last_error: Option<String>,
    /// What the last requested action (a rollback from the UI or API) came to when it wrote
    /// nothing, e.g. "nothing to roll back: …".
    pub notice: Option<String>,
    /// Consecutive failed attempts (drives backoff).
    pub consecutive_failures: u32,
    /// Per object of the last sync: "Kind ns/name" → action/result.
    pub objects: BTreeMap<String, String>,
    /// Syncs that ran, by outcome label.
    pub syncs_by_outcome: BTreeMap<String, u64>,
    /// Durations (seconds) of syncs that ran, for the histogram.
    #[serde(skip)]
    pub sync_durations: Vec<f64>,
    /// How long rollout gates waited (seconds), for the histogram.
    #[serde(skip)]
    pub gate_durations: Vec<f64>,
    /// Git fetch errors so far.
    pub fetch_errors: u64,
    /// Triggers received, by kind.
    pub triggers: BTreeMap<String, u64>,
    /// Objects whose live state differs from the last synced commit ("Kind ns/name" →
    /// changed fields), from the latest drift check.
    pub drift: BTreeMap<String, Vec<String>>,
    /// Self-heal syncs run so far.
    pub self_heals: u64,
    /// Drift checks run so far (plans of the synced commit against the live objects).
    pub drift_checks: u64,
    /// Polls of the synced commit that skipped the drift check because the live watch had
    /// seen every kind of the app without a gap since the last clean check.
    pub drift_checks_skipped: u64,
    /// Why the last detected drift was not healed (self-heal off, or rate-limited).
    pub drift_note: Option<String>,
    /// Set while a sync window keeps the app from applying (why).
    pub window_blocked: Option<String>,
    /// Changes planned but held back by a sync window.
    pub pending_changes: usize,
    /// Set (to the commit applied instead) while the cluster runs the failing commit's parent
    /// because the remote refused the policy's revert; self-heal waits until the branch moves,
    /// so it never re-applies the failing commit.
    pub fallback_commit: Option<String>,
    /// Staged rollouts of the running sync: "Kind ns/name" → the step in progress.
    pub rollout_steps: BTreeMap<String, RolloutStepStatus>,
    /// The gates of the running (or, once it ended, the last) sync: "Kind ns/name" → the
    /// latest gate event.
    pub rollout: BTreeMap<String, GateProgress>,
    /// For an app rendered by kustomize or helm: the repository files its last successful
    /// render could read, so a push that changes none of them is not the app's (a commit
    /// that starts reading more files changes a file already read: its kustomization).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub render_reads: Option<crate::render::ReadSet>,
}

/// Where one staged rollout of a running sync stands.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutStepStatus {
    /// The step in progress, 1-based.
    pub step: u32,
    /// How many steps the rollout has.
    pub of: u32,
    /// The gate's state (`progressing`, `soaking`, `eviction-blocked`…).
    pub state: String,
    /// The gate's last message.
    pub message: String,
}

/// The latest gate event of one workload, for the UI's rollout view.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GateProgress {
    /// The gate's state (`progressing`, `healthy`, `failed`…).
    pub state: crate::rollout::GateState,
    /// The gate's message.
    pub message: String,
    /// Seconds since the gate started.
    pub elapsed_seconds: f64,
    /// A staged rollout's step in progress.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<crate::rollout::StepMark>,
}

/// A handle to a running app loop: request syncs, read status.
#[derive(Clone)]
pub struct AppHandle {
    pub(super) requests: SyncRequests,
    status: Arc<Mutex<AppStatus>>,
    name: Arc<str>,
    feed: StatusFeed,
}

impl AppHandle {
    /// A handle for `app`'s loop, with a first sync (a poll) already requested, whose changes
    /// go to `feed`.
    pub(super) fn new(app: &AppSpec, feed: &StatusFeed) -> AppHandle {
        AppHandle {
            requests: SyncRequests::new(&app.name, Some(TriggerKind::Poll)),
            status: Arc::new(Mutex::new(AppStatus {
                name: app.name.clone(),
                repo: app.location.display(),
                ..Default::default()
            })),
            name: Arc::from(app.name.as_str()),
            feed: feed.clone(),
        }
    }

    /// Where the app's changes are sent.
    pub fn feed(&self) -> &StatusFeed {
        &self.feed
    }

    /// The app's name.
    pub fn name(&self) -> &str {
        self.requests.app()
    }

    /// Requests a sync. Requests made while one is pending or running coalesce into one.
    pub fn trigger(&self, kind: TriggerKind) {
        self.requests.request(kind);
    }

    /// Where triggers (poll timer, file watcher, live watch) send this app's sync requests.
    pub fn requests(&self) -> SyncRequests {
        self.requests.clone()
    }

    /// A snapshot of the app's status.
    pub fn status(&self) -> AppStatus {
        let mut status = self.status.lock().map(|s| s.clone()).unwrap_or_default();
        status.triggers = self
            .requests
            .received()
            .into_iter()
            .map(|(trigger, count)| (trigger.to_string(), count))
            .collect();
        status
    }
}

/// Changes the app's status and tells the feed.
pub(super) fn set(handle: &AppHandle, f: impl FnOnce(&mut AppStatus)) {
    // A poisoned lock (a panic while it was held) skips this status update, as everywhere in
    // this file: the status is a display, and the sync itself goes on.
    if let Ok(mut s) = handle.status.lock() {
        f(&mut s);
    }
    handle.feed.send(&handle.name, ChangeKind::Status);
}

/// Shows one gate event: in the status (the rollout view, staged steps) and on the feed.
pub(super) fn show_gate_event(handle: &AppHandle, event: &crate::rollout::GateEvent) {
    let key = event.target.to_string();
    handle
        .feed
        .send(&handle.name, ChangeKind::Gate(event.clone()));
    set(handle, |s| {
        s.rollout.insert(
            key.clone(),
            GateProgress {
                state: event.state,
                message: event.message.clone(),
                elapsed_seconds: event.elapsed.as_secs_f64(),
                step: event.step,
            },
        );
        match event.step {
            Some(mark) => {
                let state = serde_json::to_value(event.state)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default();
                s.rollout_steps.insert(
                    key,
                    RolloutStepStatus {
                        step: mark.step,
                        of: mark.of,
                        state,
                        message: event.message.clone(),
                    },
                );
            }
            None => {
                s.rollout_steps.remove(&key);
            }
        }
    });
}

/// Folds one sync's report into the app's status.
pub(super) fn show_report(handle: &AppHandle, report: &SyncReport, started: Instant) {
    let commit = report.plan.commit.clone();
    let outcome = match &report.record {
        Some(r) => r.outcome.label().to_string(),
        None => "unchanged".to_string(),
    };
    let succeeded = report.succeeded();
    set(handle, |s| {
        *s.syncs_by_outcome.entry(outcome.clone()).or_default() += 1;
        s.gate_durations.extend(
            report
                .gates
                .iter()
                .filter_map(super::super::rollout::GateOutcome::elapsed)
                .map(|d| d.as_secs_f64()),
        );
        if let Some(record) = &report.record {
            s.sync_durations.push(started.elapsed().as_secs_f64());
            s.last_outcome = Some(outcome.clone());
            s.last_reason = (!succeeded).then(|| record.outcome.describe());
        }
        // Every report read its commit: a plain read clears what an earlier render read.
        s.render_reads = report.plan.rendered.as_ref().map(|r| r.reads.clone());
        s.objects = report
            .plan
            .changes
            .iter()
            .map(|c| (c.key.to_string(), c.action.verb().to_string()))
            .collect();
        if let Some(record) = &report.record {
            for o in &record.objects {
                let key = crate::manifest::object_name(&o.kind, o.namespace.as_deref(), &o.name);
                s.objects.insert(key, o.result.to_string());
            }
        }
        if succeeded {
            s.synced_commit = Some(commit.sha.clone());
            s.synced_subject = Some(commit.subject.clone());
            s.synced_author = Some(commit.author.clone());
            s.synced_commit_time = Some(commit.time.to_rfc3339());
            s.drift.clear();
            s.drift_note = None;
        }
    });
}
