use std::time::Duration;

use super::*;

/// What the gate field held before it was typed: the gate's text, with `failed: ` put in
/// front of a failure (after stripping the one the text already had).
fn stored_before(result: &GateResult) -> String {
    match result {
        GateResult::Healthy { .. }
        | GateResult::Skipped { .. }
        | GateResult::Superseded { .. }
        | GateResult::Interrupted { .. } => result.text(),
        _ => format!("failed: {}", result.text().trim_start_matches("failed: ")),
    }
}

#[test]
fn verdicts_store_the_text_ferry_always_stored() {
    let elapsed = Duration::from_millis(9400);
    let results = [
        GateResult::Healthy {
            message: "3/3 nodes updated and available".into(),
            elapsed,
        },
        GateResult::Failed {
            reason: "ImagePullBackOff".into(),
            message: "ImagePullBackOff on pod a-1 (node n0)".into(),
            pod: Some("a-1".into()),
            node: Some("n0".into()),
            elapsed,
        },
        GateResult::Failed {
            reason: "BackoffLimitExceeded".into(),
            message: "Job has reached the specified backoff limit".into(),
            pod: None,
            node: None,
            elapsed,
        },
        GateResult::TimedOut {
            message: "1/3 replicas updated".into(),
            elapsed,
        },
        GateResult::Skipped {
            reason: "Job is suspended".into(),
        },
        GateResult::Superseded {
            by: "5".repeat(40),
            message: "1/3 nodes updated".into(),
            elapsed,
        },
        GateResult::Interrupted {
            reason: "shutting down".into(),
            message: "2/3 nodes updated".into(),
            elapsed,
        },
    ];
    for result in &results {
        let verdict = verdict(result);
        assert_eq!(verdict.to_string(), stored_before(result), "{result:?}");
        let failed = matches!(
            result,
            GateResult::Failed { .. } | GateResult::TimedOut { .. }
        );
        assert_eq!(matches!(verdict, GateVerdict::Failed(_)), failed);
    }
}
