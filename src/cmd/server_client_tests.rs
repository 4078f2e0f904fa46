use super::sync_url;

#[test]
fn the_sync_url_keeps_a_base_path_and_the_window_override() {
    let url = |server| sync_url(server, "web", false).unwrap();
    assert_eq!(
        url("http://127.0.0.1:8080"),
        "http://127.0.0.1:8080/api/apps/web/sync"
    );
    assert_eq!(
        url("http://127.0.0.1:8080/"),
        "http://127.0.0.1:8080/api/apps/web/sync"
    );
    assert_eq!(
        url("http://h:1/ferry/"),
        "http://h:1/ferry/api/apps/web/sync"
    );
    assert_eq!(
        sync_url("http://h:1", "web", true).unwrap(),
        "http://h:1/api/apps/web/sync?forceWindow=true"
    );
    let https = sync_url("https://h", "web", false).unwrap_err();
    assert!(
        https.to_string().contains("must be an http:// URL"),
        "{https}"
    );
}
