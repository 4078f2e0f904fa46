//! `/metrics` in the Prometheus text exposition format (version 0.0.4).

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::ServerState;
use crate::reconcile::slots::SyncPriority;
use crate::reconcile::worker::AppStatus;

/// Upper bounds (seconds) of the sync duration histogram.
const BUCKETS: &[f64] = &[
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

/// Escapes a label value.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Renders every metric.
pub async fn metrics(State(state): State<Arc<ServerState>>) -> impl IntoResponse {
    let mut out = String::new();
    let statuses: Vec<_> = state.apps.iter().map(|(_, h)| h.status()).collect();

    family(
        &mut out,
        "ferry_syncs_total",
        "counter",
        "Syncs that ran, by app and outcome.",
    );
    for s in &statuses {
        for (outcome, n) in &s.syncs_by_outcome {
            let _ = writeln!(
                out,
                "ferry_syncs_total{{app=\"{}\",outcome=\"{}\"}} {n}",
                label(&s.name),
                label(outcome)
            );
        }
    }
    family(
        &mut out,
        "ferry_triggers_total",
        "counter",
        "Sync requests received, by app and trigger (poll, webhook, manual, watch, drift).",
    );
    for s in &statuses {
        for (trigger, n) in &s.triggers {
            let _ = writeln!(
                out,
                "ferry_triggers_total{{app=\"{}\",trigger=\"{}\"}} {n}",
                label(&s.name),
                label(trigger)
            );
        }
    }
    histogram(
        &mut out,
        "ferry_sync_duration_seconds",
        "Duration of syncs that applied something (gates included).",
        statuses
            .iter()
            .map(|s| (s.name.as_str(), s.sync_durations.as_slice())),
    );
    histogram(
        &mut out,
        "ferry_gate_duration_seconds",
        "How long rollout gates waited for a workload.",
        statuses
            .iter()
            .map(|s| (s.name.as_str(), s.gate_durations.as_slice())),
    );

    family(
        &mut out,
        "ferry_synced_commit_info",
        "gauge",
        "The commit each app last synced successfully.",
    );
    for s in &statuses {
        if let Some(sha) = &s.synced_commit {
            let _ = writeln!(
                out,
                "ferry_synced_commit_info{{app=\"{}\",commit=\"{}\"}} 1",
                label(&s.name),
                label(sha)
            );
        }
    }

    if let Some(notifier) = &state.notifier {
        family(
            &mut out,
            "ferry_notifications_total",
            "counter",
            "Commit statuses and webhooks, by app, target and result (sent, failed, dropped, superseded).",
        );
        for n in notifier.counts() {
            let _ = writeln!(
                out,
                "ferry_notifications_total{{app=\"{}\",target=\"{}\",result=\"{}\"}} {}",
                label(&n.app),
                n.target,
                n.result,
                n.count
            );
        }
    }

    per_app(
        &mut out,
        "ferry_git_fetch_errors_total",
        "counter",
        "Failed git fetches, by app.",
        &statuses,
        |s| s.fetch_errors,
    );
    per_app(
        &mut out,
        "ferry_drifted_objects",
        "gauge",
        "Objects whose live state differs from the synced commit.",
        &statuses,
        |s| s.drift.len() as u64,
    );
    per_app(
        &mut out,
        "ferry_self_heals_total",
        "counter",
        "Syncs run to correct drift.",
        &statuses,
        |s| s.self_heals,
    );
    per_app(
        &mut out,
        "ferry_drift_checks_total",
        "counter",
        "Plans of the synced commit against the live objects.",
        &statuses,
        |s| s.drift_checks,
    );
    per_app(
        &mut out,
        "ferry_drift_checks_skipped_total",
        "counter",
        "Polls that trusted the live watch instead of planning (nothing changed since the last clean check).",
        &statuses,
        |s| s.drift_checks_skipped,
    );
    per_app(
        &mut out,
        "ferry_app_ready",
        "gauge",
        "1 once the app completed a reconcile attempt.",
        &statuses,
        |s| u64::from(s.attempted),
    );

    family(
        &mut out,
        "ferry_rollout_step",
        "gauge",
        "The step a staged rollout of a running sync is on (1-based), per object.",
    );
    for s in &statuses {
        for (object, step) in &s.rollout_steps {
            let _ = writeln!(
                out,
                "ferry_rollout_step{{app=\"{}\",object=\"{}\",of=\"{}\"}} {}",
                label(&s.name),
                label(object),
                step.of,
                step.step
            );
        }
    }

    sharding(&mut out, &state);
    sync_slots(&mut out, &state, &statuses);
    family(
        &mut out,
        "ferry_live_watches",
        "gauge",
        "Metadata watches of managed objects held now (one per watched kind, shared by all apps).",
    );
    let _ = writeln!(
        out,
        "ferry_live_watches {}",
        crate::trigger::live::live_watches()
    );
    family(
        &mut out,
        "ferry_webhook_body_bytes",
        "gauge",
        "Bytes of webhook request bodies held in memory now (all requests).",
    );
    let _ = writeln!(
        out,
        "ferry_webhook_body_bytes {}",
        super::limits::buffered_bytes(&state.limits, &state.body_budget)
    );
    family(
        &mut out,
        "ferry_webhook_requests_total",
        "counter",
        "Webhook requests, by forge and result.",
    );
    // A poisoned lock (a panic while it was held) leaves these series out of this scrape.
    if let Ok(counts) = state.webhook_requests.lock() {
        for ((forge, result), n) in counts.iter() {
            let _ = writeln!(
                out,
                "ferry_webhook_requests_total{{forge=\"{}\",result=\"{}\"}} {n}",
                label(forge),
                label(result)
            );
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
}

/// The sync slots: how many syncs may run, run and wait now.
/// With `--shards`: the shards held here and the live replicas this one sees.
fn sharding(out: &mut String, state: &ServerState) {
    let Some(router) = &state.router else {
        return;
    };
    let snapshot = router.table().snapshot();
    family(
        out,
        "ferry_shards_held",
        "gauge",
        "Shards whose Lease this replica holds and whose apps it syncs (--shards).",
    );
    let _ = writeln!(out, "ferry_shards_held {}", snapshot.held_here.len());
    family(
        out,
        "ferry_shard_replicas",
        "gauge",
        "Live replicas this one sees sharing the apps (its own included).",
    );
    let _ = writeln!(out, "ferry_shard_replicas {}", snapshot.replicas.len());
}

fn sync_slots(out: &mut String, state: &ServerState, statuses: &[AppStatus]) {
    family(
        out,
        "ferry_syncs_running",
        "gauge",
        "Apps running a sync attempt now (each holds a sync slot).",
    );
    // With a pool, one atomic read: collecting the apps' flags one by one could count an app
    // that just finished and the one that took its slot.
    let running = match &state.sync_slots {
        Some(slots) => slots.attempts_running(),
        None => statuses.iter().filter(|s| s.syncing).count(),
    };
    let _ = writeln!(out, "ferry_syncs_running {running}");
    let Some(slots) = &state.sync_slots else {
        return;
    };
    family(
        out,
        "ferry_sync_slots",
        "gauge",
        "Syncs that may run at once (--max-concurrent-syncs).",
    );
    let _ = writeln!(out, "ferry_sync_slots {}", slots.limit());
    family(
        out,
        "ferry_syncs_waiting",
        "gauge",
        "Sync requests waiting for a slot, by priority (triggered: webhook, manual, file \
         watch; background: first sync, poll, drift, retry).",
    );
    for priority in [SyncPriority::Triggered, SyncPriority::Background] {
        let _ = writeln!(
            out,
            "ferry_syncs_waiting{{priority=\"{}\"}} {}",
            priority.as_str(),
            slots.waiting(priority)
        );
    }
}

/// Writes a family's `# HELP` and `# TYPE` lines.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Writes a family with one `{app="…"}` sample per app.
fn per_app(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    statuses: &[AppStatus],
    value: impl Fn(&AppStatus) -> u64,
) {
    family(out, name, kind, help);
    for s in statuses {
        let _ = writeln!(out, "{name}{{app=\"{}\"}} {}", label(&s.name), value(s));
    }
}

/// Writes one histogram family, one series per app.
fn histogram<'a>(
    out: &mut String,
    name: &str,
    help: &str,
    series: impl Iterator<Item = (&'a str, &'a [f64])>,
) {
    family(out, name, "histogram", help);
    for (app, values) in series {
        let app = label(app);
        for bound in BUCKETS {
            let n = values.iter().filter(|d| **d <= *bound).count();
            let _ = writeln!(out, "{name}_bucket{{app=\"{app}\",le=\"{bound}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{app=\"{app}\",le=\"+Inf\"}} {}",
            values.len()
        );
        let _ = writeln!(
            out,
            "{name}_sum{{app=\"{app}\"}} {}",
            values.iter().sum::<f64>()
        );
        let _ = writeln!(out, "{name}_count{{app=\"{app}\"}} {}", values.len());
    }
}
