//! Prune safety: the decisions that keep ferry from deleting what git still wants or what
//! ferry does not own. Pure functions over live objects, so they are unit-tested without a
//! cluster; `build` calls them for every object it would prune or adopt.

use serde::Serialize;
use serde_json::Value;

use crate::cluster::{APP_LABEL, FIELD_MANAGER, INSTALL_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE};
use crate::diff::fields;

/// Namespaces ferry never deletes, whatever git says: the cluster's own and the default one.
pub const PROTECTED_NAMESPACES: [&str; 4] =
    ["kube-system", "kube-public", "kube-node-lease", "default"];

/// The most of an app's live objects one sync may prune unless told otherwise (percent).
pub const DEFAULT_MAX_PRUNE_PERCENT: u8 = 50;

/// How much of an app one sync may prune (`pruneGuard` in ferry.yaml, `--allow-mass-prune`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PruneGuard {
    /// A sync may prune at most this share of the app's live objects (0–100).
    pub max_percent: u8,
    /// A commit may prune every object of the app (it empties the app on purpose).
    pub allow_empty: bool,
    /// This one run may prune any share (`--allow-mass-prune`); never set from a file.
    pub allow_mass_prune: bool,
}

impl Default for PruneGuard {
    fn default() -> Self {
        PruneGuard {
            max_percent: DEFAULT_MAX_PRUNE_PERCENT,
            allow_empty: false,
            allow_mass_prune: false,
        }
    }
}

/// Why a plan's prunes were refused: nothing of the plan is applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PruneRefusal {
    /// Objects the plan would prune.
    pub prunes: usize,
    /// The app's live objects.
    pub live: usize,
    /// The limit that was crossed, in words.
    pub rule: String,
}

impl std::fmt::Display for PruneRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "prune guard: this commit would prune {} of the app's {} live objects ({}), so nothing of it is applied. \
             If that is intended, run once with --allow-mass-prune, or set pruneGuard \
             ({{allowEmpty: true}} or {{maxPercent: N}}) for the app in ferry.yaml",
            self.prunes, self.live, self.rule
        )
    }
}

impl PruneGuard {
    /// Judges `prunes` out of `live` objects; `Some` when the sync must be refused.
    pub fn judge(&self, prunes: usize, live: usize) -> Option<PruneRefusal> {
        if prunes == 0 || self.allow_mass_prune {
            return None;
        }
        let refusal = |rule: String| PruneRefusal { prunes, live, rule };
        if prunes >= live {
            return (!self.allow_empty).then(|| {
                refusal("every object of the app; pruneGuard.allowEmpty is false".into())
            });
        }
        // prunes/live > max_percent/100, in integers.
        (prunes * 100 > usize::from(self.max_percent) * live).then(|| {
            refusal(format!(
                "{}% of the app, more than pruneGuard.maxPercent {}%",
                prunes * 100 / live.max(1),
                self.max_percent
            ))
        })
    }
}

/// Who else owns a live object that git wants this app to manage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForeignOwner {
    /// Another ferry app (its name) of the same install.
    App(String),
    /// Another ferry install (its ferry namespace).
    Install(String),
}

impl std::fmt::Display for ForeignOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ForeignOwner::App(app) => write!(f, "ferry app {app:?}"),
            ForeignOwner::Install(ns) => {
                write!(f, "another ferry install (ferry namespace {ns:?})")
            }
        }
    }
}

fn label<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object["metadata"]["labels"][key].as_str()
}

/// The ferry install (ferry namespace) named on an object; `None` for objects written before
/// ferry labelled installs (they count as the reading install's).
pub fn install_of(object: &Value) -> Option<&str> {
    label(object, INSTALL_LABEL)
}

/// True when the object is labelled for a different ferry install than `install`.
pub fn other_install(object: &Value, install: &str) -> bool {
    install_of(object).is_some_and(|i| i != install)
}

/// The other ferry app or install that owns `live`, if any; `None` when it is this app's,
/// or not ferry's at all (then ferry adopts it, as server-side apply lets it).
pub fn foreign_owner(live: &Value, app: &str, install: &str) -> Option<ForeignOwner> {
    if label(live, MANAGED_BY_LABEL) != Some(MANAGED_BY_VALUE) {
        return None;
    }
    if let Some(other) = install_of(live).filter(|i| *i != install) {
        return Some(ForeignOwner::Install(other.to_string()));
    }
    match label(live, APP_LABEL) {
        Some(owner) if owner != app => Some(ForeignOwner::App(owner.to_string())),
        _ => None,
    }
}

/// True when ferry's own field manager applied the object (an `Apply` entry by `ferry` in
/// managedFields). An object that only carries ferry's labels (copied by hand or by another
/// tool) was never ferry's to delete.
pub fn applied_by_ferry(live: &Value) -> bool {
    fields::managed_entries(live)
        .iter()
        .any(|e| e.manager == FIELD_MANAGER && e.operation == "Apply")
}

/// Why a Namespace may never be pruned by name alone, if it is one of those.
pub fn protected_namespace(name: &str, ferry_namespace: &str) -> Option<String> {
    if PROTECTED_NAMESPACES.contains(&name) {
        Some(format!(
            "{name} is a system namespace; ferry never deletes it"
        ))
    } else if name == ferry_namespace {
        Some(format!(
            "{name} is ferry's own namespace (its records); ferry never deletes it"
        ))
    } else {
        None
    }
}

/// The uid of a live object, for a delete precondition.
pub fn uid_of(live: &Value) -> Option<String> {
    live["metadata"]["uid"].as_str().map(str::to_string)
}

#[cfg(test)]
#[path = "guard_tests.rs"]
mod tests;
