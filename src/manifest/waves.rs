//! Apply order: waves.
//!
//! Resources are applied wave by wave, lowest first, and a wave's rollouts are healthy before
//! the next wave starts. A resource's wave is the [`WAVE_ANNOTATION`] when set, otherwise
//! [`default_wave`] of its kind.

use super::{Bundle, Resource};

/// Annotation that sets a resource's wave explicitly: a whole number in a string, e.g. `"-1"`.
pub const WAVE_ANNOTATION: &str = "ferry.dev/wave";

/// The wave of a kind when the manifest does not set [`WAVE_ANNOTATION`]:
///
/// | wave | what | kinds |
/// | ---- | ---- | ----- |
/// | 0 | things other objects live in or are typed by | `Namespace`, `CustomResourceDefinition` (apiextensions.k8s.io) |
/// | 1 | cluster and namespace policy | `PriorityClass`, `ClusterRole`, `ClusterRoleBinding`, `Role`, `RoleBinding`, `StorageClass`, `RuntimeClass`, `PodSecurityPolicy`, `ValidatingAdmissionPolicy`, `ValidatingAdmissionPolicyBinding`, `MutatingAdmissionPolicy`, `MutatingAdmissionPolicyBinding`, `ResourceQuota`, `LimitRange`, `NetworkPolicy`, `IngressClass` |
/// | 2 | what workloads use | `ServiceAccount`, `ConfigMap`, `Secret`, `PersistentVolume`, `PersistentVolumeClaim`, `Service`, `Endpoints`, `EndpointSlice`, `PodDisruptionBudget`, `Ingress` |
/// | 3 | everything else: workloads and custom resources | `DaemonSet`, `StatefulSet`, `Deployment`, `ReplicaSet`, `Job`, `CronJob`, `Pod`, … |
///
/// Kinds are matched together with their group, so a custom resource that happens to be
/// called `Secret` or `Namespace` stays in wave 3.
pub fn default_wave(group: &str, kind: &str) -> i32 {
    match (group, kind) {
        ("", "Namespace") | ("apiextensions.k8s.io", "CustomResourceDefinition") => 0,

        ("scheduling.k8s.io", "PriorityClass")
        | (
            "rbac.authorization.k8s.io",
            "ClusterRole" | "ClusterRoleBinding" | "Role" | "RoleBinding",
        )
        | ("storage.k8s.io", "StorageClass")
        | ("node.k8s.io", "RuntimeClass")
        | ("policy" | "extensions", "PodSecurityPolicy")
        | (
            "admissionregistration.k8s.io",
            "ValidatingAdmissionPolicy"
            | "ValidatingAdmissionPolicyBinding"
            | "MutatingAdmissionPolicy"
            | "MutatingAdmissionPolicyBinding",
        )
        | ("", "ResourceQuota" | "LimitRange")
        | ("networking.k8s.io", "NetworkPolicy" | "IngressClass") => 1,

        (
            "",
            "ServiceAccount"
            | "ConfigMap"
            | "Secret"
            | "PersistentVolume"
            | "PersistentVolumeClaim"
            | "Service"
            | "Endpoints",
        )
        | ("discovery.k8s.io", "EndpointSlice")
        | ("policy", "PodDisruptionBudget")
        | ("networking.k8s.io", "Ingress") => 2,

        _ => 3,
    }
}

impl Bundle {
    /// The resources grouped by wave, ascending; file order is kept within a wave.
    pub fn waves(&self) -> Vec<(i32, Vec<&Resource>)> {
        let mut sorted: Vec<&Resource> = self.resources.iter().collect();
        sorted.sort_by_key(|r| r.wave); // stable
        let mut out: Vec<(i32, Vec<&Resource>)> = Vec::new();
        for r in sorted {
            match out.last_mut() {
                Some((wave, members)) if *wave == r.wave => members.push(r),
                _ => out.push((r.wave, vec![r])),
            }
        }
        out
    }

    /// Orders the resources by wave, ascending; file order is kept within a wave.
    pub fn sort_by_wave(&mut self) {
        self.resources.sort_by_key(|r| r.wave);
    }
}

#[cfg(test)]
#[path = "waves_tests.rs"]
mod tests;
