use super::*;

fn api(code: u16, message: &str) -> ClusterError {
    ClusterError::Api {
        action: "dry-run applying ConfigMap a/b".into(),
        code,
        reason: String::new(),
        message: message.into(),
    }
}

#[test]
fn the_objects_fault_or_the_servers() {
    assert!(rejected(&api(422, "spec.selector: Required value")));
    assert!(rejected(&api(413, "Request entity too large")));
    assert!(rejected(&api(
        500,
        "failed to create typed patch object (a/b; /v1, Kind=ConfigMap): .data.k: expected string"
    )));
    // Real outages stay errors: retried, never reported as a bad manifest.
    assert!(rejected(&api(
        500,
        "failed to convert new object (a/b; apps/v1, Kind=DaemonSet) to proper version: \
         quantities must match the regular expression"
    )));
    assert!(!rejected(&api(500, "etcdserver: request timed out")));
    assert!(!rejected(&api(
        500,
        "failed to convert live object (a/b) to proper version"
    )));
    assert!(!rejected(&api(
        500,
        "failed to create typed live object: x"
    )));
    assert!(!rejected(&api(503, "failed to create typed patch object")));
    assert!(!rejected(&ClusterError::Transport {
        action: "x".into(),
        source: kube::Error::Service("connection refused".into())
    }));
}
