//! Render benchmark: how long ferry takes to turn the examples' Kustomize overlay and Helm chart
//! into objects, from git objects to origins attached (materialise the files a render may read,
//! run the pinned tool, map every document back to its repository file). No cluster is needed.
//!
//! Run: `cargo bench --bench render` (the tools come from `FERRY_KUSTOMIZE_BIN` /
//! `FERRY_HELM_BIN`, else `bash dev/cluster/cluster.sh bin-dir`). Numbers are printed, never
//! asserted.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use ferry::manifest::{parse_bundle, Limits};
use ferry::render::{HelmConfig, RenderSpec, RenderTools, ToolPaths, Workspace};
use ferry::source::{GitAuth, GitRef, GitSource, RepoLocation};

const ROUNDS: usize = 21;

fn tool(var: &str, name: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(var) {
        return PathBuf::from(path);
    }
    let out = Command::new("bash")
        .args(["dev/cluster/cluster.sh", "bin-dir"])
        .output()
        .expect("dev/cluster/cluster.sh bin-dir");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join(name)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let cache = tempfile::tempdir().unwrap();
    let source = GitSource::open(
        RepoLocation::Local(root),
        GitRef::Head,
        GitAuth::default(),
        cache.path(),
    )
    .unwrap();
    let sha = source.resolve().unwrap().to_string();
    let tools = RenderTools::new(ToolPaths {
        kustomize: Some(tool("FERRY_KUSTOMIZE_BIN", "kustomize")),
        helm: Some(tool("FERRY_HELM_BIN", "helm")),
    });
    let helm = HelmConfig {
        chart: "examples-repo/helm/charts/cache".into(),
        release_name: Some("cache".into()),
        namespace: Some("caching".into()),
        values_files: vec!["examples-repo/helm/values/prod.yaml".into()],
        values: Some(serde_json::json!({"image": {"tag": "7.2.5"}})),
    }
    .resolve("cache", "caching")
    .unwrap();
    let cases = [
        (
            "kustomize overlay",
            RenderSpec::default(),
            "examples-repo/kustomize/overlays/prod",
        ),
        ("helm chart", RenderSpec::Helm(helm), ""),
    ];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "render of examples-repo at {} (median of {ROUNDS}; first round not counted)",
        &sha[..7]
    );
    for (what, spec, path) in cases {
        let mut total = Vec::new();
        let mut tool_only = Vec::new();
        let mut objects = 0;
        for round in 0..=ROUNDS {
            let started = Instant::now();
            let job = spec
                .job(path, &|p| source.is_file(&sha, p))
                .unwrap()
                .expect("the example renders");
            let tree = source.commit_tree(&sha).unwrap();
            let workspace = Workspace::materialise(&tree, job, tools.limits()).unwrap();
            let rendered = runtime.block_on(workspace.render(&tools)).unwrap();
            let mut bundle =
                parse_bundle(std::slice::from_ref(&rendered.file), &Limits::default()).unwrap();
            rendered.attach_origins(&mut bundle);
            if round > 0 {
                total.push(started.elapsed());
                tool_only.push(Duration::from_millis(rendered.info.elapsed_ms));
            }
            objects = bundle.len();
        }
        println!(
            "  {what:18} {objects} objects: {:>6.1} ms end to end, {:>6.1} ms of it in {}",
            median(total).as_secs_f64() * 1000.0,
            median(tool_only).as_secs_f64() * 1000.0,
            if what.starts_with("helm") {
                "helm template"
            } else {
                "kustomize build"
            },
        );
    }
}
