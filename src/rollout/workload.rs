//! The live workload a gate watches, decoded once from the cluster's JSON into its
//! `k8s_openapi` type, so every evaluator reads typed fields.

use k8s_openapi::api::apps::v1::{DaemonSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde_json::Value;

use super::util::decode;
use super::{daemonset, job, statefulset, GateTarget, Progress, RolloutError, WorkloadKind};

/// A gated workload as the API server returned it.
#[derive(Debug, Clone)]
pub(crate) enum Workload {
    /// `apps/v1` DaemonSet.
    DaemonSet(DaemonSet),
    /// `apps/v1` StatefulSet.
    StatefulSet(StatefulSet),
    /// `batch/v1` Job.
    Job(Job),
}

impl Workload {
    /// Decodes the live object of `target`; an error names the object when it does not parse.
    pub(crate) fn decode(target: &GateTarget, live: Value) -> Result<Workload, RolloutError> {
        let what = target.to_string();
        Ok(match target.kind {
            WorkloadKind::DaemonSet => Workload::DaemonSet(decode(&what, live)?),
            WorkloadKind::StatefulSet => Workload::StatefulSet(decode(&what, live)?),
            WorkloadKind::Job => Workload::Job(decode(&what, live)?),
        })
    }

    /// Its metadata.
    pub(crate) fn metadata(&self) -> &ObjectMeta {
        match self {
            Workload::DaemonSet(ds) => &ds.metadata,
            Workload::StatefulSet(sts) => &sts.metadata,
            Workload::Job(job) => &job.metadata,
        }
    }

    /// Its `spec.selector`.
    pub(crate) fn selector(&self) -> Option<&LabelSelector> {
        match self {
            Workload::DaemonSet(ds) => ds.spec.as_ref().map(|s| &s.selector),
            Workload::StatefulSet(sts) => sts.spec.as_ref().map(|s| &s.selector),
            Workload::Job(job) => job.spec.as_ref().and_then(|s| s.selector.as_ref()),
        }
    }

    /// True once the controller has observed the latest generation (DaemonSet, StatefulSet;
    /// a Job has no `observedGeneration`, so never).
    pub(crate) fn observed(&self) -> bool {
        match self {
            Workload::DaemonSet(ds) => daemonset::observed(ds),
            Workload::StatefulSet(sts) => statefulset::observed(sts),
            Workload::Job(_) => false,
        }
    }

    /// The kind's evaluator on this snapshot.
    pub(crate) fn evaluate(&self) -> Progress {
        match self {
            Workload::DaemonSet(ds) => daemonset::evaluate(ds),
            Workload::StatefulSet(sts) => statefulset::evaluate(sts),
            Workload::Job(j) => job::evaluate(j),
        }
    }
}
