//! The [`Notifier`]: one bounded lane per app and target, delivered in order in the
//! background, retried with backoff, every result counted.
//!
//! Order matters for commit statuses (a late `pending` must not overwrite `success`), so a
//! lane sends one request at a time. A status still being retried when a newer one for the
//! same lane is queued is abandoned (`superseded`): only the newest state matters. A full lane
//! drops the new request (`dropped`) rather than wait: a sync never blocks on a notification.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::mpsc;

use super::config::{NotifySpec, Target};
use super::event::{short, SyncEvent};
use super::forge::status_request;
use super::send::{Attempt, OutgoingRequest, Sender};
use super::webhook::webhook_request;

/// Requests one lane holds before it drops new ones.
const LANE_CAPACITY: usize = 64;

/// How often, and how patiently, a transient failure is retried.
#[derive(Debug, Clone, Copy)]
struct RetryPolicy {
    attempts: u32,
    first_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        // 4 tries over about 3.5 s (0.5 s, 1 s, 2 s apart).
        RetryPolicy {
            attempts: 4,
            first_delay: Duration::from_millis(500),
        }
    }
}

/// One request waiting in a lane.
struct Job {
    app: String,
    label: &'static str,
    /// For logs: `gitea status failure on 1a2b3c4d5e6f`.
    what: String,
    request: OutgoingRequest,
    /// A commit status: a newer one in the lane makes this one moot.
    replaceable: bool,
}

#[derive(Default)]
struct Inner {
    sender: OnceLock<Sender>,
    lanes: Mutex<HashMap<(String, usize), mpsc::Sender<Job>>>,
    counts: Mutex<BTreeMap<(String, &'static str, &'static str), u64>>,
    in_flight: AtomicUsize,
    retry: RetryPolicy,
    /// Per app, the last event sent through [`Notifier::notify_once`].
    once: Mutex<HashMap<String, SyncEvent>>,
}

/// Sends sync events to each app's targets in the background. Cheap to clone; clones share
/// the lanes and counters.
#[derive(Clone, Default)]
pub struct Notifier {
    inner: Arc<Inner>,
}

/// One line of `ferry_notifications_total`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationCount {
    /// The app.
    pub app: String,
    /// The target (`gitea`, `github`, `gitlab`, `bitbucket`, `webhook`, `slack`).
    pub target: &'static str,
    /// `sent`, `failed`, `dropped` or `superseded`.
    pub result: &'static str,
    /// How many.
    pub count: u64,
}

impl Notifier {
    /// A notifier with the default retries (4 tries, 0.5 s doubling).
    pub fn new() -> Notifier {
        Notifier::default()
    }

    /// A notifier retrying `attempts` times from `first_delay` (tests).
    pub fn with_retry(attempts: u32, first_delay: Duration) -> Notifier {
        Notifier {
            inner: Arc::new(Inner {
                retry: RetryPolicy {
                    attempts: attempts.max(1),
                    first_delay,
                },
                ..Inner::default()
            }),
        }
    }

    /// Queues `event` for every target of `spec`; returns at once. Must be called inside a
    /// tokio runtime (every sync is).
    pub fn notify(&self, spec: &NotifySpec, event: &SyncEvent) {
        if spec.is_empty() {
            return;
        }
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        for (index, target) in spec.targets.iter().enumerate() {
            let label = target.label();
            let built = match target {
                Target::CommitStatus(status) => status
                    .token
                    .read("the forge token")
                    .and_then(|token| {
                        status_request(status, &token, event, spec.details_url.as_deref())
                    })
                    .map(|r| {
                        r.map(|r| {
                            let state = event.kind.status().map_or("", |(s, _)| s.name());
                            (
                                r,
                                format!("{label} status {state} on {}", short(&event.commit)),
                                true,
                            )
                        })
                    }),
                Target::Webhook(hook) => {
                    let secret = match &hook.secret {
                        Some(s) => s.read("the webhook secret").map(Some),
                        None => Ok(None),
                    };
                    secret.map(|secret| {
                        webhook_request(
                            hook,
                            secret.as_deref(),
                            event,
                            spec.details_url.as_deref(),
                            &at,
                        )
                        .map(|r| {
                            let what = format!(
                                "{label} {} for {}",
                                event.kind.name().wire(),
                                short(&event.commit)
                            );
                            (r, what, false)
                        })
                    })
                }
            };
            match built {
                Ok(None) => {}
                Ok(Some((request, what, replaceable))) => self.enqueue(
                    index,
                    Job {
                        app: event.app.clone(),
                        label,
                        what,
                        request,
                        replaceable,
                    },
                ),
                Err(e) => {
                    tracing::warn!(app = %event.app, target = label, error = %e, "notification not sent");
                    self.count(&event.app, label, "failed");
                }
            }
        }
    }

    /// [`Notifier::notify`], unless the app's previous `notify_once` event was this very one
    /// (a broken commit retried by serve's backoff is told once).
    pub fn notify_once(&self, spec: &NotifySpec, event: &SyncEvent) {
        if let Ok(mut once) = self.inner.once.lock() {
            if once.get(&event.app) == Some(event) {
                return;
            }
            once.insert(event.app.clone(), event.clone());
        }
        self.notify(spec, event);
    }

    fn enqueue(&self, index: usize, job: Job) {
        let key = (job.app.clone(), index);
        let lane = {
            let Ok(mut lanes) = self.inner.lanes.lock() else {
                return;
            };
            lanes
                .entry(key)
                .or_insert_with(|| {
                    let (tx, rx) = mpsc::channel(LANE_CAPACITY);
                    tokio::spawn(run_lane(self.inner.clone(), rx));
                    tx
                })
                .clone()
        };
        self.inner.in_flight.fetch_add(1, Ordering::SeqCst);
        if let Err(e) = lane.try_send(job) {
            self.inner.in_flight.fetch_sub(1, Ordering::SeqCst);
            let job = match e {
                mpsc::error::TrySendError::Full(j) | mpsc::error::TrySendError::Closed(j) => j,
            };
            tracing::warn!(app = %job.app, target = job.label, notification = %job.what,
                "notification dropped: {LANE_CAPACITY} are already waiting for this target");
            self.count(&job.app, job.label, "dropped");
        }
    }

    fn count(&self, app: &str, target: &'static str, result: &'static str) {
        count(&self.inner, app, target, result);
    }

    /// Every counter, sorted by app, target and result.
    pub fn counts(&self) -> Vec<NotificationCount> {
        let Ok(counts) = self.inner.counts.lock() else {
            return Vec::new();
        };
        counts
            .iter()
            .map(|((app, target, result), n)| NotificationCount {
                app: app.clone(),
                target,
                result,
                count: *n,
            })
            .collect()
    }

    /// Waits until every queued notification was delivered or given up, at most `timeout`;
    /// false when some were still waiting. A command that exits after one sync calls it.
    pub async fn flush(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.inner.in_flight.load(Ordering::SeqCst) > 0 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }
}

fn count(inner: &Inner, app: &str, target: &'static str, result: &'static str) {
    if let Ok(mut counts) = inner.counts.lock() {
        *counts.entry((app.to_string(), target, result)).or_default() += 1;
    }
}

async fn run_lane(inner: Arc<Inner>, mut rx: mpsc::Receiver<Job>) {
    while let Some(job) = rx.recv().await {
        let result = deliver(&inner, &job, &rx).await;
        count(&inner, &job.app, job.label, result);
        inner.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn deliver(inner: &Inner, job: &Job, lane: &mpsc::Receiver<Job>) -> &'static str {
    let sender = inner.sender.get_or_init(Sender::new);
    let mut delay = inner.retry.first_delay;
    for attempt in 1..=inner.retry.attempts {
        match sender.send(&job.request).await {
            Attempt::Sent => {
                tracing::debug!(app = %job.app, target = job.label, notification = %job.what, attempt, "notification sent");
                return "sent";
            }
            Attempt::GiveUp(why) => {
                tracing::warn!(app = %job.app, target = job.label, notification = %job.what,
                    error = %why, "notification refused; not retried");
                return "failed";
            }
            Attempt::Retry(why) if attempt == inner.retry.attempts => {
                tracing::warn!(app = %job.app, target = job.label, notification = %job.what,
                    error = %why, attempts = attempt, "notification not delivered; giving up");
                return "failed";
            }
            Attempt::Retry(why) => {
                if job.replaceable && !lane.is_empty() {
                    tracing::info!(app = %job.app, target = job.label, notification = %job.what,
                        error = %why, "notification not delivered; a newer status replaces it");
                    return "superseded";
                }
                tracing::info!(app = %job.app, target = job.label, notification = %job.what,
                    error = %why, attempt, retry_in_ms = delay.as_millis() as u64, "notification failed; retrying");
                tokio::time::sleep(delay).await;
                delay = delay.saturating_mul(2).min(Duration::from_secs(30));
            }
        }
    }
    "failed"
}
