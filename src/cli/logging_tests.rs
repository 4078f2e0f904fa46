use super::*;

#[test]
fn default_level_silences_libraries() {
    let f = log_filter("warn");
    assert!(f.starts_with("warn,"), "{f}");
    assert!(f.contains("kube_client=off"), "{f}");
    assert!(f.contains("hyper=off"), "{f}");
    assert!(log_filter("").starts_with("kube=off"));
    assert!(log_filter("info,ferry=debug").contains("tower=off"));
}

#[test]
fn asking_for_a_library_or_debug_keeps_the_filter() {
    for spec in [
        "debug",
        "TRACE",
        "warn,kube=debug",
        "kube_client::client=trace",
    ] {
        assert_eq!(log_filter(spec), spec);
    }
    // A ferry module at debug does not turn the libraries on.
    assert!(log_filter("ferry=debug").contains("kube=off"));
}
