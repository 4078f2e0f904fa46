//! The only module that talks to the API server.
//!
//! Owns the `kube::Client` (kubeconfig, `--context`, or in-cluster config), discovery of which
//! kinds the server serves (cached per group/version), reading live objects (one by one, or all
//! of an app's inventory by label), server-side apply (real and dry-run) with field manager
//! `ferry`, deletion, label-filtered metadata watches of an app's objects, and the Leases of
//! leader election and sharding. It decides nothing: callers say what to read or write.

mod discovery;
mod inventory;
pub mod leader;
mod lease;
mod objects;
mod pods;
mod records;
mod records_watch;
mod residents;
mod watch;

pub use discovery::ServedKind;
pub use inventory::{InventoryRecord, DEFAULT_FERRY_NAMESPACE};
pub use objects::{ApiCounters, DeleteOutcome, Propagation};
pub use pods::Eviction;
pub use records_watch::RecordEvent;
pub use residents::Resident;
pub use watch::{LiveEvent, SeenObject};

use std::path::PathBuf;
use std::sync::Arc;

use kube::config::{KubeConfigOptions, Kubeconfig};

/// The field manager ferry applies with.
pub const FIELD_MANAGER: &str = "ferry";
/// The field manager that holds a staged rollout's pacing fields (see `plan::staged`).
pub const ROLLOUT_FIELD_MANAGER: &str = "ferry-rollout";
/// Label every object ferry applies carries.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY_LABEL`] for ferry's objects.
pub const MANAGED_BY_VALUE: &str = "ferry";
/// Label naming the ferry app that owns an object.
pub const APP_LABEL: &str = "ferry.dev/app";
/// Label naming the ferry install (its ferry namespace) that owns an object, so two installs
/// on one cluster never take or prune each other's objects.
pub const INSTALL_LABEL: &str = "ferry.dev/install";

/// Everything that can go wrong talking to the cluster.
///
/// Each variant keeps what failed underneath as its `source` (the `kube` error, the
/// kubeconfig error, the JSON error); its message also spells that cause out, so a log line or
/// a history record written from `to_string()` still says why.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// No usable client configuration (kubeconfig or in-cluster).
    #[error("cannot configure a Kubernetes client: {}{}", context_prefix(.context), error_chain(.source.as_ref()))]
    Config {
        /// What was being read (`reading /path/to/kubeconfig`), when there is more to say
        /// than the cause.
        context: Option<String>,
        /// What kube's configuration loader said.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The API server answered with an error status (the status's fields, kept as data:
    /// callers decide by `code`).
    #[error("{action}: {code} {reason}: {message}")]
    Api {
        /// What ferry was doing (`applying DaemonSet ns/name`).
        action: String,
        /// The HTTP status code.
        code: u16,
        /// The status's machine-readable reason (`Conflict`, `NotFound`…).
        reason: String,
        /// The server's message.
        message: String,
    },
    /// The API server could not be reached or the connection failed.
    #[error("{action}: cannot reach the API server: {}", error_chain(.source))]
    Transport {
        /// What ferry was doing.
        action: String,
        /// The client's error (connection refused, TLS, timeout…).
        #[source]
        source: kube::Error,
    },
    /// A watch failed (it retries with backoff; the stream reports each failure).
    #[error("{action}: cannot reach the API server: {}", error_chain(.source))]
    Watch {
        /// What was watched.
        action: String,
        /// The watcher's error.
        #[source]
        source: kube::runtime::watcher::Error,
    },
    /// A response or object that could not be (de)serialised.
    #[error("{action}: {source}")]
    Decode {
        /// What ferry was doing.
        action: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A wait for the cluster to reach a state ran out of time.
    #[error("waiting for {waited_for}: timed out after {}s", after.as_secs())]
    Timeout {
        /// What was awaited (`Job ns/name to be deleted`).
        waited_for: String,
        /// How long ferry waited.
        after: std::time::Duration,
    },
    /// A request ferry cannot make because the caller did not supply what it needs (a bug in
    /// the caller, reported instead of guessed around).
    #[error("{action}: {reason}")]
    Incomplete {
        /// What ferry was about to do.
        action: String,
        /// What is missing.
        reason: String,
    },
}

fn context_prefix(context: &Option<String>) -> String {
    context
        .as_ref()
        .map(|c| format!("{c}: "))
        .unwrap_or_default()
}

impl ClusterError {
    /// Wraps a kube error with what we were doing.
    pub(crate) fn from_kube(action: impl Into<String>, err: kube::Error) -> ClusterError {
        let action = action.into();
        match err {
            kube::Error::Api(status) => ClusterError::Api {
                action,
                code: status.code,
                reason: status.reason.clone(),
                message: status.message.clone(),
            },
            kube::Error::SerdeError(source) => ClusterError::Decode { action, source },
            source => ClusterError::Transport { action, source },
        }
    }

    /// A client configuration error, with what was being read.
    fn config(
        context: Option<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> ClusterError {
        ClusterError::Config {
            context,
            source: Box::new(source),
        }
    }

    /// The HTTP status code when the server answered with an error.
    pub fn code(&self) -> Option<u16> {
        match self {
            ClusterError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// True for failures a retry may cure: the server could not be reached, or answered
    /// 429 (throttled) or a 5xx (overloaded, restarting, timed out).
    pub fn is_transient(&self) -> bool {
        match self {
            ClusterError::Transport { .. } | ClusterError::Watch { .. } => true,
            ClusterError::Api { code, .. } => *code == 429 || (500..600).contains(code),
            _ => false,
        }
    }

    /// The server's message alone (for Api errors), else the whole error.
    pub fn server_message(&self) -> String {
        match self {
            ClusterError::Api { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// How to find the cluster.
#[derive(Debug, Clone, Default)]
pub struct ClusterTarget {
    /// Explicit kubeconfig file (`--kubeconfig`); otherwise `KUBECONFIG`, `~/.kube/config`,
    /// then in-cluster config.
    pub kubeconfig: Option<PathBuf>,
    /// Context inside the kubeconfig (`--context`); otherwise its current context.
    pub context: Option<String>,
}

/// A connection to one cluster, with a discovery cache and API call counters.
#[derive(Clone)]
pub struct Cluster {
    client: kube::Client,
    /// The same connection without kube's retry of 429/503/504 answers: for requests whose
    /// 429 is an answer, not overload (an eviction a PodDisruptionBudget refuses), which the
    /// default policy would retry for minutes.
    answer_429: kube::Client,
    discovery: Arc<discovery::DiscoveryCache>,
    counters: Arc<ApiCounters>,
    server: String,
}

impl Cluster {
    /// Builds a client for the target. Does not contact the server yet.
    pub async fn connect(target: &ClusterTarget) -> Result<Cluster, ClusterError> {
        let options = KubeConfigOptions {
            context: target.context.clone(),
            ..Default::default()
        };
        let config = match (&target.kubeconfig, &target.context) {
            (Some(path), _) => {
                let kubeconfig = Kubeconfig::read_from(path).map_err(|e| {
                    ClusterError::config(Some(format!("reading {}", path.display())), e)
                })?;
                kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                    .await
                    .map_err(|e| ClusterError::config(None, e))?
            }
            (None, Some(_)) => kube::Config::from_kubeconfig(&options)
                .await
                .map_err(|e| ClusterError::config(None, e))?,
            (None, None) => kube::Config::infer()
                .await
                .map_err(|e| ClusterError::config(None, e))?,
        };
        let server = config.cluster_url.to_string();
        let mut once = config.clone();
        once.default_retry = false;
        let client = kube::Client::try_from(config).map_err(|e| ClusterError::config(None, e))?;
        let answer_429 = kube::Client::try_from(once).map_err(|e| ClusterError::config(None, e))?;
        let mut cluster = Cluster::from_client(client, server);
        cluster.answer_429 = answer_429;
        Ok(cluster)
    }

    /// Wraps an existing client (tests, in-process servers).
    pub fn from_client(client: kube::Client, server: String) -> Cluster {
        Cluster {
            answer_429: client.clone(),
            client,
            discovery: Arc::new(discovery::DiscoveryCache::default()),
            counters: Arc::new(ApiCounters::default()),
            server,
        }
    }

    /// The underlying client.
    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    /// The API server URL, for messages.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Counts of the API calls made through this handle.
    pub fn counters(&self) -> &ApiCounters {
        &self.counters
    }
}

#[cfg(test)]
mod tests;
