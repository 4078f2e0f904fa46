//! `ferry history`: the sync history table, or one sync in detail.

use anyhow::Context;
use ferry::cli::{HistoryArgs, OutputFormat};
use ferry::cluster::{Cluster, ClusterTarget, DEFAULT_FERRY_NAMESPACE};
use ferry::config::{self, ConfigFile};

/// Prints the history of one app (or all apps), or one sync.
pub async fn run(args: HistoryArgs) -> anyhow::Result<u8> {
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
