//! What the read phase of a plan saw: plain data, so the decision phase
//! ([`decide`](super::decide)) is a pure function of it and is unit-tested from fixtures.

use std::collections::HashMap;

use serde_json::Value;

use crate::cluster::{Resident, ServedKind};
use crate::manifest::ObjectKey;

/// The server's answer to one server-side-apply dry-run.
#[derive(Debug, Clone, PartialEq)]
pub enum DryRun {
    /// Accepted: the object as it would be after the apply (defaulted, validated, admitted).
    Accepted(Value),
    /// Rejected as a bad object (validation, immutable field, type error…), as opposed to an
    /// unreachable or failing server, which fails the plan instead.
    Rejected {
        /// The HTTP status code.
        code: u16,
        /// The server's message.
        message: String,
    },
}

/// The reads made for one desired object, each only when its decision needed it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObjectReads {
    /// For an object not in the app's inventory: what exists under its name (`Some(None)`:
    /// nothing). `None`: not read.
    pub found: Option<Option<Value>>,
    /// The dry-run apply in the object's own namespace.
    pub dry_run: Option<DryRun>,
    /// For a create the server refused with 404 because its namespace is created by the same
    /// commit: whether an object of that name already lives in the stand-in namespace.
    pub stand_in_taken: Option<bool>,
    /// The dry-run of that create in the stand-in namespace.
    pub stand_in_dry_run: Option<DryRun>,
}

/// Everything a plan read from the cluster, besides discovery.
#[derive(Debug, Clone, Default)]
pub struct LiveSnapshot {
    /// The app's inventory: every object listed by its inventory label, per kind (a kind the
    /// server no longer serves lists empty). Objects of another ferry install are still here;
    /// the decision leaves them out.
    pub listed: Vec<(ServedKind, Vec<Value>)>,
    /// The reads made for each desired object.
    pub objects: HashMap<ObjectKey, ObjectReads>,
    /// Objects ferry does not manage, per namespace the plan would otherwise prune (at most a
    /// few each).
    pub residents: HashMap<String, Vec<Resident>>,
}
