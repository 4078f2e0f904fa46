//! `ferry sync` gates each wave on real rollout health: end to end through the CLI.

mod support;

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use support::{client, ferry, ferry_app, kubectl_ok, FerryRun, GitRepo, TestNamespace};

fn ds_yaml(image: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: fluentd
spec:
  selector: {{matchLabels: {{app: fluentd}}}}
  updateStrategy: {{type: RollingUpdate, rollingUpdate: {{maxUnavailable: 1}}}}
  template:
    metadata: {{labels: {{app: fluentd}}}}
    spec:
      tolerations: [{{key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}}]
      containers: [{{name: fluentd, image: "{image}"}}]
"#
    )
}

/// A ConfigMap in a wave after the workloads: only applied when their gates pass.
const LATER_WAVE: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after-rollout\n  annotations:\n    ferry.dev/wave: \"9\"\ndata: {k: v}\n";

/// Whether [`LATER_WAVE`]'s ConfigMap exists, i.e. the waves after the workloads ran.
async fn later_wave_applied(client: &kube::Client, ns: &str) -> bool {
    Api::<ConfigMap>::namespaced(client.clone(), ns)
        .get_opt("after-rollout")
        .await
        .unwrap()
        .is_some()
}

fn sync(repo: &GitRepo, ns: &str, extra: &[&str]) -> FerryRun {
    let gates = ["--grace", "2s", "--timeout", "2m"];
    ferry_app("sync", &repo.path_str(), ns, &[&gates[..], extra].concat())
}

#[tokio::test]
async fn a_good_image_bump_passes_the_gate_and_maps_the_revision_to_the_commit() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "r-good").await;
    let repo = GitRepo::new();
    repo.write("ds.yaml", &ds_yaml("nginx:1.18.0"));
    repo.commit("fluentd 1.18");
    let first = sync(&repo, &ns.name, &[]);
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    assert!(first.stdout.contains("DaemonSet"), "{}", first.stdout);
    assert!(first.stdout.contains("healthy"), "{}", first.stdout);
    assert!(first.stdout.contains("(revision 1)"), "{}", first.stdout);

    repo.write("ds.yaml", &ds_yaml("nginx:latest"));
    let sha = repo.commit("Bump fluentd to latest");
    let second = sync(&repo, &ns.name, &[]);
    assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);
    assert!(second.stdout.contains("(revision 2)"), "{}", second.stdout);
    assert!(
        second.stderr.contains("nodes updated"),
        "progress is shown: {}",
        second.stderr
    );
    let history = kubectl_ok(&["rollout", "history", "-n", &ns.name, "daemonset/fluentd"]);
    assert!(
        history.contains(&format!("ferry {}: Bump fluentd to latest", &sha[..7])),
        "{history}"
    );
}

#[tokio::test]
async fn an_image_that_never_pulls_fails_the_gate_in_seconds_and_stops_later_waves() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "r-pull").await;
    let repo = GitRepo::new();
    repo.write("ds.yaml", &ds_yaml("nginx:doesnotexist"))
        .write("later.yaml", LATER_WAVE);
    repo.commit("broken image");
    let started = Instant::now();
    let out = sync(&repo, &ns.name, &[]);
    let elapsed = started.elapsed();
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    assert!(
        elapsed < Duration::from_secs(30),
        "failed fast, not at the 2m timeout: {elapsed:?}"
    );
    assert!(out.stdout.contains("ImagePullBackOff"), "{}", out.stdout);
    assert!(
        out.stdout.contains("on kwok-"),
        "names the node: {}",
        out.stdout
    );
    assert!(
        out.stdout.contains("Rollout failed (DaemonSet"),
        "{}",
        out.stdout
    );
    assert!(
        !later_wave_applied(&client, &ns.name).await,
        "later waves did not run"
    );
}

#[tokio::test]
async fn a_crashlooping_image_fails_with_crash_loop_back_off() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "r-crash").await;
    let repo = GitRepo::new();
    repo.write("ds.yaml", &ds_yaml("example/crashloop:1"));
    repo.commit("crashing image");
    let out = sync(&repo, &ns.name, &[]);
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("CrashLoopBackOff"), "{}", out.stdout);
}

#[tokio::test]
async fn a_failing_job_fails_its_gate_with_backoff_limit_exceeded() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "r-job").await;
    let repo = GitRepo::new();
    repo.write(
        "job.yaml",
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\nspec:\n  backoffLimit: 1\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: m, image: busybox, command: [sh, -c, \"exit 1\"]}]\n",
    )
    .write("later.yaml", LATER_WAVE);
    repo.commit("failing migration");
    let out = sync(&repo, &ns.name, &[]);
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("BackoffLimitExceeded"),
        "{}",
        out.stdout
    );
    assert!(
        !later_wave_applied(&client, &ns.name).await,
        "later waves did not run"
    );
}

#[tokio::test]
async fn no_wait_applies_every_wave_without_gating() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "r-nowait").await;
    let repo = GitRepo::new();
    repo.write("ds.yaml", &ds_yaml("nginx:doesnotexist"))
        .write("later.yaml", LATER_WAVE);
    repo.commit("broken image");
    let out = sync(&repo, &ns.name, &["--no-wait"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(later_wave_applied(&client, &ns.name).await);
}

#[tokio::test]
async fn an_apps_gates_in_ferry_yaml_apply_and_flags_override_them() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "r-appgates").await;
    let repo = GitRepo::new();
    repo.write("ds.yaml", &ds_yaml("nginx:doesnotexist"))
        .write("later.yaml", LATER_WAVE);
    repo.commit("broken image");
    let config = tempfile::tempdir().unwrap();
    let file = config.path().join("ferry.yaml");
    let write = |gates: &str| {
        std::fs::write(
            &file,
            format!(
                "apps:\n  - name: {ns}\n    repo: {repo}\n    namespace: {ns}\n    gates: {gates}\n",
                ns = ns.name,
                repo = repo.path_str()
            ),
        )
        .unwrap();
    };
    let sync_with = |extra: &[&str]| {
        let mut args = vec!["sync", "-f", file.to_str().unwrap()];
        args.extend_from_slice(extra);
        ferry(&args)
    };
    // gates.wait: false in ferry.yaml: every wave applied, nothing waited for.
    write("{wait: false}");
    let out = sync_with(&[]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(later_wave_applied(&client, &ns.name).await);

    // gates.grace from ferry.yaml decides when the gate fails, well before the default 20s
    // grace could pass; a --grace flag wins over a 10-minute grace in the file.
    let failed_after = |out: &support::FerryRun| -> f64 {
        assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
        let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        report["sync"]["gates"][0]["elapsed_seconds"]
            .as_f64()
            .unwrap_or_else(|| panic!("no gate in {report}"))
    };
    repo.write("ds.yaml", &ds_yaml("nginx:doesnotexist-2"));
    repo.commit("still broken");
    write("{grace: 1s, timeout: 2m}");
    let from_file = failed_after(&sync_with(&["-o", "json"]));
    assert!(from_file < 15.0, "gate failed after {from_file}s");
    repo.write("ds.yaml", &ds_yaml("nginx:doesnotexist-3"));
    repo.commit("broken again");
    write("{grace: 10m, timeout: 2m}");
    let from_flag = failed_after(&sync_with(&["-o", "json", "--grace", "1s"]));
    assert!(from_flag < 15.0, "gate failed after {from_flag}s");
}
