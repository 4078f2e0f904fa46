//! Watching ferry's own ConfigMaps in one namespace (the hand-off requests of `--shards`).

use futures::stream::BoxStream;
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use kube::runtime::watcher::{self, watcher, Event};
use kube::runtime::WatchStreamExt;

use super::{Cluster, ClusterError};

/// What a ConfigMap watch reports.
#[derive(Debug, Clone)]
pub enum RecordEvent {
    /// A ConfigMap present when the watch (re)listed: it may be old news.
    Listed(ConfigMap),
    /// A ConfigMap created or changed while the watch ran.
    Changed(ConfigMap),
    /// The watch (re)listed; [`RecordEvent::Changed`] events follow.
    ListDone,
}

impl Cluster {
    /// Watches the ConfigMaps of `namespace` matching `selector`. The stream never ends on its
    /// own: after an error (reported as an item) it retries with the watcher's default
    /// backoff, re-listing when the server asks for it. Deletions are not reported.
    pub fn watch_config_maps(
        &self,
        namespace: &str,
        selector: &str,
    ) -> BoxStream<'static, Result<RecordEvent, ClusterError>> {
        let api = Api::<ConfigMap>::namespaced(self.client.clone(), namespace);
        let action = format!("watching configmaps in {namespace} with {selector}");
        watcher(api, watcher::Config::default().labels(selector))
            .default_backoff()
            .filter_map(move |event| {
                let mapped = match event {
                    Ok(Event::InitApply(cm)) => Some(Ok(RecordEvent::Listed(cm))),
                    Ok(Event::InitDone) => Some(Ok(RecordEvent::ListDone)),
                    Ok(Event::Apply(cm)) => Some(Ok(RecordEvent::Changed(cm))),
                    Ok(Event::Init | Event::Delete(_)) => None,
                    Err(source) => Some(Err(ClusterError::Watch {
                        action: action.clone(),
                        source,
                    })),
                };
                std::future::ready(mapped)
            })
            .boxed()
    }
}
