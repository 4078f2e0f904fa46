use std::error::Error as _;

use super::ClusterError;

fn api(code: u16) -> ClusterError {
    ClusterError::Api {
        action: "writing".into(),
        code,
        reason: String::new(),
        message: String::new(),
    }
}

fn refused() -> kube::Error {
    kube::Error::Service(Box::new(std::io::Error::new(
        std::io::ErrorKind::ConnectionRefused,
        "connection refused",
    )))
}

#[test]
fn unreachable_throttled_and_5xx_are_transient_rejections_are_not() {
    let unreachable = ClusterError::Transport {
        action: "writing".into(),
        source: refused(),
    };
    assert!(unreachable.is_transient());
    assert!(api(429).is_transient());
    assert!(api(503).is_transient());
    assert!(api(500).is_transient());
    assert!(!api(409).is_transient());
    assert!(!api(422).is_transient());
    let config = ClusterError::Config {
        context: None,
        source: "no kubeconfig".into(),
    };
    assert!(!config.is_transient());
}

#[test]
fn a_transport_error_keeps_its_cause_and_says_it() {
    let err = ClusterError::from_kube("reading ConfigMap a/b", refused());
    assert!(matches!(err, ClusterError::Transport { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "reading ConfigMap a/b: cannot reach the API server: ServiceError: connection refused"
    );
    let cause = err.source().map(ToString::to_string);
    assert_eq!(cause.as_deref(), Some("ServiceError: connection refused"));
    assert_eq!(err.code(), None);
}

#[test]
fn a_wait_that_runs_out_is_a_timeout_not_an_http_status() {
    let err = ClusterError::Timeout {
        waited_for: "Job a/b to be deleted".into(),
        after: std::time::Duration::from_secs(30),
    };
    assert!(matches!(err, ClusterError::Timeout { .. }));
    assert!(!err.is_transient());
    assert_eq!(err.code(), None);
    assert_eq!(
        err.to_string(),
        "waiting for Job a/b to be deleted: timed out after 30s"
    );
}

#[test]
fn a_config_error_names_what_was_read_and_why() {
    let err = ClusterError::Config {
        context: Some("reading /nowhere".into()),
        source: "No such file or directory".into(),
    };
    assert_eq!(
        err.to_string(),
        "cannot configure a Kubernetes client: reading /nowhere: No such file or directory"
    );
    assert!(err.source().is_some());
}
