use anyhow::Context;

use super::describe;

#[test]
fn each_cause_is_said_once() {
    let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
    let cluster = ferry::cluster::ClusterError::Transport {
        action: "reading ConfigMap a/b".into(),
        source: kube::Error::Service(Box::new(refused)),
    };
    let err = anyhow::Error::new(cluster);
    assert_eq!(
        describe(&err),
        "reading ConfigMap a/b: cannot reach the API server: ServiceError: connection refused"
    );
}

#[test]
fn context_and_a_cause_it_does_not_repeat_are_both_said() {
    let err = Err::<(), _>(std::io::Error::other("Connection refused (os error 111)"))
        .context("cannot reach ferry serve at http://127.0.0.1:1")
        .unwrap_err();
    assert_eq!(describe(&err), format!("{err:#}"));
}
