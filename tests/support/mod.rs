//! Test harness: the local control plane (started once, or reused via
//! `FERRY_TEST_KUBECONFIG`), one namespace per test, git repositories in temp dirs, and
//! helpers to run `kubectl` and the `ferry` binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::{Api, DeleteParams, PostParams};

pub mod browser;
pub mod faults;
pub mod git_http;
pub mod gitea;
pub mod receivers;
pub mod render;
pub mod serve;
pub mod staged;
pub mod toxi;

/// The repository root (where Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Kubeconfig of the local control plane. Starts it with `dev/cluster/cluster.sh up` (which
/// reuses a running one) unless `FERRY_TEST_KUBECONFIG` points at a cluster already.
pub fn kubeconfig() -> PathBuf {
    static KUBECONFIG: OnceLock<PathBuf> = OnceLock::new();
    KUBECONFIG
        .get_or_init(|| {
            if let Some(path) = std::env::var_os("FERRY_TEST_KUBECONFIG") {
                return PathBuf::from(path);
            }
            let script = repo_root().join("dev/cluster/cluster.sh");
            let out = Command::new("bash")
                .arg(&script)
                .arg("up")
                .output()
                .expect("running dev/cluster/cluster.sh up");
            let stderr = String::from_utf8_lossy(&out.stderr);
            if !out.status.success() {
                if stderr.contains("is not built") {
                    panic!(
                        "the local control plane is not installed; run:\n    bash dev/cluster/install.sh\n{stderr}"
                    );
                }
                panic!("could not start the local control plane:\n{stderr}");
            }
            let stdout = String::from_utf8_lossy(&out.stdout);
            PathBuf::from(stdout.lines().last().expect("cluster.sh printed the kubeconfig path").trim())
        })
        .clone()
}

/// A client for the local control plane (one per test: clients belong to a runtime).
pub async fn client() -> kube::Client {
    let path = kubeconfig();
    let kc = kube::config::Kubeconfig::read_from(&path).expect("reading test kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("test kubeconfig");
    kube::Client::try_from(config).expect("test client")
}

/// A namespace of its own for one test; deleted when dropped.
pub struct TestNamespace {
    /// The namespace name.
    pub name: String,
}

impl TestNamespace {
    /// Creates `<prefix>-<random>` and waits for its default ServiceAccount (pods need it).
    pub async fn new(client: &kube::Client, prefix: &str) -> TestNamespace {
        let name = format!("{prefix}-{}", random_suffix());
        let api: Api<Namespace> = Api::all(client.clone());
        let ns: Namespace = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "labels": {"ferry-test": "true"}}
        }))
        .unwrap();
        api.create(&PostParams::default(), &ns)
            .await
            .expect("create test namespace");
        let sa: Api<ServiceAccount> = Api::namespaced(client.clone(), &name);
        wait_until(
            Duration::from_secs(30),
            "default ServiceAccount",
            || async { sa.get_opt("default").await.ok().flatten() },
        )
        .await;
        TestNamespace { name }
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        if std::env::var_os("FERRY_TEST_KEEP").is_some() {
            return;
        }
        let _ = kubectl(&["delete", "namespace", &self.name, "--wait=false"]);
    }
}

/// Deletes a cluster-scoped object by kind/name (best effort, for test cleanup).
pub async fn delete_cluster_scoped<K>(client: &kube::Client, name: &str)
where
    K: kube::Resource<Scope = k8s_openapi::ClusterResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    K::DynamicType: Default,
{
    let api: Api<K> = Api::all(client.clone());
    let _ = api.delete(name, &DeleteParams::default()).await;
}

/// A short random suffix for names.
pub fn random_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mixed = (t ^ (std::process::id() as u64) << 20 ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .wrapping_mul(0x2545_f491_4f6c_dd1d);
    format!("{:x}", mixed & 0xff_ffff)
}

/// Polls `check` every 200 ms until it returns `Some`, or panics naming `what` after `timeout`.
pub async fn wait_until<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if start.elapsed() > timeout {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Runs kubectl against the local control plane.
pub fn kubectl(args: &[&str]) -> Output {
    Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig())
        .args(args)
        .output()
        .expect("running kubectl")
}

/// Runs kubectl and returns stdout, panicking with stderr on failure.
pub fn kubectl_ok(args: &[&str]) -> String {
    let out = kubectl(args);
    assert!(
        out.status.success(),
        "kubectl {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Applies YAML with kubectl (server-side) into a namespace.
pub fn kubectl_apply(namespace: &str, yaml: &str) {
    use std::io::Write;
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig())
        .args(["apply", "--server-side", "-n", namespace, "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawning kubectl");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(yaml.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "kubectl apply failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The result of running the ferry binary.
pub struct FerryRun {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl FerryRun {
    /// Asserts no `secret` appears in stdout or stderr (naming the stream, not printing it,
    /// so a real token does not end up in the test log).
    pub fn assert_hides(&self, secrets: &[&str]) {
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            assert!(!self.stdout.contains(secret), "a secret leaked into stdout");
            assert!(!self.stderr.contains(secret), "a secret leaked into stderr");
        }
    }
}

/// Runs `ferry <verb> --repo <repo> --namespace <ns> --app <ns> <extra…>`: the app named
/// after the test's namespace and deploying into it.
pub fn ferry_app(verb: &str, repo: &str, ns: &str, extra: &[&str]) -> FerryRun {
    let mut args = vec![verb, "--repo", repo, "--namespace", ns, "--app", ns];
    args.extend_from_slice(extra);
    ferry(&args)
}

/// `FERRY_KUSTOMIZE_BIN` and `FERRY_HELM_BIN` for the ferry binary: as set (dev/test.sh sets
/// them), else the pinned builds `dev/cluster/install.sh` caches.
pub fn render_tools_env() -> Vec<(&'static str, PathBuf)> {
    let versions = std::fs::read_to_string(repo_root().join("dev/cluster/versions.env")).unwrap();
    let kube = versions
        .lines()
        .find_map(|l| l.strip_prefix("KUBE_VERSION="))
        .expect("KUBE_VERSION in versions.env");
    let cache = std::env::var_os("FERRY_K8S_CACHE").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/ferry/k8s"),
        PathBuf::from,
    );
    let bin = cache.join(kube).join("bin");
    [
        ("FERRY_KUSTOMIZE_BIN", "kustomize"),
        ("FERRY_HELM_BIN", "helm"),
    ]
    .into_iter()
    .map(|(var, tool)| {
        let path = std::env::var_os(var).map_or_else(|| bin.join(tool), PathBuf::from);
        (var, path)
    })
    .collect()
}

/// Runs the `ferry` binary with the test kubeconfig and a private cache dir.
pub fn ferry(args: &[&str]) -> FerryRun {
    let cache = std::env::temp_dir().join("ferry-test-cache");
    let out = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(args)
        .envs(render_tools_env())
        .env("KUBECONFIG", kubeconfig())
        .env("FERRY_CACHE_DIR", &cache)
        .env("NO_COLOR", "1")
        .output()
        .expect("running ferry");
    FerryRun {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
    }
}

/// A git repository in a temp dir, written and committed with git2.
pub struct GitRepo {
    /// Keeps the directory alive.
    pub dir: tempfile::TempDir,
    /// The repository.
    pub repo: git2::Repository,
}

impl GitRepo {
    /// A new non-bare repository with `main` as its initial branch.
    pub fn new() -> GitRepo {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = git2::RepositoryInitOptions::new();
        opts.initial_head("main");
        let repo = git2::Repository::init_opts(dir.path(), &opts).unwrap();
        GitRepo { dir, repo }
    }

    /// The work tree path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The path as a string, for `--repo`.
    pub fn path_str(&self) -> String {
        self.dir.path().display().to_string()
    }

    /// Writes a file (creating directories).
    pub fn write(&self, rel: &str, contents: &str) -> &Self {
        let p = self.dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, contents).unwrap();
        self
    }

    /// Removes a file.
    pub fn remove(&self, rel: &str) -> &Self {
        std::fs::remove_file(self.dir.path().join(rel)).unwrap();
        self
    }

    /// Stages everything (including removals) and commits; returns the sha.
    pub fn commit(&self, message: &str) -> String {
        let mut index = self.repo.index().unwrap();
        index
            .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.update_all(["*"].iter(), None).unwrap();
        index.write().unwrap();
        let tree_id = index.write_tree().unwrap();
        let tree = self.repo.find_tree(tree_id).unwrap();
        let sig = git2::Signature::now("Test Author", "author@example.com").unwrap();
        let parent = self.repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        self.repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .unwrap()
            .to_string()
    }
}

/// A bare repository in a temp dir acting as the remote, and a working repository that
/// commits and pushes to it (with the `git` CLI, as a user would).
pub struct Remote {
    /// The bare repository.
    pub bare: tempfile::TempDir,
    /// The working repository.
    pub work: GitRepo,
}

impl Remote {
    /// An empty bare remote with `main` as its default branch.
    pub fn new() -> Remote {
        let bare = tempfile::tempdir().unwrap();
        let mut opts = git2::RepositoryInitOptions::new();
        opts.bare(true).initial_head("main");
        git2::Repository::init_opts(bare.path(), &opts).unwrap();
        Remote {
            bare,
            work: GitRepo::new(),
        }
    }

    /// The remote's `file://` URL.
    pub fn url(&self) -> String {
        format!("file://{}", self.bare.path().display())
    }

    /// Pushes (force) a refspec of the working repository.
    pub fn push(&self, refspec: &str) {
        let out = Command::new("git")
            .args(["push", "-q", "-f", &self.url(), refspec])
            .current_dir(self.work.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Commits everything in the working repository and pushes it to `main`.
    pub fn commit_and_push(&self, message: &str) -> String {
        let sha = self.work.commit(message);
        self.push("HEAD:main");
        sha
    }

    /// The remote `main`'s newest commit message.
    pub fn tip_message(&self) -> String {
        let repo = git2::Repository::open_bare(self.bare.path()).unwrap();
        let tip = repo
            .revparse_single("refs/heads/main")
            .unwrap()
            .peel_to_commit()
            .unwrap();
        tip.message().unwrap().to_string()
    }
}

/// An ed25519 key pair without passphrase at `path` (and `path.pub`), made by `ssh-keygen`.
pub fn ssh_keygen(path: &Path) {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "ssh-keygen: {out:?}");
}

/// The plainest DaemonSet: `name` running one container `name` with `image`, selector and pod
/// label `app: <name>` (no tolerations, so not on the tainted control-plane node).
pub fn daemonset_yaml(name: &str, image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: {name}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      containers: [{{name: {name}, image: \"{image}\"}}]\n"
    )
}
