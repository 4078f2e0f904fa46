//! Staged-rollout benchmark against the local control plane: what stepping costs over a plain
//! rollout. A 5-replica StatefulSet is rolled to a new image three times each way: without
//! steps, with `ferry.dev/steps: "100%"` (one step) and with `"1, 3, 100%"` (three steps), all
//! without soak, timing the whole `ferry sync` (apply + gate). The difference per extra step is
//! the per-step overhead.
//!
//! Run: `cargo bench --bench staged`. Numbers are printed, never asserted.

mod common;

use common::{commit, git, kubectl};

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const ROUNDS: usize = 3;

fn statefulset(image: &str, annotations: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n  annotations: {{{annotations}}}\nspec:\n  replicas: 5\n  serviceName: db\n  podManagementPolicy: Parallel\n  selector: {{matchLabels: {{app: db}}}}\n  template:\n    metadata: {{labels: {{app: db}}}}\n    spec: {{containers: [{{name: db, image: \"{image}\"}}]}}\n"
    )
}

fn sync(ferry: &Path, kubeconfig: &Path, repo: &Path, ns: &str) -> Duration {
    let started = Instant::now();
    let out = Command::new(ferry)
        .args([
            "sync",
            "--repo",
            repo.to_str().unwrap(),
            "--namespace",
            ns,
            "--app",
            ns,
        ])
        .args(["--grace", "5s", "--timeout", "2m"])
        .env("KUBECONFIG", kubeconfig)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    started.elapsed()
}

fn main() {
    let kubeconfig = common::kubeconfig();
    let ferry = common::release_ferry();
    let tmp = tempfile::tempdir().unwrap();
    let run = std::process::id();
    let cases = [
        ("plain", ""),
        ("one step", "ferry.dev/steps: \"100%\""),
        ("three steps", "ferry.dev/steps: \"1, 3, 100%\""),
    ];
    let mut means = Vec::new();
    for (i, (label, annotations)) in cases.iter().enumerate() {
        let ns = format!("bench-staged-{run}-{i}");
        let repo = tmp.path().join(&ns);
        std::fs::create_dir_all(&repo).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        kubectl(&kubeconfig, &["create", "namespace", &ns]);
        std::fs::write(
            repo.join("db.yaml"),
            statefulset("postgres:16", annotations),
        )
        .unwrap();
        commit(&repo, "initial");
        sync(&ferry, &kubeconfig, &repo, &ns);
        let mut times = Vec::new();
        for round in 0..ROUNDS {
            let image = format!("postgres:{}", 17 + round);
            std::fs::write(repo.join("db.yaml"), statefulset(&image, annotations)).unwrap();
            commit(&repo, &image);
            times.push(sync(&ferry, &kubeconfig, &repo, &ns));
        }
        kubectl(&kubeconfig, &["delete", "namespace", &ns, "--wait=false"]);
        let mean = times.iter().sum::<Duration>() / ROUNDS as u32;
        println!(
            "{label:>12}: rollout of 5 replicas {:.2} s mean ({})",
            mean.as_secs_f64(),
            times
                .iter()
                .map(|t| format!("{:.2}", t.as_secs_f64()))
                .collect::<Vec<_>>()
                .join(", ")
        );
        means.push(mean);
    }
    let per_step = (means[2].as_secs_f64() - means[1].as_secs_f64()) / 2.0;
    println!(
        "per-step overhead: {per_step:.2} s per extra step; one step vs plain: {:+.2} s",
        means[1].as_secs_f64() - means[0].as_secs_f64()
    );
}
