use super::ClusterError;

fn api(code: u16) -> ClusterError {
    ClusterError::Api {
        action: "writing".into(),
        code,
        reason: String::new(),
        message: String::new(),
    }
}

#[test]
fn unreachable_throttled_and_5xx_are_transient_rejections_are_not() {
    let unreachable = ClusterError::Transport {
        action: "writing".into(),
        cause: "connection refused".into(),
    };
    assert!(unreachable.is_transient());
    assert!(api(429).is_transient());
    assert!(api(503).is_transient());
    assert!(api(500).is_transient());
    assert!(!api(409).is_transient());
    assert!(!api(422).is_transient());
    assert!(!ClusterError::Config("no kubeconfig".into()).is_transient());
}
