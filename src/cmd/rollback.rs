//! `ferry rollback`: write a git revert, show it, push it and sync it.

use ferry::cli::{render_sync, ColorChoice, OutputFormat, ProgressSink, RollbackArgs};
use ferry::reconcile::{self, SyncOptions};
use ferry::source::short_sha;

use super::{setup, sync_exit_code};

/// Rolls back (or says there is nothing to roll back) and maps the outcome to an exit code.
pub async fn run(args: RollbackArgs) -> anyhow::Result<u8> {
    let (engine, app) = setup(
        &args.app,
        &args.cluster,
        args.prune.then_some(true),
        &args.safety,
    )
    .await?;
    let json = args.output == OutputFormat::Json;
    let progress = ProgressSink::new(json);
    let on_gate_event: reconcile::GateEvents =
        std::sync::Arc::new(move |event| progress.show(&event));
    let request = reconcile::RollbackRequest {
        commit: args.commit.clone(),
        to: args.to.clone(),
        push: !args.no_push,
        message: args.message.clone(),
    };
    let show_plan = move |plan: &ferry::plan::Plan| {
        if !json {
            println!(
                "Rollback: {} {:?}",
                plan.commit.short_sha(),
                plan.commit.subject
            );
        }
    };
    let report = reconcile::rollback(
        &engine,
        &app,
        &request,
        SyncOptions {
            dry_run: false,
            gates: ferry::rollout::gate_config(&args.gates.settings(), &app.gates),
            on_gate_event: Some(on_gate_event),
            ..Default::default()
        },
        &show_plan,
    )
    .await;
    super::flush_notifications(&engine).await;
    let report = match report? {
        reconcile::Rollback::Reverted(report) => *report,
        nothing @ reconcile::Rollback::NothingToRollBack(_) => {
            match args.output {
                OutputFormat::Json => {
                    println!("{}", serde_json::to_string_pretty(&nothing)?);
                }
                OutputFormat::Text => print!("{}", ferry::cli::render_rollback(&nothing)),
            }
            return Ok(0);
        }
    };
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        OutputFormat::Text => {
            let r = &report.revert;
            println!(
                "Wrote revert commit {} on {} reverting {}{}",
                short_sha(&r.sha),
                r.branch,
                r.reverted
                    .iter()
                    .map(|s| short_sha(s))
                    .collect::<Vec<_>>()
                    .join(", "),
                if r.published {
                    ""
                } else {
                    " (not pushed: --no-push)"
                }
            );
            print!(
                "{}",
                render_sync(&report.sync, false, ColorChoice::Auto.enabled())
            );
        }
    }
    Ok(sync_exit_code(&report.sync))
}
