//! A Lease-based leader lock (coordination.k8s.io/v1), so two `ferry serve` replicas never
//! sync at once. The holder renews `spec.renewTime`; another replica takes over only after
//! the lease has expired. Updates carry the resourceVersion read, so two contenders can
//! never both win (the loser gets 409 Conflict).

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Api, PostParams};

use super::{Cluster, ClusterError};

impl Cluster {
    /// Acquires or renews the lease `namespace/name` for `identity`. Returns true while this
    /// identity holds it, false when someone else does (or won a race).
    pub async fn try_acquire_lease(
        &self,
        namespace: &str,
        name: &str,
        identity: &str,
        duration: Duration,
    ) -> Result<bool, ClusterError> {
        let api: Api<Lease> = Api::namespaced(self.client.clone(), namespace);
        self.counters.read();
        let action = format!("reading lease {namespace}/{name}");
        let current = api
            .get_opt(name)
            .await
            .map_err(|e| ClusterError::from_kube(&action, e))?;
        let now = MicroTime(k8s_openapi::jiff::Timestamp::now());
        let seconds = i32::try_from(duration.as_secs()).unwrap_or(i32::MAX);
        self.counters.write();
        let Some(mut lease) = current else {
            let lease: Lease = serde_json::from_value(serde_json::json!({
                "metadata": { "name": name, "namespace": namespace },
                "spec": {
                    "holderIdentity": identity,
                    "leaseDurationSeconds": seconds,
                    "acquireTime": now,
                    "renewTime": now,
                    "leaseTransitions": 0,
                }
            }))
            .map_err(|e| ClusterError::Decode {
                action: "building a lease".into(),
                cause: e.to_string(),
            })?;
            return match api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                Err(e) => Err(ClusterError::from_kube(
                    format!("creating lease {namespace}/{name}"),
                    e,
                )),
            };
        };
        let spec = lease.spec.get_or_insert_with(Default::default);
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let expired = match (&spec.renew_time, spec.lease_duration_seconds) {
            (Some(renewed), Some(secs)) => {
                renewed.0.as_second() + i64::from(secs) < now.0.as_second()
            }
            _ => true,
        };
        if holder != identity && !expired {
            return Ok(false);
        }
        if holder != identity {
            spec.holder_identity = Some(identity.to_string());
            spec.acquire_time = Some(now.clone());
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
        }
        spec.renew_time = Some(now);
        spec.lease_duration_seconds = Some(seconds);
        match api.replace(name, &PostParams::default(), &lease).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(ClusterError::from_kube(
                format!("renewing lease {namespace}/{name}"),
                e,
            )),
        }
    }
}
