//! `/metrics` in the Prometheus text exposition format (version 0.0.4).

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use super::ServerState;

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

    let _ = writeln!(
        out,
        "# HELP ferry_syncs_total Syncs that ran, by app and outcome."
    );
    let _ = writeln!(out, "# TYPE ferry_syncs_total counter");
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

    let _ = writeln!(out, "# HELP ferry_sync_duration_seconds Duration of syncs that applied something (gates included).");
    let _ = writeln!(out, "# TYPE ferry_sync_duration_seconds histogram");
    for s in &statuses {
        let app = label(&s.name);
        for bound in BUCKETS {
            let n = s.sync_durations.iter().filter(|d| **d <= *bound).count();
            let _ = writeln!(
                out,
                "ferry_sync_duration_seconds_bucket{{app=\"{app}\",le=\"{bound}\"}} {n}"
            );
        }
        let total: f64 = s.sync_durations.iter().sum();
        let _ = writeln!(
            out,
            "ferry_sync_duration_seconds_bucket{{app=\"{app}\",le=\"+Inf\"}} {}",
            s.sync_durations.len()
        );
        let _ = writeln!(
            out,
            "ferry_sync_duration_seconds_sum{{app=\"{app}\"}} {total}"
        );
        let _ = writeln!(
            out,
            "ferry_sync_duration_seconds_count{{app=\"{app}\"}} {}",
            s.sync_durations.len()
        );
    }

    histogram(
        &mut out,
        "ferry_gate_duration_seconds",
        "How long rollout gates waited for a workload.",
        statuses
            .iter()
            .map(|s| (s.name.as_str(), s.gate_durations.as_slice())),
    );

    let _ = writeln!(
        out,
        "# HELP ferry_synced_commit_info The commit each app last synced successfully."
    );
    let _ = writeln!(out, "# TYPE ferry_synced_commit_info gauge");
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

    let _ = writeln!(
        out,
        "# HELP ferry_git_fetch_errors_total Failed git fetches, by app."
    );
    let _ = writeln!(out, "# TYPE ferry_git_fetch_errors_total counter");
    for s in &statuses {
        let _ = writeln!(
            out,
            "ferry_git_fetch_errors_total{{app=\"{}\"}} {}",
            label(&s.name),
            s.fetch_errors
        );
    }

    let _ = writeln!(
        out,
        "# HELP ferry_drifted_objects Objects whose live state differs from the synced commit."
    );
    let _ = writeln!(out, "# TYPE ferry_drifted_objects gauge");
    for s in &statuses {
        let _ = writeln!(
            out,
            "ferry_drifted_objects{{app=\"{}\"}} {}",
            label(&s.name),
            s.drift.len()
        );
    }
    let _ = writeln!(
        out,
        "# HELP ferry_self_heals_total Syncs run to correct drift."
    );
    let _ = writeln!(out, "# TYPE ferry_self_heals_total counter");
    for s in &statuses {
        let _ = writeln!(
            out,
            "ferry_self_heals_total{{app=\"{}\"}} {}",
            label(&s.name),
            s.self_heals
        );
    }
    let _ = writeln!(
        out,
        "# HELP ferry_app_ready 1 once the app completed a reconcile attempt."
    );
    let _ = writeln!(out, "# TYPE ferry_app_ready gauge");
    for s in &statuses {
        let _ = writeln!(
            out,
            "ferry_app_ready{{app=\"{}\"}} {}",
            label(&s.name),
            u8::from(s.attempted)
        );
    }

    let _ = writeln!(
        out,
        "# HELP ferry_webhook_requests_total Webhook requests, by forge and result."
    );
    let _ = writeln!(out, "# TYPE ferry_webhook_requests_total counter");
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

/// Writes one histogram family, one series per app.
fn histogram<'a>(
    out: &mut String,
    name: &str,
    help: &str,
    series: impl Iterator<Item = (&'a str, &'a [f64])>,
) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} histogram");
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
