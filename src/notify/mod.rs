//! Telling the outside world what a sync did, after the record stage: a commit status on the
//! synced commit at the forge (Gitea/Forgejo, GitHub, GitLab, Bitbucket Cloud) and outgoing
//! webhooks (ferry's signed JSON event, or a Slack-compatible `text` message).
//!
//! A sync never waits for a notification and never fails because of one: `reconcile` hands
//! each [`SyncEvent`] to the [`Notifier`], which queues it per app and target, sends it in the
//! background, retries transient failures with backoff, drops what does not fit its bounded
//! queues, and counts every result for `/metrics` (`ferry_notifications_total`). A forge that
//! is down is a logged warning. Tokens and secrets are read from their file or variable when a
//! request is sent; none ever reaches a log line, an error or a status description.
//!
//! `notify` imports no other ferry module: `config` resolves `notify:` into a [`NotifySpec`],
//! `reconcile` builds the events, `server` renders the counters.
//!
//! - `config.rs`: the `notify:` block of `ferry.yaml` and its validation
//! - `event.rs`: what happened ([`SyncEvent`], [`EventKind`]) and the status it maps to
//! - `forge.rs`: each forge's commit status request (method, path, headers, body)
//! - `webhook.rs`: the generic JSON event, the Slack text, the HMAC signature
//! - `send.rs`: one HTTP request, its outcome classified as sent / retry / give up
//! - `queue.rs`: the [`Notifier`]: lanes, retries, counters, flush

mod config;
mod event;
mod forge;
mod queue;
mod send;
mod webhook;

pub use config::{
    CommitStatusConfig, CommitStatusTarget, ForgeKind, NotifyConfig, NotifySpec, Secret, Target,
    WebhookConfig, WebhookFormat, WebhookTarget,
};
pub use event::{EventKind, EventName, StatusState, SyncEvent};
pub use forge::{repository_from_url, status_request};
pub use queue::{NotificationCount, Notifier};
pub use send::OutgoingRequest;
pub use webhook::{webhook_request, SIGNATURE_HEADER};

/// Everything that can go wrong in `notify`.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The `notify:` block is invalid.
    #[error("notify: {0}")]
    Invalid(String),
    /// A token or secret file could not be read (the path is named, never the content).
    #[error("cannot read {what} from {path}")]
    ReadSecret {
        /// Which secret.
        what: &'static str,
        /// Its file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A token or secret variable is unset or empty.
    #[error("{what}: {source_name} is missing or empty")]
    MissingSecret {
        /// Which secret.
        what: &'static str,
        /// The variable or file that should hold it.
        source_name: String,
    },
    /// A request could not be built (an invalid URL or header).
    #[error("cannot build the request to {url}: {source}")]
    Request {
        /// The URL (never with credentials).
        url: String,
        /// Why.
        #[source]
        source: hyper::http::Error,
    },
}

#[cfg(test)]
mod tests;
