//! `ferry sync`: plan, apply wave by wave with gates, prune; or ask a running `ferry serve`.

use ferry::cli::{render_plan, render_sync_results, OutputFormat, ProgressSink, SyncArgs};
use ferry::reconcile::{self, SyncOptions};

use super::{server_client::request_server_sync, setup, sync_exit_code, wait_for_signal};

/// Syncs the app once (or asks `--server` to) and maps the outcome to an exit code.
pub async fn run(args: SyncArgs) -> anyhow::Result<u8> {
    if let Some(server) = &args.server {
        return request_server_sync(server, &args).await;
    }
    let (engine, app) = setup(
        &args.app,
        &args.cluster,
        args.prune.then_some(true),
        &args.safety,
    )
    .await?;
    if !args.force_window && !args.dry_run {
        if let Err(reason) = app.windows.check(chrono::Utc::now()) {
            let plan = reconcile::plan(&engine, &app, reconcile::PlanFrom::Head).await?;
            print!("{}", render_plan(&plan, args.diff, args.color.enabled()));
            eprintln!("Not applied: {reason}. Use --force-window to apply anyway.");
            return Ok(if plan.has_changes() { 1 } else { 0 });
        }
    }
    let gates = ferry::rollout::gate_config(&args.gates.settings(), &app.gates);
    let json = args.output == OutputFormat::Json;
    let progress = ProgressSink::new(json);
    let on_gate_event: reconcile::GateEvents =
        std::sync::Arc::new(move |event| progress.show(&event));
    let policy = args.on_failure.unwrap_or(app.failure_policy);
    let dry_run = args.dry_run;
    let color = args.color.enabled();
    // The plan is shown before it runs; rollout progress and results follow.
    let on_plan = (!json).then(|| ferry::cli::print_plan_hook(args.diff, color));
    // SIGTERM / Ctrl-C stop the sync before its next write (recorded interrupted); a
    // second one exits at once.
    let (canceller, cancel) = ferry::cancel::channel();
    tokio::spawn(async move {
        wait_for_signal().await;
        canceller.cancel(ferry::cancel::StopReason::Shutdown);
        wait_for_signal().await;
        std::process::exit(130);
    });
    let outcome = reconcile::sync_with_policy(&engine, &app, policy, || SyncOptions {
        dry_run,
        gates: gates.clone(),
        on_gate_event: Some(on_gate_event.clone()),
        on_plan: on_plan.clone(),
        cancel: cancel.clone(),
        ..Default::default()
    })
    .await;
    // Statuses and webhooks of this sync go out before the process ends, errors included.
    super::flush_notifications(&engine).await;
    let outcome = outcome?;
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&outcome)?),
        OutputFormat::Text => {
            print!("{}", render_sync_results(&outcome.sync, color));
            if let Some(rollback) = &outcome.reverted {
                let r = &rollback.revert;
                println!(
                    "\nfailurePolicy revert: wrote and pushed revert commit {} on {}",
                    ferry::source::short_sha(&r.sha),
                    r.branch
                );
                print!("{}", render_sync_results(&rollback.sync, color));
            }
            if let Some(warning) = &outcome.warning {
                eprintln!("WARNING: {warning}");
            }
            if let Some(fallback) = &outcome.fallback {
                print!("{}", render_sync_results(fallback, color));
            }
        }
    }
    let report = &outcome.sync;
    Ok(sync_exit_code(report))
}
