//! Writing the rollout gates' outcomes into a sync's history record.

use crate::history::{GateVerdict, RecordedStep, SyncRecord};
use crate::rollout::{GateOutcome, GateResult};
use crate::source::short_sha;

/// Records each gate on its object: the ControllerRevision number and the verdict.
pub(super) fn record_gates(record: &mut SyncRecord, gates: &[GateOutcome]) {
    for gate in gates {
        let kind = gate.target.kind.as_str();
        if let Some(object) =
            record.object_mut(kind, Some(&gate.target.namespace), &gate.target.name)
        {
            object.revision = gate.revision;
            object.record_gate(verdict(&gate.result));
            object.steps = gate
                .steps
                .iter()
                .map(|s| RecordedStep {
                    step: s.step,
                    of: s.of,
                    covers: s.covers.clone(),
                    result: s.result.clone(),
                    millis: u64::try_from(s.elapsed.as_millis()).unwrap_or(u64::MAX),
                })
                .collect();
        }
    }
}

/// The verdict history stores for a gate's result. The texts are history's wire format
/// (see [`GateVerdict`]): they match what ferry has always stored, whatever
/// [`GateResult::text`] prints.
pub(super) fn verdict(result: &GateResult) -> GateVerdict {
    match result {
        GateResult::Healthy { message, .. } => GateVerdict::Passed(format!("healthy: {message}")),
        GateResult::Failed {
            reason, message, ..
        } if !message.contains(reason.as_str()) => {
            GateVerdict::Failed(format!("{reason}: {message}"))
        }
        GateResult::Failed { message, .. } => GateVerdict::Failed(message.clone()),
        GateResult::TimedOut { message, elapsed } => {
            GateVerdict::Failed(format!("timed out after {}s: {message}", elapsed.as_secs()))
        }
        GateResult::Skipped { reason } => GateVerdict::Skipped(reason.clone()),
        GateResult::Superseded {
            by,
            message,
            elapsed,
        } => GateVerdict::Superseded(format!(
            "by {} after {}s: {message}",
            short_sha(by),
            elapsed.as_secs()
        )),
        GateResult::Interrupted {
            reason,
            message,
            elapsed,
        } => GateVerdict::Interrupted(format!("after {}s: {reason}: {message}", elapsed.as_secs())),
    }
}

#[cfg(test)]
#[path = "gate_verdict_tests.rs"]
mod tests;
