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
mod tests {
    use super::*;
    use crate::manifest::{ObjectKey, Origin};

    fn res(group: &str, kind: &str, name: &str, wave: i32) -> Resource {
        Resource {
            key: ObjectKey {
                group: group.into(),
                version: "v1".into(),
                kind: kind.into(),
                namespace: None,
                name: name.into(),
            },
            object: serde_json::Value::Null,
            origin: Origin {
                file: "f.yaml".into(),
                document: 0,
                line: 1,
            },
            wave,
        }
    }

    #[test]
    fn default_waves_order_dependencies_first() {
        let ns = default_wave("", "Namespace");
        let crd = default_wave("apiextensions.k8s.io", "CustomResourceDefinition");
        let role = default_wave("rbac.authorization.k8s.io", "ClusterRole");
        let pc = default_wave("scheduling.k8s.io", "PriorityClass");
        let quota = default_wave("", "ResourceQuota");
        let sa = default_wave("", "ServiceAccount");
        let cm = default_wave("", "ConfigMap");
        let pdb = default_wave("policy", "PodDisruptionBudget");
        let svc = default_wave("", "Service");
        let ds = default_wave("apps", "DaemonSet");
        let sts = default_wave("apps", "StatefulSet");
        let job = default_wave("batch", "Job");
        let cr = default_wave("example.com", "Widget");
        assert_eq!((ns, crd), (0, 0));
        assert_eq!((role, pc, quota), (1, 1, 1));
        assert_eq!((sa, cm, pdb, svc), (2, 2, 2, 2));
        assert_eq!((ds, sts, job, cr), (3, 3, 3, 3));
        assert!(ns < role && role < sa && sa < ds);
    }

    #[test]
    fn kinds_are_matched_with_their_group() {
        assert_eq!(default_wave("example.com", "Namespace"), 3);
        assert_eq!(default_wave("example.com", "Secret"), 3);
        assert_eq!(default_wave("", "CustomResourceDefinition"), 3);
    }

    #[test]
    fn waves_are_ascending_and_stable() {
        let bundle = Bundle {
            resources: vec![
                res("apps", "DaemonSet", "a", 3),
                res("", "ConfigMap", "b", 2),
                res("", "Namespace", "c", 0),
                res("apps", "StatefulSet", "d", 3),
                res("", "ConfigMap", "e", 2),
                res("batch", "Job", "f", -1),
            ],
        };
        let waves: Vec<(i32, Vec<&str>)> = bundle
            .waves()
            .into_iter()
            .map(|(w, rs)| (w, rs.iter().map(|r| r.key.name.as_str()).collect()))
            .collect();
        assert_eq!(
            waves,
            vec![
                (-1, vec!["f"]),
                (0, vec!["c"]),
                (2, vec!["b", "e"]),
                (3, vec!["a", "d"])
            ]
        );
        let mut sorted = bundle.clone();
        sorted.sort_by_wave();
        let names: Vec<&str> = sorted
            .resources
            .iter()
            .map(|r| r.key.name.as_str())
            .collect();
        assert_eq!(names, ["f", "c", "b", "e", "a", "d"]);
        assert!(Bundle::default().waves().is_empty());
    }
}
