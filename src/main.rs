//! The `ferry` binary: parses arguments, runs one command, maps results to exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use ferry::cli::{
    render_plan, render_sync, AppArgs, Cli, ClusterArgs, ColorChoice, Command, OutputFormat,
    ProgressSink,
};
use ferry::cluster::{Cluster, ClusterTarget, DEFAULT_FERRY_NAMESPACE};
use ferry::config::{self, AppSpec, ConfigFile};
use ferry::manifest::Limits;
use ferry::reconcile::{self, Engine, SyncOptions};

/// Exit code for errors (plan uses 0/1 for no-changes/changes, like `kubectl diff`).
const EXIT_ERROR: u8 = 2;
/// Exit code of `ferry sync` when a rollout gate failed (applied, but not healthy).
const EXIT_GATE_FAILED: u8 = 3;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

async fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Plan(args) => {
            let (engine, app) = setup(&args.app, &args.cluster, args.prune.then_some(true)).await?;
            let plan = reconcile::plan(&engine, &app).await?;
            match args.output {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&plan)?),
                OutputFormat::Text => {
                    print!("{}", render_plan(&plan, args.diff, args.color.enabled()))
                }
            }
            if plan.invalid().next().is_some() {
                return Ok(EXIT_ERROR);
            }
            Ok(u8::from(plan.has_changes()))
        }
        Command::Sync(args) => {
            let (engine, app) = setup(&args.app, &args.cluster, args.prune.then_some(true)).await?;
            let gates = args.gates.config();
            let json = args.output == OutputFormat::Json;
            let progress = ProgressSink::new(json);
            let on_gate_event: reconcile::GateEvents =
                std::sync::Arc::new(move |event| progress.show(&event));
            let policy = args.on_failure.unwrap_or(app.failure_policy);
            let dry_run = args.dry_run;
            let outcome = reconcile::sync_with_policy(&engine, &app, policy, || SyncOptions {
                dry_run,
                gates: gates.clone(),
                on_gate_event: Some(on_gate_event.clone()),
                ..Default::default()
            })
            .await?;
            match args.output {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&outcome)?),
                OutputFormat::Text => {
                    let color = args.color.enabled();
                    print!("{}", render_sync(&outcome.sync, args.diff, color));
                    if let Some(rollback) = &outcome.reverted {
                        let r = &rollback.revert;
                        println!(
                            "\nfailurePolicy revert: wrote and pushed revert commit {} on {}",
                            &r.sha[..r.sha.len().min(7)],
                            r.branch
                        );
                        print!("{}", render_sync(&rollback.sync, false, color));
                    }
                    if let Some(warning) = &outcome.warning {
                        eprintln!("WARNING: {warning}");
                    }
                    if let Some(fallback) = &outcome.fallback {
                        print!("{}", render_sync(fallback, false, color));
                    }
                }
            }
            let report = &outcome.sync;
            Ok(sync_exit_code(report))
        }
        Command::History(args) => {
            let file = match &args.config {
                Some(path) => config::load(path)?,
                None => ConfigFile::default(),
            };
            let app = match (&args.app, file.apps.as_slice()) {
                (Some(a), _) => Some(a.clone()),
                (None, [only]) => only.name.clone(),
                _ => None,
            };
            let cluster = Cluster::connect(&ClusterTarget {
                kubeconfig: args.cluster.kubeconfig.clone(),
                context: args.cluster.context.clone(),
            })
            .await?;
            let namespace = args
                .cluster
                .ferry_namespace
                .clone()
                .or(file.ferry_namespace.clone())
                .unwrap_or_else(|| DEFAULT_FERRY_NAMESPACE.to_string());
            let history = ferry::history::History::new(cluster, namespace);
            if let Some(query) = &args.sync {
                let app = app.context("name the app with --app to look up one sync")?;
                let record = history
                    .get(&app, query)
                    .await?
                    .with_context(|| format!("no sync {query:?} in the history of {app}"))?;
                match args.output {
                    OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&record)?),
                    OutputFormat::Text => print!("{}", ferry::history::render_detail(&record)),
                }
                return Ok(0);
            }
            let records = match &app {
                Some(app) => history.list(app, Some(args.limit)).await?,
                None => history.list_all(Some(args.limit)).await?,
            };
            match args.output {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&records)?),
                OutputFormat::Text if records.is_empty() => println!("No syncs recorded."),
                OutputFormat::Text => print!("{}", ferry::history::render_table(&records)),
            }
            Ok(0)
        }
        Command::Rollback(args) => {
            let (engine, app) = setup(&args.app, &args.cluster, args.prune.then_some(true)).await?;
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
                    gates: args.gates.config(),
                    on_gate_event: Some(on_gate_event),
                    ..Default::default()
                },
                &show_plan,
            )
            .await?;
            match args.output {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
                OutputFormat::Text => {
                    let r = &report.revert;
                    println!(
                        "Wrote revert commit {} on {} reverting {}{}",
                        &r.sha[..r.sha.len().min(7)],
                        r.branch,
                        r.reverted
                            .iter()
                            .map(|s| &s[..s.len().min(7)])
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
    }
}

async fn setup(
    app_args: &AppArgs,
    cluster_args: &ClusterArgs,
    prune: Option<bool>,
) -> anyhow::Result<(Engine, AppSpec)> {
    let file = match &app_args.config {
        Some(path) => config::load(path)?,
        None => ConfigFile::default(),
    };
    let app = file
        .app(app_args.app.as_deref())?
        .overridden_by(app_args.as_overrides(prune))
        .resolve()?;
    let cluster = Cluster::connect(&ClusterTarget {
        kubeconfig: cluster_args.kubeconfig.clone(),
        context: cluster_args.context.clone(),
    })
    .await?;
    let cache_dir = match &cluster_args.cache_dir {
        Some(dir) => dir.clone(),
        None => default_cache_dir().context("cannot find a cache directory; pass --cache-dir")?,
    };
    let ferry_namespace = cluster_args
        .ferry_namespace
        .clone()
        .or(file.ferry_namespace.clone())
        .unwrap_or_else(|| DEFAULT_FERRY_NAMESPACE.to_string());
    Ok((
        Engine {
            cluster,
            cache_dir,
            ferry_namespace,
            limits: Limits::default(),
            concurrency: cluster_args.concurrency.max(1),
        },
        app,
    ))
}

fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("ferry"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("ferry"))
}

fn sync_exit_code(report: &reconcile::SyncReport) -> u8 {
    if report.failed_gate().is_some() {
        EXIT_GATE_FAILED
    } else if report.succeeded() {
        0
    } else {
        EXIT_ERROR
    }
}
