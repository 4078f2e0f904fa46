//! [`Gvk`]: a kind as discovery, the inventory record and the plan name it.

use std::fmt;

use serde::Serialize;

/// A kind by API group, version and kind name (`apps`, `v1`, `DaemonSet`); the core group is
/// `""`. Ordered by group, then version, then kind. The one type for a kind across ferry:
/// discovery results, the app's inventory record, CRD-defined kinds and gate targets.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Gvk {
    /// API group; `""` for the core group.
    pub group: String,
    /// API version inside the group, e.g. `v1`.
    pub version: String,
    /// Kind, e.g. `DaemonSet`.
    pub kind: String,
}

impl Gvk {
    /// A kind from its three parts.
    pub fn new(
        group: impl Into<String>,
        version: impl Into<String>,
        kind: impl Into<String>,
    ) -> Gvk {
        Gvk {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
        }
    }

    /// The `apiVersion` string: `v1` for the core group, otherwise `group/version`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

impl fmt::Display for Gvk {
    /// `apps/v1 DaemonSet`, or `v1 ConfigMap` for the core group.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.api_version(), self.kind)
    }
}

#[cfg(test)]
#[path = "gvk_tests.rs"]
mod tests;
