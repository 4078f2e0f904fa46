use super::*;

#[test]
fn serve_prune_fills_only_apps_that_leave_prune_unset() {
    let Cli {
        command: Command::Serve(serve),
        ..
    } = Cli::parse_from(["ferry", "serve", "--prune"])
    else {
        panic!("not serve");
    };
    let app = |prune| AppConfig {
        prune,
        ..Default::default()
    };
    assert_eq!(serve.fill_unset(app(None)).prune, Some(true));
    assert_eq!(serve.fill_unset(app(Some(false))).prune, Some(false));
    let Cli {
        command: Command::Serve(plain),
        ..
    } = Cli::parse_from(["ferry", "serve"])
    else {
        panic!("not serve");
    };
    assert_eq!(plain.fill_unset(app(None)).prune, None);
}

#[test]
fn gate_flags_set_only_what_was_given() {
    let Cli {
        command: Command::Sync(sync),
        ..
    } = Cli::parse_from(["ferry", "sync", "--no-wait", "--grace", "5s"])
    else {
        panic!("not sync");
    };
    let flags = sync.gates.settings();
    assert_eq!(flags.wait, Some(false));
    assert_eq!(flags.grace, Some(std::time::Duration::from_secs(5)));
    assert_eq!(flags.timeout, None);
    assert_eq!(flags.unstick_statefulsets, None);
    assert_eq!(flags.failures_allowed, None, "no flag: the app decides");
    let Cli {
        command: Command::Sync(plain),
        ..
    } = Cli::parse_from(["ferry", "sync"])
    else {
        panic!("not sync");
    };
    assert_eq!(
        plain.gates.settings(),
        crate::rollout::GateSettings::default()
    );
}
