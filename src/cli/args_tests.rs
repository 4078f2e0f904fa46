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
