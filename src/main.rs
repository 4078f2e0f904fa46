//! The `ferry` binary: parses arguments, runs one command, maps results to exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use ferry::cli::{
    render_plan, render_sync, render_sync_results, AppArgs, Cli, ClusterArgs, ColorChoice, Command,
    OutputFormat, ProgressSink,
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
    let filter = tracing_subscriber::EnvFilter::try_new(ferry::cli::log_filter(filter))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(ferry::cli::log_filter("warn")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

async fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Plan(args) => {
            let (engine, app) = setup(
                &args.app,
                &args.cluster,
                args.prune.then_some(true),
                &args.safety,
            )
            .await?;
            let plan = reconcile::plan(&engine, &app).await?;
            match args.output {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&plan)?),
                OutputFormat::Text => {
                    print!("{}", render_plan(&plan, args.diff, args.color.enabled()))
                }
            }
            if plan.invalid().next().is_some() || plan.refusal.is_some() {
                return Ok(EXIT_ERROR);
            }
            Ok(u8::from(plan.has_changes()))
        }
        Command::Sync(args) => {
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
                    let plan = reconcile::plan(&engine, &app).await?;
                    print!("{}", render_plan(&plan, args.diff, args.color.enabled()));
                    eprintln!("Not applied: {reason}. Use --force-window to apply anyway.");
                    return Ok(if plan.has_changes() { 1 } else { 0 });
                }
            }
            let gates = args.gates.config(&app.gates);
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
            .await?;
            match args.output {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&outcome)?),
                OutputFormat::Text => {
                    print!("{}", render_sync_results(&outcome.sync, color));
                    if let Some(rollback) = &outcome.reverted {
                        let r = &rollback.revert;
                        println!(
                            "\nfailurePolicy revert: wrote and pushed revert commit {} on {}",
                            &r.sha[..r.sha.len().min(7)],
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
        Command::Serve(args) => serve(args).await,
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
            let report = match reconcile::rollback(
                &engine,
                &app,
                &request,
                SyncOptions {
                    dry_run: false,
                    gates: args.gates.config(&app.gates),
                    on_gate_event: Some(on_gate_event),
                    ..Default::default()
                },
                &show_plan,
            )
            .await?
            {
                reconcile::Rollback::Reverted(report) => *report,
                nothing @ reconcile::Rollback::NothingToRollBack(_) => {
                    match args.output {
                        OutputFormat::Json => {
                            println!("{}", serde_json::to_string_pretty(&nothing)?)
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
    safety: &ferry::cli::SafetyArgs,
) -> anyhow::Result<(Engine, AppSpec)> {
    let file = match &app_args.config {
        Some(path) => config::load(path)?,
        None => ConfigFile::default(),
    };
    let mut app = file
        .app(app_args.app.as_deref())?
        .overridden_by(app_args.as_overrides(prune))
        .resolve()?;
    safety.apply_to(&mut app);
    Ok((engine(cluster_args, &file).await?, app))
}

/// The pipeline's shared settings: the cluster connection, caches and limits.
async fn engine(cluster_args: &ClusterArgs, file: &ConfigFile) -> anyhow::Result<Engine> {
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
    Ok(Engine {
        cluster,
        cache_dir,
        ferry_namespace,
        limits: Limits::default(),
        concurrency: cluster_args.concurrency.max(1),
        fetch_timeout: cluster_args.fetch_timeout,
    })
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

/// `ferry serve`: one loop per app, the HTTP server, and a graceful stop on SIGTERM/SIGINT.
async fn serve(args: ferry::cli::ServeArgs) -> anyhow::Result<u8> {
    use ferry::cluster::leader;
    use ferry::reconcile::worker::{spawn_app, LoopSettings};
    use ferry::server::{serve as serve_http, ServerState};

    let file = match &args.app.config {
        Some(path) => config::load(path)?,
        None => ConfigFile::default(),
    };
    // --prune fills only apps that leave `prune` unset; the other flags override.
    let overrides = args.app.as_overrides(None);
    let configs: Vec<config::AppConfig> = if file.apps.is_empty() || args.app.app.is_some() {
        vec![args.fill_unset(file.app(args.app.app.as_deref())?.overridden_by(overrides))]
    } else {
        file.apps
            .iter()
            .cloned()
            .map(|a| args.fill_unset(a.overridden_by(overrides.clone())))
            .collect()
    };
    let mut specs = Vec::new();
    for c in configs {
        let explicit_interval = c.interval.is_some();
        let mut spec = c.resolve()?;
        if let (false, Some(i)) = (explicit_interval, args.interval) {
            spec.interval = i;
        }
        specs.push(spec);
    }
    let engine = engine(&args.cluster, &file).await?;
    // The server-wide webhook secret: a file given on the command line must be readable; an
    // unset variable just leaves webhooks off.
    let secret = match &args.webhook_secret_file {
        Some(path) => Some(
            config::SecretRef {
                env: None,
                file: Some(path.clone()),
            }
            .read()
            .context("--webhook-secret-file")?,
        ),
        None => config::SecretRef {
            env: Some(args.webhook_secret_env.clone()),
            file: None,
        }
        .read()
        .ok(),
    };
    // Each app's webhook secret: its own (webhookSecret in ferry.yaml) or the server-wide one.
    let mut webhook_secrets = Vec::new();
    for spec in &specs {
        webhook_secrets.push(match &spec.webhook_secret {
            Some(reference) => Some(
                reference
                    .read()
                    .with_context(|| format!("app {}: webhookSecret", spec.name))?,
            ),
            None => secret.clone(),
        });
    }
    if webhook_secrets.iter().all(Option::is_none) {
        tracing::warn!(
            env = %args.webhook_secret_env,
            "no webhook secret: /hooks/* answer 503 until one is configured"
        );
        eprintln!(
            "ferry serve: webhooks disabled (set {} or --webhook-secret-file); polling only",
            args.webhook_secret_env
        );
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Without leader election the loops start at once; with it, when the lease is ours.
    let (start_tx, start_rx) = tokio::sync::watch::channel(!args.leader_elect);
    // Cancels running syncs before their next write (lease lost, SIGTERM).
    let (canceller, cancel) = ferry::cancel::channel();
    let mut apps = Vec::new();
    let mut tasks = Vec::new();
    for spec in &specs {
        // Only the replica that leads closes records of syncs whose ferry died.
        tasks.push(reconcile::spawn_janitor(
            engine.clone(),
            spec.name.clone(),
            start_rx.clone(),
            stop_rx.clone(),
        ));
        let settings = LoopSettings {
            interval: spec.interval,
            gates: args.gates.config(&spec.gates),
            max_backoff: args.max_backoff,
            heal_interval: args.heal_interval,
            start: start_rx.clone(),
            cancel: cancel.clone(),
        };
        let (handle, task) = spawn_app(engine.clone(), spec.clone(), settings, stop_rx.clone());
        ferry::trigger::poll::spawn_poller(handle.clone(), spec.interval, stop_rx.clone());
        // Drift on live changes: label-filtered metadata watches of the app's own objects.
        ferry::trigger::live::spawn_live_watch(
            engine.cluster.clone(),
            handle.clone(),
            ferry::trigger::live::LiveWatchSettings {
                ferry_namespace: engine.ferry_namespace.clone(),
                debounce: std::time::Duration::from_secs(1),
            },
            start_rx.clone(),
            stop_rx.clone(),
        );
        if let ferry::source::RepoLocation::Local(path) = &spec.location {
            // Editing manifests next to a local cluster: changes on disk trigger a look.
            ferry::trigger::watch::watch_app(
                handle.clone(),
                path,
                std::time::Duration::from_millis(300),
                stop_rx.clone(),
            )?;
        }
        apps.push((spec.clone(), handle));
        tasks.push(task);
    }
    let state = std::sync::Arc::new(ServerState::new(
        apps,
        webhook_secrets,
        engine.history(),
        args.api_auth()?,
        args.http_limits(),
    ));
    let mut server_stop = stop_rx.clone();
    let server = tokio::spawn(serve_http(args.listen, state, async move {
        let _ = server_stop.wait_for(|stop| *stop).await;
    }));
    eprintln!(
        "ferry serve: {} app(s), listening on http://{}",
        specs.len(),
        args.listen
    );
    // The HTTP server (health, webhooks) runs while a standby waits for the lease.
    let elector = args.leader_elect.then(|| {
        let identity = args
            .identity
            .clone()
            .unwrap_or_else(leader::default_identity);
        eprintln!(
            "ferry serve: waiting for the leader lease {}/{} as {identity}",
            engine.ferry_namespace,
            leader::LEADER_LEASE
        );
        leader::Elector::new(
            engine.cluster.clone(),
            engine.ferry_namespace.clone(),
            identity,
            leader::ElectionTimings::default(),
        )
    });
    let (reason, leadership) = leader::lead_until(elector, &start_tx, wait_for_signal()).await;
    let lost_leadership = matches!(reason, ferry::cancel::StopReason::LeaseLost { .. });
    eprintln!("ferry serve: stopping ({reason}); running syncs stop before their next write");
    canceller.cancel(reason);
    let _ = stop_tx.send(true);
    for task in tasks {
        let _ = task.await;
    }
    if let Some(leadership) = leadership {
        leadership.release().await;
    }
    match server.await {
        Ok(Ok(())) if lost_leadership => {
            eprintln!("ferry serve: lost the leader lease; exiting so another replica leads");
            Ok(EXIT_ERROR)
        }
        Ok(Ok(())) => Ok(0),
        Ok(Err(e)) => Err(e.into()),
        Err(e) => Err(anyhow::anyhow!("server task: {e}")),
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// `ferry sync --server URL --app A`: asks a running `ferry serve` to sync the app now.
async fn request_server_sync(server: &str, args: &ferry::cli::SyncArgs) -> anyhow::Result<u8> {
    let app = args
        .app
        .app
        .as_deref()
        .context("--server needs --app to name the app to sync")?;
    let rest = server.strip_prefix("http://").context(
        "--server must be an http:// URL (ferry serve speaks plain HTTP; put TLS in front)",
    )?;
    let (host, base) = rest.split_once('/').unwrap_or((rest, ""));
    let query = if args.force_window {
        "?forceWindow=true"
    } else {
        ""
    };
    let path = format!(
        "/{}api/apps/{app}/sync{query}",
        if base.is_empty() {
            String::new()
        } else {
            format!("{}/", base.trim_end_matches('/'))
        }
    );
    let mut stream = tokio::net::TcpStream::connect(host)
        .await
        .with_context(|| format!("cannot reach ferry serve at {server}"))?;
    let token = ferry::server::api_token(args.api_token_file.as_ref())?;
    let authorization = match token {
        Some(t) => format!("Authorization: Bearer {}\r\n", String::from_utf8_lossy(&t)),
        None => String::new(),
    };
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{authorization}Content-Length: 0\r\n\r\n"
    );
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let status = response.split_whitespace().nth(1).unwrap_or("0");
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or("");
    println!("{body}");
    Ok(if status == "202" { 0 } else { EXIT_ERROR })
}
