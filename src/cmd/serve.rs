//! `ferry serve`: one loop per app, the HTTP server, leader election or sharding, and a
//! graceful stop.

use anyhow::Context;
use ferry::config::{self, ConfigFile};
use ferry::reconcile;

use super::{engine, wait_for_signal, EXIT_ERROR};

/// `ferry serve`: one loop per app, the HTTP server, and a graceful stop on SIGTERM/SIGINT.
pub async fn run(args: ferry::cli::ServeArgs) -> anyhow::Result<u8> {
    use ferry::cluster::leader;
    use ferry::reconcile::slots::SyncSlots;
    use ferry::reconcile::worker::{new_handle, spawn_loop, LoopSettings};
    use ferry::reconcile::JanitorScope;
    use ferry::server::{bind, spawn as spawn_http, ServerState};
    use ferry::shard::{RequestRouter, Seat, ShardManager, ShardTimings};

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
    let identity = args
        .identity
        .clone()
        .unwrap_or_else(leader::default_identity);
    let mut engine = engine;
    engine.identity = identity.clone();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Without leader election or sharding the loops start at once; with an election, when
    // the lease is ours; sharded, each shard's loops while this replica holds its Lease.
    let (start_tx, start_rx) = tokio::sync::watch::channel(!args.leader_elect);
    let shards = args.shards.map(|count| {
        ShardManager::new(
            engine.cluster.clone(),
            engine.ferry_namespace.clone(),
            identity.clone(),
            count,
            ShardTimings::default(),
        )
    });
    // The one seat of an unsharded serve: granted now, or once this replica leads.
    let seat = std::sync::Arc::new(std::sync::Mutex::new(Seat::new()));
    let ownership_of = |app: &str| match &shards {
        Some(manager) => manager.ownership_of(app),
        None => lock(&seat).subscribe(),
    };
    let slots = SyncSlots::new(usize::try_from(args.max_concurrent_syncs).unwrap_or(usize::MAX));
    // The handles first, so the listener (health, webhooks, API) is up before any app loop,
    // watch or janitor starts: all of that start-up work happens behind it. Each app's first
    // sync is already requested, so /readyz stays 503 until every app attempted it.
    // Every app's status changes and gate events, for the web UI's live updates.
    let feed = ferry::reconcile::feed::StatusFeed::default();
    let apps: Vec<_> = specs
        .iter()
        .map(|spec| (spec.clone(), new_handle(spec, &feed)))
        .collect();
    let mut state = ServerState::new(
        apps.clone(),
        webhook_secrets,
        engine.history(),
        args.api_auth()?,
        args.http_limits(),
    )
    .with_sync_slots(slots.clone())
    .with_notifier(engine.notifier.clone())
    .with_ui(engine.clone(), feed);
    if let Some(manager) = &shards {
        state = state.with_router(RequestRouter::new(
            manager.table(),
            engine.cluster.clone(),
            engine.ferry_namespace.clone(),
            identity.clone(),
        ));
    }
    let state = std::sync::Arc::new(state);
    let listener = bind(args.listen)?;
    let mut server_stop = stop_rx.clone();
    let server = spawn_http(listener, state, async move {
        // An error means the sender is gone, which is a stop too.
        let _ = server_stop.wait_for(|stop| *stop).await;
    })
    .context("starting the HTTP server's thread")?;
    eprintln!(
        "ferry serve: {} app(s), listening on http://{}",
        specs.len(),
        args.listen
    );
    let mut tasks = Vec::new();
    // Drift on live changes: one metadata watch per kind for every app, dispatched by app label.
    let mut live = ferry::trigger::live::SharedLiveWatch::new(
        engine.cluster.clone(),
        ferry::trigger::live::LiveWatchSettings {
            ferry_namespace: engine.ferry_namespace.clone(),
            debounce: std::time::Duration::from_secs(1),
        },
    );
    // Only the replica that leads closes records of syncs whose ferry died: one janitor for
    // every app, one list of the history per sweep. Sharded, each replica sweeps its shards.
    let scope = match &shards {
        Some(manager) => JanitorScope::HeldShards(manager.table()),
        None => JanitorScope::All,
    };
    tasks.push(reconcile::spawn_janitor(
        engine.clone(),
        specs.iter().map(|spec| spec.name.clone()).collect(),
        scope,
        start_rx.clone(),
        stop_rx.clone(),
    ));
    if shards.is_some() {
        // Requests another replica received for apps whose shard may be ours.
        tasks.push(ferry::shard::handoff::spawn_handoff_watch(
            engine.cluster.clone(),
            engine.ferry_namespace.clone(),
            apps.iter()
                .map(|(spec, handle)| (spec.name.clone(), handle.requests()))
                .collect(),
            stop_rx.clone(),
        ));
    }
    for (spec, handle) in apps {
        let settings = LoopSettings {
            interval: spec.interval,
            gates: ferry::rollout::gate_config(&args.gates.settings(), &spec.gates),
            max_backoff: args.max_backoff,
            heal_interval: args.heal_interval,
            ownership: ownership_of(&spec.name),
            slots: slots.clone(),
            live: live.coverage(),
            drift_check_interval: args.drift_check_interval,
        };
        ferry::trigger::poll::spawn_poller(handle.requests(), spec.interval, stop_rx.clone());
        live.register(handle.requests());
        if let ferry::source::RepoLocation::Local(path) = &spec.location {
            // Editing manifests next to a local cluster: changes on disk trigger a look.
            ferry::trigger::watch::watch_app(
                handle.requests(),
                path,
                std::time::Duration::from_millis(300),
                stop_rx.clone(),
            )?;
        }
        tasks.push(spawn_loop(
            engine.clone(),
            spec,
            settings,
            handle,
            stop_rx.clone(),
        ));
    }
    live.spawn(start_rx.clone(), stop_rx.clone());
    if let Some(manager) = shards {
        eprintln!(
            "ferry serve: sharded over {} Leases in {} as {identity}",
            args.shards.map_or(0, ferry::shard::ShardCount::get),
            engine.ferry_namespace
        );
        let sharding = tokio::spawn(manager.run(stop_rx.clone()));
        wait_for_signal().await;
        eprintln!(
            "ferry serve: stopping (ferry was stopped); running syncs stop before their next write"
        );
        // The manager stops every shard's syncs, waits for them and releases the Leases.
        let _ = stop_tx.send(true);
        join_all(tasks).await;
        if let Err(e) = sharding.await {
            tracing::warn!(error = %e, "the sharding task panicked or was cancelled while stopping");
        }
        flush_on_stop(&engine).await;
        return join_server(server, false).await;
    }
    // The HTTP server (health, webhooks) runs while a standby waits for the lease.
    let elector = args.leader_elect.then(|| {
        eprintln!(
            "ferry serve: waiting for the leader lease {}/{} as {identity}",
            engine.ferry_namespace,
            leader::LEADER_LEASE
        );
        leader::Elector::new(
            engine.cluster.clone(),
            engine.ferry_namespace.clone(),
            identity.clone(),
            leader::ElectionTimings::default(),
        )
    });
    // The seat is granted once the loops may start (at once without an election).
    let mut started = start_rx.clone();
    let granting = seat.clone();
    let grant = tokio::spawn(async move {
        if started.wait_for(|go| *go).await.is_ok() {
            lock(&granting).grant();
        }
    });
    let (reason, leadership) = leader::lead_until(elector, &start_tx, wait_for_signal()).await;
    grant.abort();
    let lost_leadership = matches!(reason, ferry::cancel::StopReason::LeaseLost { .. });
    eprintln!("ferry serve: stopping ({reason}); running syncs stop before their next write");
    lock(&seat).cancel(reason);
    // Fails only when every receiver is gone: nothing left to stop.
    let _ = stop_tx.send(true);
    join_all(tasks).await;
    if let Some(leadership) = leadership {
        leadership.release().await;
    }
    flush_on_stop(&engine).await;
    join_server(server, lost_leadership).await
}

/// The last syncs' statuses and webhooks get a few seconds to go out before serve exits.
async fn flush_on_stop(engine: &ferry::reconcile::Engine) {
    if !engine
        .notifier
        .flush(std::time::Duration::from_secs(5))
        .await
    {
        tracing::warn!("stopping with notifications still queued; they are not sent");
    }
}

/// The seat, even if a panic poisoned its lock (it holds no invariant a panic can break).
fn lock(
    seat: &std::sync::Mutex<ferry::shard::Seat>,
) -> std::sync::MutexGuard<'_, ferry::shard::Seat> {
    seat.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn join_all(tasks: Vec<tokio::task::JoinHandle<()>>) {
    for task in tasks {
        if let Err(e) = task.await {
            tracing::warn!(error = %e, "a serve task panicked or was cancelled while stopping");
        }
    }
}

async fn join_server(
    server: std::thread::JoinHandle<Result<(), ferry::server::ServerError>>,
    lost_leadership: bool,
) -> anyhow::Result<u8> {
    match tokio::task::spawn_blocking(move || server.join()).await {
        Ok(Ok(Ok(()))) if lost_leadership => {
            eprintln!("ferry serve: lost the leader lease; exiting so another replica leads");
            Ok(EXIT_ERROR)
        }
        Ok(Ok(Ok(()))) => Ok(0),
        Ok(Ok(Err(e))) => Err(e.into()),
        Ok(Err(_)) => Err(anyhow::anyhow!("the HTTP server's thread panicked")),
        Err(e) => Err(anyhow::anyhow!("server task: {e}")),
    }
}
