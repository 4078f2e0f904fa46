//! Helpers for the `deploy/` tests: a kustomize overlay of `deploy/` applied into a namespace
//! of its own, a kubeconfig for its ServiceAccount, and ferry run with it.
//!
//! Isolation: `ferry-system` is shared with other tests, so nothing is applied from `deploy/`
//! as is. Each test renders a kustomize overlay in a temp dir whose only resource is `deploy/`
//! and which moves everything into a namespace of its own (`namespace:`, which also renames the
//! Namespace object and the RoleBinding subjects) and suffixes the two cluster-scoped names
//! (ClusterRole, ClusterRoleBinding; kustomize follows the `roleRef`). These objects are
//! applied for real, not with `--dry-run=server`: `kubectl auth can-i` can only evaluate
//! bindings that exist, and the pod only gets scheduled if the Deployment exists. The test
//! checks the rendered overlay touches nothing outside its namespace before applying it, and
//! deletes everything afterwards (also when it fails; `FERRY_TEST_KEEP=1` keeps it).
// Each deploy test file uses a different part of these helpers.
#![allow(dead_code)]

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{kubectl, kubectl_ok, random_suffix};
use serde::Deserialize;
use serde_json::Value;

/// The kinds `deploy/kustomization.yaml` must produce, and nothing else (no Secret: the Secret
/// is a template the user creates with kubectl).
pub const EXPECTED_KINDS: &[&str] = &[
    "ClusterRole",
    "ClusterRoleBinding",
    "ConfigMap",
    "Deployment",
    "Namespace",
    "NetworkPolicy",
    "Role",
    "RoleBinding",
    "Service",
    "ServiceAccount",
];

pub fn deploy_dir() -> PathBuf {
    crate::support::repo_root().join("deploy")
}

/// `to` relative to the directory `from` (kustomize refuses absolute resource paths).
pub fn relative_path(from: &Path, to: &Path) -> String {
    let from = std::fs::canonicalize(from).unwrap();
    let to = std::fs::canonicalize(to).unwrap();
    let ups = from.components().count() - 1; // every component but the root
    let mut rel = "../".repeat(ups);
    rel.push_str(to.to_str().unwrap().trim_start_matches('/'));
    rel
}

/// A kustomize overlay of `deploy/` in a temp dir, applied into its own namespace, with unique
/// names for the cluster-scoped objects. Deleted (with anything registered in `extra`) on drop.
pub struct Overlay {
    pub dir: tempfile::TempDir,
    /// ferry's namespace in this overlay (replaces `ferry-system`).
    pub namespace: String,
    /// Appended to the ClusterRole/ClusterRoleBinding names.
    pub suffix: String,
    /// Other things to delete on drop: `kubectl delete` arguments.
    pub extra: Vec<Vec<String>>,
}

impl Overlay {
    /// Writes the overlay of `deploy/`; `extra_kustomization` is appended to
    /// `kustomization.yaml`.
    pub fn new(prefix: &str, extra_kustomization: &str) -> Overlay {
        Overlay::of(&deploy_dir(), prefix, extra_kustomization)
    }

    /// Writes the overlay of the kustomization in `base` (`deploy/` or one built on it).
    pub fn of(base: &Path, prefix: &str, extra_kustomization: &str) -> Overlay {
        let suffix = random_suffix();
        let namespace = format!("{prefix}-{suffix}");
        let dir = tempfile::tempdir().unwrap();
        let base = relative_path(dir.path(), base);
        let kustomization = format!(
            r#"apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: {namespace}
resources:
  - {base}
transformers:
  - |-
    apiVersion: builtin
    kind: PrefixSuffixTransformer
    metadata:
      name: unique-cluster-scoped-names
    suffix: "-{suffix}"
    fieldSpecs:
      - kind: ClusterRole
        path: metadata/name
      - kind: ClusterRoleBinding
        path: metadata/name
{extra_kustomization}"#
        );
        std::fs::write(dir.path().join("kustomization.yaml"), kustomization).unwrap();
        Overlay {
            dir,
            namespace,
            suffix,
            extra: Vec::new(),
        }
    }

    pub fn path(&self) -> &str {
        self.dir.path().to_str().unwrap()
    }

    pub fn service_account(&self) -> String {
        format!("system:serviceaccount:{}:ferry", self.namespace)
    }

    /// `kubectl kustomize` of the overlay, parsed; panics unless every object is either in the
    /// overlay's namespace (or is that Namespace) or is cluster-scoped with the unique suffix,
    /// so applying it can never touch `ferry-system` or another test's objects.
    pub fn render(&self) -> Vec<Value> {
        let yaml = kubectl_ok(&["kustomize", self.path()]);
        let objects = parse_yaml_stream(&yaml);
        for o in &objects {
            let kind = o["kind"].as_str().unwrap();
            let name = o["metadata"]["name"].as_str().unwrap();
            let namespace = o["metadata"]["namespace"].as_str();
            match kind {
                "Namespace" => assert_eq!(name, self.namespace, "overlay renders {o}"),
                "ClusterRole" | "ClusterRoleBinding" => {
                    assert!(namespace.is_none(), "{kind} {name} has a namespace");
                    assert!(
                        name.ends_with(&format!("-{}", self.suffix)),
                        "cluster-scoped {kind} {name} would not be unique to this test"
                    );
                }
                _ => assert_eq!(
                    namespace,
                    Some(self.namespace.as_str()),
                    "{kind} {name} is outside the test namespace"
                ),
            }
            for subject in o["subjects"].as_array().into_iter().flatten() {
                assert_eq!(
                    subject["namespace"].as_str(),
                    Some(self.namespace.as_str()),
                    "{kind} {name} binds a subject outside the test namespace: {subject}"
                );
            }
        }
        objects
    }

    /// `kubectl auth can-i <args> --as <ferry's ServiceAccount>`.
    pub fn can_i(&self, args: &[&str]) -> bool {
        let sa = self.service_account();
        let mut full = vec!["auth", "can-i"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["--as", &sa]);
        let out = kubectl(&full);
        let answer = String::from_utf8_lossy(&out.stdout).trim().to_string();
        match answer.as_str() {
            "yes" => true,
            "no" => false,
            _ => panic!(
                "kubectl {} answered {answer:?}: {}",
                full.join(" "),
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }

    pub fn assert_can(&self, args: &[&str]) {
        assert!(
            self.can_i(args),
            "ferry's ServiceAccount {} cannot {} — it needs to",
            self.service_account(),
            args.join(" ")
        );
    }

    pub fn assert_cannot(&self, args: &[&str]) {
        assert!(
            !self.can_i(args),
            "ferry's ServiceAccount {} can {} — it should not",
            self.service_account(),
            args.join(" ")
        );
    }

    /// Server-side applies `yaml` as ferry's ServiceAccount with field manager `ferry`, as ferry
    /// does; returns kubectl's output.
    pub fn apply_as_ferry(&self, yaml: &str, dry_run: bool) -> std::process::Output {
        let file = self
            .dir
            .path()
            .join(format!("object-{}.yaml", random_suffix()));
        std::fs::write(&file, yaml).unwrap();
        let sa = self.service_account();
        let mut args = vec![
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager=ferry",
            "--as",
            &sa,
            "-f",
            file.to_str().unwrap(),
        ];
        if dry_run {
            args.push("--dry-run=server");
        }
        kubectl(&args)
    }

    /// [`Overlay::apply_as_ferry`], asserting the server accepted it; `what` names the attempt
    /// in the failure message.
    pub fn assert_applies(&self, yaml: &str, dry_run: bool, what: &str) {
        let out = self.apply_as_ferry(yaml, dry_run);
        assert!(
            out.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A dry-run [`Overlay::apply_as_ferry`], asserting the server refused it as forbidden.
    pub fn assert_apply_forbidden(&self, yaml: &str, what: &str) {
        let out = self.apply_as_ferry(yaml, true);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains("forbidden"),
            "{what} must be forbidden: {stderr}"
        );
    }
}

impl Drop for Overlay {
    fn drop(&mut self) {
        if std::env::var_os("FERRY_TEST_KEEP").is_some() {
            return;
        }
        let _ = kubectl(&[
            "delete",
            "-k",
            self.path(),
            "--ignore-not-found",
            "--wait=false",
        ]);
        for args in &self.extra {
            let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
            args.extend_from_slice(&["--ignore-not-found", "--wait=false"]);
            let _ = kubectl(&args);
        }
    }
}

pub fn parse_yaml_stream(yaml: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(yaml)
        .map(|doc| Value::deserialize(doc).expect("kustomize output is YAML"))
        .filter(|v| !v.is_null())
        .collect()
}

pub fn get_json(args: &[&str]) -> Value {
    let mut full = vec!["get"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["-o", "json"]);
    serde_json::from_str(&kubectl_ok(&full)).unwrap()
}

/// Polls `check` every 500 ms until it returns `Some`, or panics naming `what`.
pub fn poll<T>(timeout: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

pub fn create_namespace(name: &str) {
    kubectl_ok(&["create", "namespace", name]);
    kubectl_ok(&["label", "namespace", name, "ferry-test=true"]);
}

pub fn daemonset_yaml(namespace: &str) -> String {
    format!(
        r"apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: {namespace}
  labels:
    app.kubernetes.io/managed-by: ferry
    ferry.dev/app: deploy-test
spec:
  selector:
    matchLabels: {{app: agent}}
  template:
    metadata:
      labels: {{app: agent}}
    spec:
      containers:
        - name: agent
          image: example/agent:1
"
    )
}

/// A kubeconfig for the local control plane that authenticates as ferry's ServiceAccount in
/// `namespace`, with a token from the TokenRequest API: the same kind of token the pod gets
/// in its projected volume, so ferry run with it has exactly the Deployment's permissions.
pub fn service_account_kubeconfig(dir: &Path, namespace: &str) -> PathBuf {
    let token = kubectl_ok(&["create", "token", "ferry", "-n", namespace, "--duration=1h"]);
    let view = |path: &str| {
        kubectl_ok(&[
            "config",
            "view",
            "--raw",
            "--minify",
            "--flatten",
            "-o",
            &format!("jsonpath={{.clusters[0].cluster.{path}}}"),
        ])
    };
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n  - name: local\n    cluster:\n      server: {}\n      \
         certificate-authority-data: {}\nusers:\n  - name: ferry\n    user:\n      token: {}\n\
         contexts:\n  - name: ferry\n    context: {{cluster: local, user: ferry}}\ncurrent-context: ferry\n",
        view("server").trim(),
        view("certificate-authority-data").trim(),
        token.trim()
    );
    let path = dir.join(format!("ferry-sa-{namespace}.kubeconfig"));
    std::fs::write(&path, kubeconfig).unwrap();
    path
}

/// The ferry binary, authenticated as its ServiceAccount.
pub fn ferry_command(kubeconfig: &Path, cache: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferry"));
    cmd.args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("FERRY_CACHE_DIR", cache)
        .env("NO_COLOR", "1")
        .env_remove("FERRY_NAMESPACE")
        .env_remove("FERRY_CONFIG");
    cmd
}

/// Runs ferry to completion; returns (exit code, stdout + stderr).
pub fn run_ferry(kubeconfig: &Path, cache: &Path, args: &[&str]) -> (i32, String) {
    let out = ferry_command(kubeconfig, cache, args)
        .output()
        .expect("running ferry");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// An app's manifests: a DaemonSet, a ConfigMap (if `with_config`) and a Job.
pub fn app_manifests(image_tag: u32, with_config: bool) -> String {
    let config = if with_config {
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: agent-config\ndata:\n  level: info\n"
    } else {
        ""
    };
    format!(
        r"apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {{app: agent}}
  template:
    metadata:
      labels: {{app: agent}}
    spec:
      containers:
        - name: agent
          image: example/agent:{image_tag}
{config}---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: example/migrate:{image_tag}
"
    )
}

/// `ferry serve` in the background; killed on drop.
pub struct Serve {
    pub child: Child,
    pub stderr: Arc<Mutex<String>>,
    pub port: u16,
}

impl Serve {
    /// `ferry serve --leader-elect`, as deploy/deployment.yaml runs it.
    pub fn start(
        kubeconfig: &Path,
        cache: &Path,
        config: &Path,
        namespace: &str,
        pod: &str,
    ) -> Serve {
        Serve::start_with(
            kubeconfig,
            cache,
            config,
            namespace,
            pod,
            &["--leader-elect"],
        )
    }

    /// `ferry serve` with `mode` (`--leader-elect`, or `--shards N`) as its last arguments.
    pub fn start_with(
        kubeconfig: &Path,
        cache: &Path,
        config: &Path,
        namespace: &str,
        pod: &str,
        mode: &[&str],
    ) -> Serve {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let listen = format!("127.0.0.1:{port}");
        let mut child = ferry_command(
            kubeconfig,
            cache,
            &[
                "serve",
                "--config",
                config.to_str().unwrap(),
                "--listen",
                &listen,
            ],
        )
        .args(mode)
        // As in deployment.yaml.
        .env("FERRY_NAMESPACE", namespace)
        .env("POD_NAME", pod)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting ferry serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        Serve {
            child,
            stderr,
            port,
        }
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// `GET path` → (status, body).
    pub fn get(&self, path: &str) -> Option<(u16, String)> {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let status = response.split_whitespace().nth(1)?.parse().ok()?;
        let body = response.split_once("\r\n\r\n")?.1.to_string();
        Some((status, body))
    }

    /// SIGTERM, then the exit code.
    pub fn stop(mut self) -> Option<i32> {
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
