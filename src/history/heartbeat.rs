//! Heartbeats of running syncs, and closing the records of syncs whose ferry died.
//!
//! While a sync runs, its ferry renews the annotation [`HEARTBEAT_ANNOTATION`] on the record
//! every [`HEARTBEAT_INTERVAL`]. A killed `ferry sync` (or `ferry serve`) stops renewing, so a
//! later sync of the app — from the CLI or from `serve`'s leader — sees an in-progress record
//! with no sign of life for [`STALE_AFTER`] and marks it
//! [`Interrupted`](super::SyncOutcome::Interrupted). The annotation is written with a merge
//! patch by its own field manager, so it never races the record's contents.
//!
//! The heartbeat is a wall-clock time written by one machine and read by another: clock skew
//! between them eats into the margin of [`STALE_AFTER`] (3.5 intervals). A wrong verdict only
//! mislabels history: the sync, if alive, overwrites the record when it ends.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::ConfigMap;

use super::naming::validate_app;
use super::store::Stored;
use super::{record_name, History, HistoryError, SyncOutcome, SyncRecord};

/// How often a running sync renews its record's heartbeat.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(10);
/// An in-progress record without a heartbeat for this long belongs to a ferry that died.
pub const STALE_AFTER: Duration = Duration::from_secs(35);
/// Annotation on a history ConfigMap holding the last heartbeat (RFC 3339).
pub const HEARTBEAT_ANNOTATION: &str = "ferry.dev/heartbeat";
/// Field manager of heartbeat writes.
const HEARTBEAT_MANAGER: &str = "ferry-heartbeat";

/// The heartbeat annotated on a stored record, if any (an unreadable one is ignored).
pub(super) fn annotated(cm: &ConfigMap) -> Option<DateTime<Utc>> {
    let text = cm
        .metadata
        .annotations
        .as_ref()?
        .get(HEARTBEAT_ANNOTATION)?;
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The reason written on a record closed for lack of heartbeats.
fn stale_reason(record: &SyncRecord) -> String {
    format!(
        "ferry stopped during this sync (killed?): no heartbeat since {}",
        record.last_sign_of_life().format("%Y-%m-%d %H:%M:%S UTC")
    )
}

impl History {
    /// Renews the heartbeat of the running sync `app` #`seq` (now). Returns false when the
    /// record no longer exists.
    pub async fn heartbeat(&self, app: &str, seq: u64) -> Result<bool, HistoryError> {
        validate_app(app)?;
        let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        Ok(self
            .cluster
            .annotate_config_map(
                &self.namespace,
                &record_name(app, seq),
                HEARTBEAT_MANAGER,
                HEARTBEAT_ANNOTATION,
                &now,
            )
            .await?)
    }

    /// Marks the app's in-progress records whose ferry showed no sign of life for
    /// [`STALE_AFTER`] as interrupted. Each write carries the resourceVersion read, so a
    /// record that moved meanwhile (a heartbeat, or its sync finishing) is left alone.
    /// Returns the seqs closed.
    pub async fn close_stale(&self, app: &str) -> Result<Vec<u64>, HistoryError> {
        validate_app(app)?;
        let stored = self.stored(Some(app)).await?;
        Ok(self
            .close_stale_in(&stored, |_| true)
            .await?
            .into_iter()
            .map(|(_, seq)| seq)
            .collect())
    }

    /// [`close_stale`](Self::close_stale) for every app in `apps` at once, with one list of
    /// the history ConfigMaps (`ferry serve`'s janitor). Returns the (app, seq)s closed.
    pub async fn close_stale_of(
        &self,
        apps: &BTreeSet<String>,
    ) -> Result<Vec<(String, u64)>, HistoryError> {
        let stored = self.stored(None).await?;
        self.close_stale_in(&stored, |app| apps.contains(app)).await
    }

    /// Closes the stale records among `stored` whose app is `wanted`; see
    /// [`close_stale`](Self::close_stale).
    pub(super) async fn close_stale_in(
        &self,
        stored: &[Stored],
        wanted: impl Fn(&str) -> bool,
    ) -> Result<Vec<(String, u64)>, HistoryError> {
        let stale_after = chrono::Duration::from_std(STALE_AFTER).unwrap_or(chrono::Duration::MAX);
        let now = Utc::now();
        let mut closed = Vec::new();
        for stored in stored {
            let Ok(record) = &stored.record else {
                continue;
            };
            if !wanted(&record.app) || !record.is_stale(now, stale_after) {
                continue;
            }
            let mut record = record.clone();
            let reason = stale_reason(&record);
            record.complete(SyncOutcome::Interrupted { reason });
            match self
                .write(&record, false, stored.resource_version.clone())
                .await
            {
                Ok(_) => {
                    tracing::info!(app = %record.app, seq = record.seq, "marked a sync without a heartbeat interrupted");
                    closed.push((record.app.clone(), record.seq));
                }
                Err(HistoryError::Cluster(e)) if e.code() == Some(409) => {
                    tracing::debug!(
                        app = %record.app,
                        seq = record.seq,
                        "record changed meanwhile; not closing it"
                    );
                }
                Err(e) => return Err(e),
            }
        }
        Ok(closed)
    }

    /// Renews the heartbeat of `app` #`seq` every [`HEARTBEAT_INTERVAL`] until the returned
    /// guard is dropped.
    pub fn keep_alive(&self, app: &str, seq: u64) -> KeepAlive {
        let history = self.clone();
        let app = app.to_string();
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(HEARTBEAT_INTERVAL).await;
                match history.heartbeat(&app, seq).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => {
                        tracing::warn!(app, seq, error = %e, "could not renew the sync's heartbeat");
                    }
                }
            }
        });
        KeepAlive(task)
    }
}

/// Renews a running sync's heartbeat until dropped.
#[derive(Debug)]
pub struct KeepAlive(tokio::task::JoinHandle<()>);

impl Drop for KeepAlive {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
#[path = "heartbeat_tests.rs"]
mod tests;
