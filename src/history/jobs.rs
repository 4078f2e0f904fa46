//! Jobs remembered by spec hash: a Job that completed with the same spec in git is never run
//! again, even after its `ttlSecondsAfterFinished` removed it from the cluster.

use std::collections::HashSet;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::record::SyncRecord;
use super::values::{GateVerdict, RecordedResult};

/// Hash of a Job's desired `spec` (as written in git, not the live object): sha256 of its
/// canonical JSON (object keys sorted at every level), first 16 hex digits. Metadata (labels,
/// ferry's commit annotation) is not part of it, so only a change to what the Job runs
/// changes the hash. A manifest without `spec` hashes `null`.
pub fn job_spec_hash(job_manifest: &Value) -> String {
    let spec = job_manifest.get("spec").unwrap_or(&Value::Null);
    let mut canonical = String::new();
    write_canonical(spec, &mut canonical);
    let digest = Sha256::digest(canonical.as_bytes());
    let mut hex = hex::encode(digest);
    hex.truncate(16);
    hex
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(key) {
                    write_canonical(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The Jobs an app's history shows completed, by (namespace, name, spec hash). Load it once
/// per sync with [`History::completed_jobs`](super::History::completed_jobs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompletedJobs {
    done: HashSet<(String, String, String)>,
}

impl CompletedJobs {
    /// Collects every Job object recorded with result `completed` and a spec hash.
    pub fn from_records(records: &[SyncRecord]) -> CompletedJobs {
        let done = records
            .iter()
            .flat_map(|r| r.objects.iter())
            .filter(|o| o.kind == "Job" && o.result == RecordedResult::Completed)
            .filter_map(|o| {
                let hash = o.spec_hash.clone()?;
                Some((
                    o.namespace.clone().unwrap_or_default(),
                    o.name.clone(),
                    hash,
                ))
            })
            .collect();
        CompletedJobs { done }
    }

    /// True when the Job `namespace`/`name` completed with this spec hash.
    pub fn contains(&self, namespace: &str, name: &str, spec_hash: &str) -> bool {
        self.done.contains(&(
            namespace.to_string(),
            name.to_string(),
            spec_hash.to_string(),
        ))
    }

    /// How many (Job, spec) pairs are remembered.
    pub fn len(&self) -> usize {
        self.done.len()
    }

    /// True when no Job completion is remembered.
    pub fn is_empty(&self) -> bool {
        self.done.is_empty()
    }

    /// Marks the record's unchanged Jobs whose spec is remembered as completed (result
    /// `completed`, gate `completed earlier`), so the memory outlives the bound on history.
    /// Call it before [`History::finish`](super::History::finish).
    pub fn carry_forward(&self, record: &mut SyncRecord) {
        for object in &mut record.objects {
            if object.kind != "Job" || object.result != RecordedResult::Unchanged {
                continue;
            }
            let Some(hash) = &object.spec_hash else {
                continue;
            };
            let namespace = object.namespace.as_deref().unwrap_or_default();
            if self.contains(namespace, &object.name, hash) {
                object.record_gate(GateVerdict::Passed("completed earlier".to_string()));
            }
        }
    }
}

#[cfg(test)]
#[path = "jobs_tests.rs"]
mod tests;
