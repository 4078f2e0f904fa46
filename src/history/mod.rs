//! Stage 6 of the pipeline: one record per sync, stored in the cluster (see DESIGN.md).
//!
//! A [`SyncRecord`] names the commit (sha, author, time, subject, and the commit it reverts),
//! the trigger, start and end time, the outcome, and per object the action, the apply result,
//! the gate result, the ControllerRevision number a DaemonSet/StatefulSet got and the spec hash
//! of a Job. Records live in ferry's namespace as one ConfigMap each
//! (`ferry-history-<app>-<seq>`, key `record.json`), bounded to the last N per app, so the
//! reconciler itself is stateless: a restarted ferry reads the same history.
//!
//! A sync is written when it starts ([`History::begin`], outcome `InProgress`) and overwritten
//! when it ends ([`History::finish`]), so a crash never leaves a sync without a trace. While
//! it runs its heartbeat is renewed ([`History::keep_alive`]); a later sync closes records
//! whose heartbeat stopped as interrupted ([`History::close_stale`]).
//! Completed Jobs are remembered by the hash of their spec in git ([`job_spec_hash`],
//! [`CompletedJobs`]), so a Job removed by its TTL is not run again. This module never talks
//! to git; it talks to the cluster only through [`Cluster`](crate::cluster::Cluster).

mod heartbeat;
mod jobs;
mod naming;
mod objects;
mod record;
mod render;
mod store;
mod values;

pub use heartbeat::{KeepAlive, HEARTBEAT_ANNOTATION, HEARTBEAT_INTERVAL, STALE_AFTER};
pub use jobs::{job_spec_hash, CompletedJobs};
pub use naming::{
    record_name, DATA_KEY, DEFAULT_KEEP, HISTORY_LABEL, MANAGED_BY_HISTORY, SEQ_LABEL,
};
pub use record::{CommitRecord, ObjectRecord, RecordedStep, SyncOutcome, SyncRecord};
pub use render::{render_detail, render_table};
pub use store::History;
pub use values::{GateVerdict, RecordedAction, RecordedResult};

use crate::cluster::ClusterError;

/// Everything that can go wrong reading or writing history.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// Talking to the cluster failed.
    #[error("sync history: {0}")]
    Cluster(#[from] ClusterError),
    /// The app name cannot be used in a ConfigMap name and label value.
    #[error("app name {app:?} cannot name a history record: {reason}")]
    InvalidApp {
        /// The app name given.
        app: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A record could not be serialised.
    #[error("encoding sync record {name}: {source}")]
    Encode {
        /// The record's ConfigMap name.
        name: String,
        /// The serialiser's error.
        #[source]
        source: serde_json::Error,
    },
    /// A stored record could not be read back.
    #[error("history record {name} is unreadable: {cause}")]
    Corrupt {
        /// The record's ConfigMap name.
        name: String,
        /// What is wrong with it.
        cause: String,
    },
    /// A sha prefix names more than one commit in the app's history.
    #[error("commit prefix {prefix:?} is ambiguous: it matches {}", .shas.join(", "))]
    AmbiguousCommit {
        /// The prefix asked for.
        prefix: String,
        /// The full shas it matches.
        shas: Vec<String>,
    },
    /// The lookup key is neither a sequence number nor a sha prefix.
    #[error("{query:?} is neither a sync number nor a commit sha (at least 4 hex digits)")]
    InvalidQuery {
        /// The key asked for.
        query: String,
    },
    /// Concurrent writers kept taking the next sequence number.
    #[error("could not claim a sequence number for app {app}: {attempts} attempts collided")]
    SeqContention {
        /// The app.
        app: String,
        /// How many numbers were tried.
        attempts: u32,
    },
}
