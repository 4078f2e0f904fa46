//! Helpers for the pipeline tests: workload manifests and running `ferry plan`/`sync` on a
//! repository in a temp dir.
// Each pipeline test file uses a different part of these helpers.
#![allow(dead_code)]

use crate::support::{ferry_app, FerryRun, GitRepo};

pub fn ds_yaml(name: &str, image: &str) -> String {
    format!(
        r"# a DaemonSet
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: {name}
spec:
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      tolerations:
      - key: node-role.kubernetes.io/control-plane
        operator: Exists
        effect: NoSchedule
      containers:
      - name: {name}
        image: {image}
        resources:
          requests: {{cpu: 0.5, memory: 1000M}}
"
    )
}

pub fn cm_yaml(name: &str, value: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  key: {value:?}\n")
}

pub fn job_yaml(name: &str, message: &str) -> String {
    format!(
        r#"apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
spec:
  backoffLimit: 4
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox:1.36
        command: ["sh", "-c", "echo {message}"]
"#
    )
}

/// Runs `ferry <verb>` for the test's app on `repo` (see [`ferry_app`]).
pub fn run(verb: &str, repo: &GitRepo, ns: &str, extra: &[&str]) -> FerryRun {
    ferry_app(verb, &repo.path_str(), ns, extra)
}

pub fn assert_code(run: &FerryRun, code: i32) {
    assert_eq!(
        run.code, code,
        "exit code {} (wanted {code})\nstdout:\n{}\nstderr:\n{}",
        run.code, run.stdout, run.stderr
    );
}

pub fn rv(meta: &kube::api::ObjectMeta) -> u64 {
    // resourceVersions are etcd revisions on this server: comparable as integers.
    meta.resource_version.as_deref().unwrap().parse().unwrap()
}
