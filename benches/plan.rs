//! Plan benchmark: a 1,000-object repository planned against the local control plane with no
//! changes and with 10 changes, side by side with `kubectl diff -f` on the same directory.
//! Reports wall time (median of several runs), API calls and peak RSS of each process.
//!
//! Run: `cargo bench --bench plan` (starts or reuses the local control plane; set
//! `FERRY_TEST_KUBECONFIG` to use a running one). Numbers are printed, never asserted.

mod common;

use common::{commit, git, kubectl};

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CONFIGMAPS: usize = 800;
const SERVICES: usize = 100;
const SECRETS: usize = 50;
const DAEMONSETS: usize = 50;
const RUNS: usize = 5;

fn main() {
    let kubeconfig = common::kubeconfig();
    let ferry = common::release_ferry();

    let ns = format!("bench-{}", std::process::id());
    let repo = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    write_repo(repo.path(), 0);
    git(repo.path(), &["init", "-q", "-b", "main"]);
    commit(repo.path(), "1000 objects");
    kubectl(&kubeconfig, &["create", "namespace", &ns]);

    let ferry_args = |verb: &str| -> Vec<String> {
        vec![
            verb.into(),
            "--repo".into(),
            repo.path().display().to_string(),
            "--namespace".into(),
            ns.clone(),
            "--app".into(),
            ns.clone(),
            "-o".into(),
            "json".into(),
        ]
    };
    let env = [
        ("KUBECONFIG", kubeconfig.display().to_string()),
        ("FERRY_CACHE_DIR", cache.path().display().to_string()),
    ];

    let first = measure(&ferry, &ferry_args("sync"), &env);
    assert_eq!(first.code, 0, "initial sync failed: {}", first.stderr);
    println!(
        "initial sync of {} objects: {:.2}s, peak RSS {} MiB",
        total(),
        first.wall.as_secs_f64(),
        first.max_rss_kib / 1024
    );

    println!(
        "\n{:<34} {:>10} {:>10} {:>12} {:>14}",
        "scenario", "median", "min", "API calls", "peak RSS"
    );
    report(
        &ferry,
        &ferry_args("plan"),
        &env,
        "ferry plan, no changes",
        0,
    );

    // kubectl diff on the same manifests (its working copy of the repo).
    let diff_args: Vec<String> = vec![
        "--kubeconfig".into(),
        kubeconfig.display().to_string(),
        "diff".into(),
        "-n".into(),
        ns.clone(),
        "--server-side".into(),
        "--force-conflicts".into(),
        "--field-manager".into(),
        "ferry".into(),
        "-v=6".into(),
        "-f".into(),
        repo.path().join("manifests").display().to_string(),
    ];
    report_kubectl(&diff_args, "kubectl diff -f (no changes)");

    write_repo(repo.path(), 10);
    commit(repo.path(), "10 changes");
    report(
        &ferry,
        &ferry_args("plan"),
        &env,
        "ferry plan, 10 changes",
        1,
    );
    report_kubectl(&diff_args, "kubectl diff -f (10 changes)");

    kubectl(&kubeconfig, &["delete", "namespace", &ns, "--wait=false"]);
}

fn total() -> usize {
    CONFIGMAPS + SERVICES + SECRETS + DAEMONSETS
}

/// 100 files of 10 documents; `changed` ConfigMaps get a different value.
fn write_repo(dir: &Path, changed: usize) {
    let m = dir.join("manifests");
    std::fs::create_dir_all(&m).unwrap();
    let mut docs: Vec<String> = Vec::new();
    for i in 0..CONFIGMAPS {
        let v = if i < changed { "changed" } else { "original" };
        docs.push(format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\ndata:\n  key: {v}\n  other: \"{i}\"\n"));
    }
    for i in 0..SERVICES {
        docs.push(format!("apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{i}\nspec:\n  clusterIP: None\n  selector: {{app: app-{i}}}\n  ports: [{{name: web, port: 80}}]\n"));
    }
    for i in 0..SECRETS {
        docs.push(format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: secret-{i}\ntype: Opaque\ndata:\n  password: c2VjcmV0LXtpfQ==\n"));
    }
    for i in 0..DAEMONSETS {
        docs.push(format!(
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: ds-{i}\nspec:\n  selector: {{matchLabels: {{app: ds-{i}}}}}\n  template:\n    metadata: {{labels: {{app: ds-{i}}}}}\n    spec:\n      containers:\n      - name: agent\n        image: nginx:1.27\n        resources: {{requests: {{cpu: 10m, memory: 16Mi}}}}\n"
        ));
    }
    for (f, chunk) in docs.chunks(10).enumerate() {
        std::fs::write(m.join(format!("file-{f:03}.yaml")), chunk.join("---\n")).unwrap();
    }
}

struct Measured {
    code: i32,
    wall: Duration,
    max_rss_kib: i64,
    stdout: String,
    stderr: String,
}

/// Runs a process and reads its peak RSS from the kernel (wait4 rusage).
fn measure(program: &Path, args: &[String], env: &[(&str, String)]) -> Measured {
    let start = Instant::now();
    let child = Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    // Read output on threads so the child never blocks on a full pipe.
    let mut child = child;
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).unwrap();
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err, &mut s).unwrap();
        s
    });
    let mut status: libc::c_int = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child; status and usage are valid out-pointers.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid);
    let wall = start.elapsed();
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Measured {
        code,
        wall,
        max_rss_kib: usage.ru_maxrss,
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
    }
}

fn report(ferry: &Path, args: &[String], env: &[(&str, String)], label: &str, want_code: i32) {
    let mut walls = Vec::new();
    let mut rss = 0;
    let mut calls = String::new();
    for _ in 0..RUNS {
        let m = measure(ferry, args, env);
        assert_eq!(m.code, want_code, "{label}: {}", m.stderr);
        let plan: serde_json::Value = serde_json::from_str(&m.stdout).unwrap();
        let stats = &plan["stats"];
        calls = format!(
            "{}r+{}d",
            stats["reads"].as_u64().unwrap_or(0),
            stats["dry_runs"].as_u64().unwrap_or(0)
        );
        walls.push(m.wall);
        rss = rss.max(m.max_rss_kib);
    }
    print_row(label, &mut walls, &calls, rss);
}

fn report_kubectl(args: &[String], label: &str) {
    let mut walls = Vec::new();
    let mut rss = 0;
    let mut calls = 0;
    for _ in 0..RUNS {
        let m = measure(Path::new("kubectl"), args, &[]);
        assert!(m.code == 0 || m.code == 1, "{label}: {}", m.stderr);
        calls = m
            .stderr
            .lines()
            // kubectl -v=6 logs one `"Response" verb=… url=…` line per request.
            .filter(|l| l.contains("round_trippers") && l.contains("\"Response\""))
            .count();
        walls.push(m.wall);
        rss = rss.max(m.max_rss_kib);
    }
    print_row(label, &mut walls, &calls.to_string(), rss);
}

fn print_row(label: &str, walls: &mut [Duration], calls: &str, rss_kib: i64) {
    walls.sort();
    println!(
        "{:<34} {:>9.3}s {:>9.3}s {:>12} {:>10} MiB",
        label,
        walls[walls.len() / 2].as_secs_f64(),
        walls[0].as_secs_f64(),
        calls,
        rss_kib / 1024
    );
}
