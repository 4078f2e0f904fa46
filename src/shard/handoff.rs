//! Handing a sync request to the replica that owns the app (`--shards`).
//!
//! The replica that receives a webhook (or `POST /api/apps/<app>/sync`) for an app whose
//! shard another replica holds writes the ConfigMap `ferry-handoff-<app>` in ferry's
//! namespace (server-side apply: one write, overwritten by the next request). Every replica
//! watches those ConfigMaps and puts each new request in the app's mailbox; only the replica
//! holding the app's shard acts on it, so the request survives the owner changing in between.
//! Going through the API server needs no replica addresses, no replica-to-replica traffic and
//! no credentials beyond the ones ferry already has.
//! Requests listed when a watch (re)starts are old news and ignored: a replica taking a shard
//! syncs its apps anyway.

use std::collections::{BTreeMap, HashMap};

use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use tokio::sync::watch;

use crate::cluster::{Cluster, ClusterError, RecordEvent};
use crate::trigger::{SyncRequests, TriggerKind};

/// Label on every hand-off ConfigMap.
pub const HANDOFF_LABEL: &str = "ferry.dev/handoff";

/// The hand-off ConfigMap of `app`.
pub fn handoff_name(app: &str) -> String {
    format!("ferry-handoff-{app}")
}

/// A trigger as a hand-off stores it: `webhook:<forge>`, `manual`, `manual-force`, `poll`,
/// `watch`, `drift`, `rollback[:<sha>]`.
pub fn encode_trigger(trigger: &TriggerKind) -> String {
    match trigger {
        TriggerKind::Poll => "poll".into(),
        TriggerKind::Webhook(forge) => format!("webhook:{forge}"),
        TriggerKind::Manual => "manual".into(),
        TriggerKind::ManualForce => "manual-force".into(),
        TriggerKind::Watch => "watch".into(),
        TriggerKind::Drift => "drift".into(),
        TriggerKind::Rollback(None) => "rollback".into(),
        TriggerKind::Rollback(Some(sha)) => format!("rollback:{sha}"),
    }
}

/// The trigger [`encode_trigger`] wrote; `None` for a name this ferry does not know.
pub fn decode_trigger(text: &str) -> Option<TriggerKind> {
    Some(match text {
        "poll" => TriggerKind::Poll,
        "manual" => TriggerKind::Manual,
        "manual-force" => TriggerKind::ManualForce,
        "watch" => TriggerKind::Watch,
        "drift" => TriggerKind::Drift,
        "rollback" => TriggerKind::Rollback(None),
        other if other.starts_with("rollback:") => {
            let sha = other.strip_prefix("rollback:")?;
            TriggerKind::Rollback(Some(sha.to_string()).filter(|s| !s.is_empty())?.into())
        }
        other => TriggerKind::Webhook(other.strip_prefix("webhook:")?.to_string()),
    })
}

/// The hand-off ConfigMap asking the owner of `app` for a sync by `trigger`, written by
/// `from`. `requestedAt` (with nanoseconds) makes every request a change the watch reports.
pub fn handoff_config_map(
    namespace: &str,
    app: &str,
    trigger: &TriggerKind,
    from: &str,
) -> ConfigMap {
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some(handoff_name(app));
    cm.metadata.namespace = Some(namespace.to_string());
    cm.metadata.labels = Some(BTreeMap::from([(HANDOFF_LABEL.to_string(), "true".into())]));
    cm.data = Some(BTreeMap::from([
        ("app".to_string(), app.to_string()),
        ("trigger".to_string(), encode_trigger(trigger)),
        ("requestedBy".to_string(), from.to_string()),
        (
            "requestedAt".to_string(),
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
        ),
    ]));
    cm
}

/// Writes the hand-off of `app`'s `trigger` (see the module doc).
pub async fn hand_off(
    cluster: &Cluster,
    namespace: &str,
    app: &str,
    trigger: &TriggerKind,
    from: &str,
) -> Result<(), ClusterError> {
    cluster
        .apply_config_map(
            namespace,
            &handoff_config_map(namespace, app, trigger, from),
        )
        .await
}

/// The (app, trigger) a hand-off ConfigMap asks for; `None` when it is not one.
pub fn read_handoff(cm: &ConfigMap) -> Option<(String, TriggerKind)> {
    let data = cm.data.as_ref()?;
    Some((
        data.get("app")?.clone(),
        decode_trigger(data.get("trigger")?)?,
    ))
}

/// Watches the hand-off ConfigMaps of `namespace` until `stop`, putting each new request in
/// the mailbox of the app it names (apps this replica does not serve are ignored).
pub fn spawn_handoff_watch(
    cluster: Cluster,
    namespace: String,
    mailboxes: HashMap<String, SyncRequests>,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut events = cluster.watch_config_maps(&namespace, &format!("{HANDOFF_LABEL}=true"));
        loop {
            let event = tokio::select! {
                event = events.next() => event,
                _ = stop.wait_for(|s| *s) => return,
            };
            match event {
                Some(Ok(RecordEvent::Changed(cm))) => deliver(&cm, &mailboxes),
                Some(Ok(RecordEvent::Listed(_) | RecordEvent::ListDone)) => {}
                Some(Err(e)) => tracing::warn!(error = %e, "hand-off watch failed; retrying"),
                None => return,
            }
        }
    })
}

/// Puts the request of one hand-off ConfigMap in its app's mailbox.
fn deliver(cm: &ConfigMap, mailboxes: &HashMap<String, SyncRequests>) {
    let Some((app, trigger)) = read_handoff(cm) else {
        tracing::warn!(
            name = cm.metadata.name.as_deref().unwrap_or_default(),
            "ignoring a hand-off ConfigMap that names no app or trigger"
        );
        return;
    };
    let Some(requests) = mailboxes.get(&app) else {
        tracing::debug!(%app, "hand-off for an app this replica does not serve");
        return;
    };
    tracing::info!(%app, trigger = %encode_trigger(&trigger), "hand-off: sync requested by another replica");
    requests.request(trigger);
}

#[cfg(test)]
#[path = "handoff_tests.rs"]
mod tests;
