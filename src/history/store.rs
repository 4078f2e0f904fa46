//! Reading and writing sync records as ConfigMaps in ferry's namespace.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;

use super::naming::{expired, record_labels, selector, stored_seq, validate_app};
use super::{
    record_name, CompletedJobs, HistoryError, SyncOutcome, SyncRecord, DATA_KEY, DEFAULT_KEEP,
};
use crate::cluster::{Cluster, ClusterError};
use crate::source::CommitInfo;
use crate::trigger::SyncTrigger;

/// How many sequence numbers `begin` tries when concurrent writers collide.
const CLAIM_ATTEMPTS: u32 = 8;
/// How long a record write is retried while the API server is unreachable or failing.
const WRITE_RETRY: std::time::Duration = std::time::Duration::from_secs(60);

/// One app's sync history (and every app's, for listings), kept in ferry's namespace.
/// Cheap to clone; holds no state besides its settings, so a new handle (a restarted ferry)
/// sees exactly what the last one wrote.
#[derive(Clone)]
pub struct History {
    pub(super) cluster: Cluster,
    pub(super) namespace: String,
    keep: usize,
    synced_by: Option<String>,
}

/// A stored record: its name, its seq, its resourceVersion, and its contents when they parse.
pub(super) struct Stored {
    pub(super) name: String,
    pub(super) seq: u64,
    pub(super) resource_version: Option<String>,
    pub(super) record: Result<SyncRecord, String>,
}

impl History {
    /// History in ferry's namespace `namespace` (e.g.
    /// [`DEFAULT_FERRY_NAMESPACE`](crate::cluster::DEFAULT_FERRY_NAMESPACE)), keeping the last
    /// [`DEFAULT_KEEP`] records per app.
    pub fn new(cluster: Cluster, namespace: impl Into<String>) -> History {
        History {
            cluster,
            namespace: namespace.into(),
            keep: DEFAULT_KEEP,
            synced_by: None,
        }
    }

    /// Records written from here name `identity` as the ferry that ran the sync
    /// ([`SyncRecord::synced_by`]).
    #[must_use]
    pub fn with_synced_by(mut self, identity: impl Into<String>) -> History {
        self.synced_by = Some(identity.into());
        self
    }

    /// Keeps the last `keep` records per app instead (at least 1).
    pub fn with_keep(mut self, keep: usize) -> History {
        self.keep = keep.max(1);
        self
    }

    /// ferry's namespace, where the records live.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// How many records are kept per app.
    pub fn keep(&self) -> usize {
        self.keep
    }

    /// Starts a sync: writes an `InProgress` record with the next seq (max existing + 1),
    /// links it to the sync of the commit it reverts, creates ferry's namespace when missing,
    /// then deletes the app's records beyond the newest `keep`. Fill in objects and outcome
    /// on the returned record and write it with [`History::finish`]. The app's records left in
    /// progress by a ferry that died are closed first (as [`History::close_stale`] does).
    pub async fn begin(
        &self,
        app: &str,
        commit: &CommitInfo,
        trigger: SyncTrigger,
    ) -> Result<SyncRecord, HistoryError> {
        Ok(self.begin_carrying(app, commit, trigger).await?.0)
    }

    /// [`History::begin`], also returning the Jobs the app's earlier records show completed
    /// (what [`History::completed_jobs`] would read), from the one list of the app's records
    /// that beginning needs anyway: a sync costs one history list, not three.
    pub async fn begin_carrying(
        &self,
        app: &str,
        commit: &CommitInfo,
        trigger: SyncTrigger,
    ) -> Result<(SyncRecord, CompletedJobs), HistoryError> {
        validate_app(app)?;
        let stored = self.stored(Some(app)).await?;
        // A record closed here changes only its outcome; `stored` still serves for the seq,
        // the revert link and the completed Jobs.
        if let Err(e) = self.close_stale_in(&stored, |_| true).await {
            tracing::warn!(app, error = %e, "could not close the app's interrupted syncs");
        }
        let mut seq = stored.iter().map(|s| s.seq).max().unwrap_or(0) + 1;
        let mut record = SyncRecord::new(app, seq, commit, trigger);
        record.synced_by.clone_from(&self.synced_by);
        record.reverts_seq = commit.reverts.as_deref().and_then(|sha| {
            stored
                .iter()
                .filter_map(|s| s.record.as_ref().ok())
                .find(|r| shas_match(&r.commit.sha, sha))
                .map(|r| r.seq)
        });
        let mut attempts = 0;
        loop {
            attempts += 1;
            record.seq = seq;
            if self.write(&record, true, None).await? {
                break;
            }
            if attempts >= CLAIM_ATTEMPTS {
                return Err(HistoryError::SeqContention {
                    app: app.to_string(),
                    attempts,
                });
            }
            seq += 1;
        }
        let mut seqs: Vec<u64> = stored.iter().map(|s| s.seq).collect();
        seqs.push(seq);
        for old in expired(&seqs, self.keep) {
            let name = record_name(app, old);
            if let Err(e) = self.cluster.delete_config_map(&self.namespace, &name).await {
                tracing::warn!(record = %name, error = %e, "could not delete old sync record");
            }
        }
        tracing::debug!(app, seq, trigger = %record.trigger, commit = %record.commit.short_sha, "sync recorded");
        let earlier: Vec<SyncRecord> = stored.into_iter().filter_map(|s| s.record.ok()).collect();
        Ok((record, CompletedJobs::from_records(&earlier)))
    }

    /// Writes the record over the one [`History::begin`] created (same app and seq). The end
    /// time is filled in when the outcome is final and the record has none.
    pub async fn finish(&self, record: &SyncRecord) -> Result<(), HistoryError> {
        validate_app(&record.app)?;
        let mut record = record.clone();
        if record.finished_at.is_none() && record.outcome != SyncOutcome::InProgress {
            record.finished_at = Some(chrono::Utc::now());
        }
        self.write(&record, false, None).await?;
        Ok(())
    }

    /// The app's records, newest first; at most `limit` when given. Unreadable records are
    /// skipped with a warning.
    pub async fn list(
        &self,
        app: &str,
        limit: Option<usize>,
    ) -> Result<Vec<SyncRecord>, HistoryError> {
        validate_app(app)?;
        let records = readable(self.stored(Some(app)).await?);
        Ok(records
            .into_iter()
            .take(limit.unwrap_or(usize::MAX))
            .collect())
    }

    /// Every app's records, newest start first; at most `limit` when given.
    pub async fn list_all(&self, limit: Option<usize>) -> Result<Vec<SyncRecord>, HistoryError> {
        let mut records = readable(self.stored(None).await?);
        records.sort_by(|a, b| {
            b.started_at
                .cmp(&a.started_at)
                .then_with(|| a.app.cmp(&b.app))
                .then_with(|| b.seq.cmp(&a.seq))
        });
        Ok(records
            .into_iter()
            .take(limit.unwrap_or(usize::MAX))
            .collect())
    }

    /// One record by seq (`7`, `#7`) or, failing that, by commit sha prefix (at least 4 hex
    /// digits; the newest sync of that commit).
    pub async fn get(
        &self,
        app: &str,
        seq_or_sha: &str,
    ) -> Result<Option<SyncRecord>, HistoryError> {
        validate_app(app)?;
        let query = seq_or_sha.trim();
        let digits = query.trim_start_matches('#');
        if let Ok(seq) = digits.parse::<u64>() {
            let name = record_name(app, seq);
            if let Some(cm) = self.cluster.get_config_map(&self.namespace, &name).await? {
                return parse(&cm)
                    .map(Some)
                    .map_err(|cause| HistoryError::Corrupt { name, cause });
            }
            if digits != query || digits.len() < 4 {
                return Ok(None);
            }
        }
        if query.len() < 4 || !query.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(HistoryError::InvalidQuery {
                query: seq_or_sha.to_string(),
            });
        }
        self.find_by_commit(app, query).await
    }

    /// The newest record whose outcome is `Succeeded`.
    pub async fn last_successful(&self, app: &str) -> Result<Option<SyncRecord>, HistoryError> {
        Ok(self
            .list(app, None)
            .await?
            .into_iter()
            .find(|r| r.outcome == SyncOutcome::Succeeded))
    }

    /// The newest sync of the commit whose sha starts with `sha_prefix` (case-insensitive).
    /// A prefix matching several different commits is an error.
    pub async fn find_by_commit(
        &self,
        app: &str,
        sha_prefix: &str,
    ) -> Result<Option<SyncRecord>, HistoryError> {
        let matching: Vec<SyncRecord> = self
            .list(app, None)
            .await?
            .into_iter()
            .filter(|r| shas_match(&r.commit.sha, sha_prefix))
            .collect();
        let mut shas: Vec<String> = matching.iter().map(|r| r.commit.sha.clone()).collect();
        shas.sort();
        shas.dedup();
        if shas.len() > 1 {
            return Err(HistoryError::AmbiguousCommit {
                prefix: sha_prefix.to_string(),
                shas,
            });
        }
        Ok(matching.into_iter().next())
    }

    /// The Jobs the app's history shows completed, loaded with one list call.
    pub async fn completed_jobs(&self, app: &str) -> Result<CompletedJobs, HistoryError> {
        Ok(CompletedJobs::from_records(&self.list(app, None).await?))
    }

    /// True when some record of the app shows the Job `namespace`/`name` completed with this
    /// spec hash (see [`job_spec_hash`](super::job_spec_hash)).
    pub async fn completed_job(
        &self,
        app: &str,
        namespace: &str,
        name: &str,
        spec_hash: &str,
    ) -> Result<bool, HistoryError> {
        Ok(self
            .completed_jobs(app)
            .await?
            .contains(namespace, name, spec_hash))
    }

    /// The stored records of one app (or all), newest seq first.
    pub(super) async fn stored(&self, app: Option<&str>) -> Result<Vec<Stored>, HistoryError> {
        let items = self
            .cluster
            .list_config_maps(&self.namespace, &selector(app))
            .await?;
        let mut stored: Vec<Stored> = items
            .iter()
            .filter_map(|cm| {
                let name = cm.metadata.name.clone()?;
                let seq = stored_seq(cm)?;
                let record = parse(cm);
                let resource_version = cm.metadata.resource_version.clone();
                Some(Stored {
                    name,
                    seq,
                    resource_version,
                    record,
                })
            })
            .collect();
        stored.sort_by(|a, b| b.seq.cmp(&a.seq).then_with(|| a.name.cmp(&b.name)));
        Ok(stored)
    }

    /// Writes a record: `create` refuses to overwrite (returns false when the name is
    /// taken); otherwise server-side apply overwrites, only while the record is still at
    /// `resource_version` when one is given (a conflict is an error with code 409). Creates
    /// ferry's namespace on demand. Transient failures (API server unreachable, 429, 5xx) are
    /// retried for up to [`WRITE_RETRY`], so a network fault or an API server restart during a
    /// sync does not leave its record in progress; a create whose answer was lost is
    /// recognised by its contents, so it never claims a second seq.
    pub(super) async fn write(
        &self,
        record: &SyncRecord,
        create: bool,
        resource_version: Option<String>,
    ) -> Result<bool, HistoryError> {
        let name = record_name(&record.app, record.seq);
        let json = serde_json::to_string_pretty(record).map_err(|source| HistoryError::Encode {
            name: name.clone(),
            source,
        })?;
        let mut cm = ConfigMap::default();
        cm.metadata.name = Some(name.clone());
        cm.metadata.namespace = Some(self.namespace.clone());
        cm.metadata.labels = Some(record_labels(&record.app, record.seq));
        cm.metadata.resource_version = resource_version;
        cm.data = Some(BTreeMap::from([(DATA_KEY.to_string(), json)]));
        let deadline = tokio::time::Instant::now() + WRITE_RETRY;
        let mut delay = std::time::Duration::from_millis(200);
        // Set once a create failed in transit: it may have reached the server anyway.
        let mut maybe_created = false;
        loop {
            match self.write_once(&cm, create).await {
                Ok(false) if maybe_created => {
                    let existing = self.cluster.get_config_map(&self.namespace, &name).await?;
                    return Ok(existing.is_some_and(|e| e.data == cm.data));
                }
                Err(e) if e.is_transient() && tokio::time::Instant::now() + delay < deadline => {
                    tracing::warn!(record = %name, error = %e, retry_in_ms = delay.as_millis() as u64, "could not write sync record; retrying");
                    maybe_created |= create;
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(std::time::Duration::from_secs(5));
                }
                other => return Ok(other?),
            }
        }
    }

    async fn write_once(&self, cm: &ConfigMap, create: bool) -> Result<bool, ClusterError> {
        match self.put(cm, create).await {
            Err(e) if e.code() == Some(404) => {
                self.cluster.ensure_namespace(&self.namespace).await?;
                self.put(cm, create).await
            }
            other => other,
        }
    }

    async fn put(&self, cm: &ConfigMap, create: bool) -> Result<bool, ClusterError> {
        if create {
            self.cluster.create_config_map(&self.namespace, cm).await
        } else {
            self.cluster
                .apply_config_map(&self.namespace, cm)
                .await
                .map(|()| true)
        }
    }
}

/// True when one sha is a prefix of the other (case-insensitive; at least 4 digits).
fn shas_match(full: &str, prefix: &str) -> bool {
    let (full, prefix) = (full.to_ascii_lowercase(), prefix.to_ascii_lowercase());
    prefix.len() >= 4 && full.len() >= 4 && (full.starts_with(&prefix) || prefix.starts_with(&full))
}

/// The record in a ConfigMap, with the newest heartbeat (annotation or record field).
fn parse(cm: &ConfigMap) -> Result<SyncRecord, String> {
    let text = cm
        .data
        .as_ref()
        .and_then(|d| d.get(DATA_KEY))
        .ok_or_else(|| format!("no {DATA_KEY} key"))?;
    let mut record: SyncRecord = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if let Some(beat) = super::heartbeat::annotated(cm) {
        record.heartbeat_at = Some(record.heartbeat_at.map_or(beat, |b| b.max(beat)));
    }
    Ok(record)
}

fn readable(stored: Vec<Stored>) -> Vec<SyncRecord> {
    stored
        .into_iter()
        .filter_map(|s| match s.record {
            Ok(record) => Some(record),
            Err(cause) => {
                tracing::warn!(record = %s.name, %cause, "skipping unreadable sync record");
                None
            }
        })
        .collect()
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
