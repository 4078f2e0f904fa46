//! ferry: a declarative GitOps reconciler for Kubernetes.
//!
//! The crate is laid out as the pipeline in `DESIGN.md`:
//! [`trigger`] → [`source`] → [`render`] (Kustomize/Helm, when the app uses them) →
//! [`manifest`] (bundle) → [`plan`] (with [`diff`]) → [`apply`] →
//! gate ([`rollout`]) → record ([`history`]) → [`notify`] (commit statuses and webhooks, sent
//! in the background; a sync never waits for them), with [`cluster`] as the only module that talks to
//! the API server and [`reconcile`] as the only place that strings the stages together.
//! [`shard`] spreads `ferry serve`'s apps over replicas with Leases and gives each app loop
//! the tenure it syncs under. [`server`] is `ferry serve`'s HTTP side, its web UI included:
//! a view of the pipeline's state that reads the stages and requests syncs, never a stage of
//! its own. [`duration`], [`window`] (sync windows) and [`cancel`] are leaf
//! helpers; imports point down the pipeline and the module graph has no cycle
//! (`CONTRIBUTING.md` has the map).

pub mod apply;
pub mod cancel;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod diff;
pub mod duration;
pub mod history;
pub mod manifest;
pub mod notify;
pub mod plan;
pub mod reconcile;
pub mod render;
pub mod rollout;
pub mod server;
pub mod shard;
pub mod source;
pub mod trigger;
pub mod window;
