//! The first half of a sync: fetch the app's repository, read one commit into a bundle whose
//! kinds are resolved on the cluster ([`prepare`]), and plan it ([`plan`]), charging the
//! plan's stats with every API call it took.

use std::collections::HashMap;

use super::{inventory, Engine, ReconcileError};
use crate::cluster::ServedKind;
use crate::config::AppSpec;
use crate::history::{job_spec_hash, CompletedJobs};
use crate::manifest::{self, Bundle, Scope, SourceFile};
use crate::plan::{self, Plan, PlanInput, PlanOptions};
use crate::render::{RenderInfo, Workspace};
use crate::source::{CommitInfo, GitSource};

/// A commit read and validated: its bundle and the kinds it uses.
pub struct PreparedCommit {
    /// The commit.
    pub commit: CommitInfo,
    /// Its resolved bundle.
    pub bundle: Bundle,
    /// Served kind per kind of the bundle.
    pub kinds: HashMap<manifest::Gvk, ServedKind>,
    /// When the app renders: what ran, and the repository files it could read.
    pub render: Option<RenderInfo>,
}

/// Fetches the app's repository and resolves its ref (blocking git work off the runtime),
/// sharing the fetch with other apps of the same repository and failing after
/// [`Engine::fetch_timeout`]. Fresh: it sees every commit pushed before the call.
pub async fn fetch(
    engine: &Engine,
    app: &AppSpec,
) -> Result<(GitSource, CommitInfo), ReconcileError> {
    fetch_reusing(engine, app, std::time::Duration::ZERO).await
}

/// [`fetch`], reusing another app's fetch of the same repository (and credentials) that
/// started at most `max_age` before the call (a poll passes its interval).
pub async fn fetch_reusing(
    engine: &Engine,
    app: &AppSpec,
    max_age: std::time::Duration,
) -> Result<(GitSource, CommitInfo), ReconcileError> {
    Ok(crate::source::fetch_shared(crate::source::FetchRequest {
        location: app.location.clone(),
        reference: app.reference.clone(),
        auth: app.auth.clone(),
        cache_dir: engine.cache_dir.clone(),
        timeout: engine.fetch_timeout,
        max_age,
    })
    .await?)
}

/// Reads and validates one commit of the app: files (rendered by kustomize or helm when the
/// app uses them) → bundle → kinds resolved on the cluster.
pub async fn prepare(
    engine: &Engine,
    app: &AppSpec,
    source: GitSource,
    commit: CommitInfo,
) -> Result<(GitSource, PreparedCommit), ReconcileError> {
    let (source, read) = read_commit(engine, app, source, &commit.sha).await?;
    let (bundle, rendered) = match read {
        CommitFiles::Plain(files) => (manifest::parse_bundle(&files, &engine.limits)?, None),
        CommitFiles::Render(workspace) => {
            let rendered = workspace.render(&engine.render).await?;
            let mut bundle =
                manifest::parse_bundle(std::slice::from_ref(&rendered.file), &engine.limits)
                    .map_err(|e| match e {
                        manifest::ManifestError::Invalid(problems) => {
                            manifest::ManifestError::Invalid(rendered.locate(problems))
                        }
                        other => other,
                    })?;
            rendered.attach_origins(&mut bundle);
            tracing::debug!(app = %app.name, render = %rendered.info, "rendered");
            (bundle, Some(rendered))
        }
    };

    let mut kinds = HashMap::new();
    for r in &bundle.resources {
        let k = r.key.gvk();
        if kinds.contains_key(&k) {
            continue;
        }
        if let Some(served) = engine
            .cluster
            .served_kind(&k.group, &k.version, &k.kind)
            .await?
        {
            kinds.insert(k, served);
        }
    }
    let scope_of = |key: &manifest::ObjectKey| {
        kinds.get(&key.gvk()).map(|s| {
            if s.namespaced {
                Scope::Namespaced
            } else {
                Scope::Cluster
            }
        })
    };
    let namespace = app.render.default_namespace(&app.namespace);
    let bundle = manifest::resolve(bundle, &scope_of, namespace)?;
    Ok((
        source,
        PreparedCommit {
            commit,
            bundle,
            kinds,
            render: rendered.map(|r| r.info),
        },
    ))
}

/// A commit's manifests as read from git: plain files, or a workspace to render.
enum CommitFiles {
    Plain(Vec<SourceFile>),
    Render(Box<Workspace>),
}

/// Reads the app's files at `sha` (blocking git work off the runtime): the manifest files
/// themselves, or, when the app renders, the files the render needs written into a workspace.
async fn read_commit(
    engine: &Engine,
    app: &AppSpec,
    source: GitSource,
    sha: &str,
) -> Result<(GitSource, CommitFiles), ReconcileError> {
    let filter = app.select.compile()?;
    let dir = app.select.path.clone();
    let sha = sha.to_string();
    let max = engine.limits.max_file_bytes;
    let spec = app.render.clone();
    let limits = engine.render.limits().clone();
    let (source, read) = tokio::task::spawn_blocking(move || {
        let read = (|| {
            let job = spec.job(&dir, &|path| source.is_file(&sha, path))?;
            if let Some(job) = job {
                let tree = source.commit_tree(&sha)?;
                let workspace = Workspace::materialise(&tree, job, &limits)?;
                return Ok(CommitFiles::Render(Box::new(workspace)));
            }
            let files = source.read_files(&sha, &dir, &|p| filter.matches(p), max)?;
            Ok::<_, ReconcileError>(CommitFiles::Plain(
                files
                    .into_iter()
                    .map(|f| SourceFile {
                        path: f.path,
                        contents: f.contents,
                    })
                    .collect(),
            ))
        })();
        (source, read)
    })
    .await
    .map_err(ReconcileError::Task)?;
    Ok((source, read?))
}

/// Which commit [`plan()`] plans, and how far it has come.
// Built once per plan and moved straight into `plan`: boxing the git handle would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum PlanFrom<'a> {
    /// Fetch the app's ref and plan its head commit. The plan's stats then count every API
    /// call of the run (discovery and the inventory included) and its whole wall time.
    Head,
    /// A commit already fetched: read and validate its manifests, then plan it.
    Fetched(GitSource, CommitInfo),
    /// A commit already read and validated by [`prepare`]: plan it.
    Prepared(&'a PreparedCommit),
}

/// Plans one commit of the app against the cluster: reads and dry-runs, never writes.
pub async fn plan(
    engine: &Engine,
    app: &AppSpec,
    from: PlanFrom<'_>,
) -> Result<Plan, ReconcileError> {
    match from {
        PlanFrom::Head => {
            let started = CostMark::now(engine);
            let (source, commit) = fetch(engine, app).await?;
            let mut plan = plan_fetched(engine, app, source, commit).await?;
            started.charge(engine, &mut plan);
            Ok(plan)
        }
        PlanFrom::Fetched(source, commit) => plan_fetched(engine, app, source, commit).await,
        PlanFrom::Prepared(prepared) => plan_prepared(engine, app, prepared).await,
    }
}

/// Builds the plan for a prepared commit.
async fn plan_prepared(
    engine: &Engine,
    app: &AppSpec,
    prepared: &PreparedCommit,
) -> Result<Plan, ReconcileError> {
    let found = engine
        .cluster
        .inventory(&engine.ferry_namespace, &app.name)
        .await?;
    let has_record = found.is_some();
    let recorded = found.unwrap_or_default();
    inventory::check_source(app, &recorded)?;
    let mut inventory_kinds = Vec::new();
    for k in &recorded.kinds {
        if let Some(served) = engine
            .cluster
            .served_kind(&k.group, &k.version, &k.kind)
            .await?
        {
            inventory_kinds.push(served);
        }
    }
    let has_jobs = prepared
        .bundle
        .resources
        .iter()
        .any(|r| r.key.group == "batch" && r.key.kind == "Job");
    let completed = if has_jobs {
        engine.history().completed_jobs(&app.name).await?
    } else {
        CompletedJobs::default()
    };
    let already_completed = |key: &crate::manifest::ObjectKey, manifest: &serde_json::Value| {
        completed.contains(
            key.namespace.as_deref().unwrap_or_default(),
            &key.name,
            &job_spec_hash(manifest),
        )
    };
    let mut plan = plan::build_plan(
        &engine.cluster,
        PlanInput {
            bundle: &prepared.bundle,
            kinds: &prepared.kinds,
            inventory_kinds: has_record.then_some(inventory_kinds.as_slice()),
            concurrency: engine.concurrency,
            options: PlanOptions {
                completed_job: &already_completed,
                app: &app.name,
                commit: &prepared.commit,
                prune: app.prune,
                install: &engine.ferry_namespace,
                guard: app.prune_guard,
                take_over: app.take_over,
                yield_to_managers: &app.yield_to_managers,
                default_steps: app.gates.steps.as_ref(),
            },
        },
    )
    .await?;
    plan.recorded = recorded;
    plan.rendered = prepared.render.clone();
    Ok(plan)
}

/// Reads and plans a commit that was already fetched.
async fn plan_fetched(
    engine: &Engine,
    app: &AppSpec,
    source: GitSource,
    commit: CommitInfo,
) -> Result<Plan, ReconcileError> {
    let (_source, prepared) = prepare(engine, app, source, commit).await?;
    plan_prepared(engine, app, &prepared).await
}

/// Counters and clock at the start of a run, so a plan's stats cover every API call it
/// needed (discovery and inventory included), not only the planning step.
struct CostMark {
    reads: u64,
    dry_runs: u64,
    at: std::time::Instant,
}

impl CostMark {
    fn now(engine: &Engine) -> CostMark {
        let c = engine.cluster.counters();
        CostMark {
            reads: c.reads(),
            dry_runs: c.dry_runs(),
            at: std::time::Instant::now(),
        }
    }

    fn charge(&self, engine: &Engine, plan: &mut Plan) {
        let c = engine.cluster.counters();
        plan.stats.reads = c.reads() - self.reads;
        plan.stats.dry_runs = c.dry_runs() - self.dry_runs;
        plan.stats.elapsed_ms = self.at.elapsed().as_millis() as u64;
    }
}
