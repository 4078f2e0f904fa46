use chrono::Utc;

use super::actions::is_sha;
use super::apps_page::{render, row, AppsFilter};
use super::view::{AppView, HealthState, SyncState};
use crate::config::{AppConfig, AppSpec};
use crate::reconcile::worker::AppStatus;

fn spec(name: &str) -> AppSpec {
    AppConfig {
        name: Some(name.into()),
        repo: Some("https://github.com/acme/fleet.git".into()),
        path: Some("apps/agent".into()),
        ..Default::default()
    }
    .resolve()
    .unwrap()
}

fn synced(name: &str) -> AppStatus {
    AppStatus {
        name: name.into(),
        repo: "https://github.com/acme/fleet.git".into(),
        attempted: true,
        synced_commit: Some("a".repeat(40)),
        head_commit: Some("a".repeat(40)),
        synced_subject: Some("bump agent".into()),
        last_outcome: Some("succeeded".into()),
        ..Default::default()
    }
}

fn view(status: AppStatus) -> AppView {
    AppView::new(&spec(&status.name.clone()), status, Utc::now())
}

#[test]
fn sync_state_and_health_follow_the_status() {
    let v = view(synced("a"));
    assert_eq!(
        (v.sync, v.health),
        (SyncState::Synced, HealthState::Healthy)
    );

    let mut s = synced("a");
    s.head_commit = Some("b".repeat(40));
    assert_eq!(view(s).sync, SyncState::OutOfSync);

    let mut s = synced("a");
    s.drift
        .insert("ConfigMap ns/x".into(), vec!["data.v".into()]);
    let v = view(s);
    assert_eq!(v.sync, SyncState::OutOfSync);
    assert!(v.reason.unwrap().contains("1 object(s) drifted"));

    let mut s = synced("a");
    s.last_outcome = Some("gate-failed".into());
    s.last_reason = Some("gate-failed: DaemonSet ns/a: ImagePullBackOff".into());
    let v = view(s);
    assert_eq!(v.health, HealthState::Degraded);
    assert!(v.reason.unwrap().contains("ImagePullBackOff"));

    let mut s = synced("a");
    s.last_error = Some("fetch failed".into());
    assert_eq!(view(s).sync, SyncState::Error);

    let mut s = synced("a");
    s.window_blocked = Some("outside the allow window".into());
    assert_eq!(view(s).sync, SyncState::WindowClosed);

    let mut s = synced("a");
    s.syncing = true;
    assert_eq!(view(s).sync, SyncState::Syncing);

    let fresh = view(AppStatus {
        name: "a".into(),
        ..Default::default()
    });
    assert_eq!(
        (fresh.sync, fresh.health),
        (SyncState::Unknown, HealthState::Unknown)
    );
}

#[test]
fn the_filter_matches_text_and_state() {
    let v = view(synced("agent"));
    assert!(v.matches("", None));
    assert!(v.matches("agent", None));
    assert!(v.matches("fleet", None), "the repository");
    assert!(v.matches("bump", None), "the subject");
    assert!(!v.matches("other", None));
    assert!(v.matches("", Some("synced")));
    assert!(v.matches("", Some("healthy")));
    assert!(!v.matches("", Some("degraded")));
}

#[test]
fn the_apps_page_escapes_what_git_and_config_put_in_it() {
    let mut s = synced("agent");
    s.synced_subject = Some("<script>alert(1)</script> & more".into());
    s.synced_author = Some("\"Eve\" <eve@example.com>".into());
    let html = row(&view(s), false, Utc::now()).into_string();
    assert!(!html.contains("<script>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"),
        "{html}"
    );
    assert!(
        html.contains("&quot;Eve&quot; &lt;eve@example.com&gt;"),
        "{html}"
    );
}

#[test]
fn the_apps_page_filters_on_the_server_and_clips_long_subjects() {
    let mut long = synced("long");
    long.synced_subject = Some("x".repeat(80));
    let views = vec![view(synced("agent")), view(long)];
    let filter = AppsFilter {
        q: "LONG".into(),
        state: String::new(),
    };
    let html = render(&views, &filter, false, Utc::now()).into_string();
    assert!(html.contains("1 of 2"), "one shown");
    let agent_row = html
        .split("<tr")
        .find(|r| r.contains("/apps/agent"))
        .unwrap();
    assert!(agent_row.contains(" hidden"), "{agent_row}");
    assert!(html.contains(&format!("{}…", "x".repeat(50))));
    assert!(!html.contains(&"x".repeat(51)));
    assert!(html.contains("Read-only"), "no token: says so");
    assert!(
        html.contains(">acme/fleet · "),
        "grouped by repository: {html}"
    );
}

#[test]
fn badges_say_sync_and_health_in_their_colour() {
    let v = view(synced("agent"));
    let svg = super::badge::render("agent", Some(&v)).into_string();
    assert!(svg.starts_with("<?xml"), "{svg}");
    assert!(svg.contains(">synced · healthy</text>"), "{svg}");
    assert!(svg.contains("#2e7d32"), "green");
    let mut s = synced("agent");
    s.last_outcome = Some("failed".into());
    s.last_reason = Some("failed: x".into());
    let svg = super::badge::render("agent", Some(&view(s))).into_string();
    assert!(
        svg.contains("synced · degraded") && svg.contains("#c62828"),
        "{svg}"
    );
    let unknown = super::badge::render("<x>", None).into_string();
    assert!(
        unknown.contains("unknown app") && !unknown.contains("<x>"),
        "{unknown}"
    );
}

#[test]
fn only_hex_shas_are_taken() {
    assert!(is_sha("abc1234"));
    assert!(is_sha(&"f".repeat(40)));
    assert!(!is_sha("abc"), "too short");
    assert!(!is_sha("main"));
    assert!(!is_sha("abc1234; rm -rf"));
}

#[test]
fn commit_links_point_at_known_forges_only() {
    let github = spec("a");
    assert_eq!(
        super::links::commit_url(&github, "abc").as_deref(),
        Some("https://github.com/acme/fleet/commit/abc")
    );
    let unknown = AppConfig {
        name: Some("b".into()),
        repo: Some("https://git.internal.example/acme/fleet.git".into()),
        ..Default::default()
    }
    .resolve()
    .unwrap();
    assert_eq!(super::links::commit_url(&unknown, "abc"), None);
}
