//! Names, labels and the retention rule for history ConfigMaps (pure).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;

use super::HistoryError;
use crate::cluster::{APP_LABEL, MANAGED_BY_LABEL};

/// Records kept per app unless configured otherwise.
pub const DEFAULT_KEEP: usize = 50;
/// Data key holding the record's JSON.
pub const DATA_KEY: &str = "record.json";
/// Label marking a ConfigMap as a sync record (value `"true"`).
pub const HISTORY_LABEL: &str = "ferry.dev/history";
/// Label holding the record's sequence number.
pub const SEQ_LABEL: &str = "ferry.dev/seq";
/// Value of `app.kubernetes.io/managed-by` on ferry's own bookkeeping. Deliberately not
/// `ferry`: that value marks app objects, which ferry prunes.
pub const MANAGED_BY_HISTORY: &str = "ferry-system";

/// The ConfigMap name of an app's record: `ferry-history-<app>-<seq padded to 6>`.
pub fn record_name(app: &str, seq: u64) -> String {
    format!("ferry-history-{app}-{seq:06}")
}

/// Labels a record carries.
pub(crate) fn record_labels(app: &str, seq: u64) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED_BY_LABEL.to_string(), MANAGED_BY_HISTORY.to_string()),
        (APP_LABEL.to_string(), app.to_string()),
        (HISTORY_LABEL.to_string(), "true".to_string()),
        (SEQ_LABEL.to_string(), seq.to_string()),
    ])
}

/// Label selector for one app's records, or every app's.
pub(crate) fn selector(app: Option<&str>) -> String {
    match app {
        Some(app) => format!("{HISTORY_LABEL}=true,{APP_LABEL}={app}"),
        None => format!("{HISTORY_LABEL}=true"),
    }
}

/// Checks that `app` fits a label value and a ConfigMap name: 1–63 characters of lowercase
/// letters, digits, `-` and `.`, starting and ending with a letter or digit.
pub(crate) fn validate_app(app: &str) -> Result<(), HistoryError> {
    let fail = |reason: &str| {
        Err(HistoryError::InvalidApp {
            app: app.to_string(),
            reason: reason.to_string(),
        })
    };
    if app.is_empty() || app.len() > 63 {
        return fail("it must be 1 to 63 characters long");
    }
    if !app
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
    {
        return fail("only lowercase letters, digits, '-' and '.' are allowed");
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !edge_ok(app.chars().next()) || !edge_ok(app.chars().last()) {
        return fail("it must start and end with a letter or digit");
    }
    Ok(())
}

/// The sequence number of a stored record: its seq label, else the name's numeric suffix.
pub(crate) fn stored_seq(config_map: &ConfigMap) -> Option<u64> {
    let labelled = config_map
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(SEQ_LABEL))
        .and_then(|v| v.parse().ok());
    labelled.or_else(|| {
        let name = config_map.metadata.name.as_deref()?;
        name.rsplit('-').next()?.parse().ok()
    })
}

/// The sequence numbers to delete so that only the newest `keep` (at least one) remain.
pub(crate) fn expired(seqs: &[u64], keep: usize) -> Vec<u64> {
    let mut sorted = seqs.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    sorted.into_iter().skip(keep.max(1)).collect()
}

#[cfg(test)]
#[path = "naming_tests.rs"]
mod tests;
