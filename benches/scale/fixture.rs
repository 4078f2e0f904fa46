//! The scale bench's world: one git repository of N apps × 4 small objects, the `ferry.yaml`
//! that lists them, the namespaces they land in, and reads of those objects from the cluster.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::process::Command;

use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service, ServiceAccount};
use kube::api::ListParams;
use serde::de::DeserializeOwned;

use crate::common::{commit, git, kubectl};

/// The label every object (and namespace) of one bench run carries, for reads and cleanup.
pub const RUN_LABEL: &str = "bench.ferry.dev/run";

/// One bench run's repository and names.
pub struct Fixture {
    /// This run's id (the bench's pid), in every name.
    pub run: String,
    /// Number of apps.
    pub apps: usize,
    /// Namespaces the apps are spread over (app i lands in `namespaces[i % len]`).
    pub namespaces: Vec<String>,
    /// The work tree commits are made in.
    pub work: PathBuf,
    /// The bare repository ferry fetches (`file://`).
    pub bare: PathBuf,
}

impl Fixture {
    /// Writes the repository (every app's ConfigMap at value `v0`), commits and pushes it.
    pub fn create(root: &Path, apps: usize, namespaces: usize) -> Fixture {
        let run = std::process::id().to_string();
        let fixture = Fixture {
            namespaces: (0..namespaces.clamp(1, apps.max(1)))
                .map(|n| format!("bench-scale-{run}-ns{n}"))
                .collect(),
            run,
            apps,
            work: root.join("work"),
            bare: root.join("remote.git"),
        };
        let bare = fixture.bare.to_str().unwrap_or_default();
        git(root, &["init", "-q", "--bare", "-b", "main", bare]);
        std::fs::create_dir_all(&fixture.work).unwrap();
        git(&fixture.work, &["init", "-q", "-b", "main"]);
        for i in 0..apps {
            fixture.write_app(i, "v0");
        }
        fixture.commit_push("initial: all apps");
        fixture
    }

    /// App `i`'s name.
    pub fn app(&self, i: usize) -> String {
        format!("scale-{}-{i:04}", self.run)
    }

    /// App `i`'s namespace.
    pub fn namespace(&self, i: usize) -> &str {
        &self.namespaces[i % self.namespaces.len()]
    }

    /// App `i`'s ConfigMap file, as a webhook lists it.
    pub fn configmap_file(&self, i: usize) -> String {
        format!("apps/{}/configmap.yaml", self.app(i))
    }

    /// The repository URL every app uses.
    pub fn url(&self) -> String {
        format!("file://{}", self.bare.display())
    }

    /// `ferry.yaml`: every app against the same URL, its own path, `interval: 1m`.
    pub fn config(&self) -> String {
        let mut config = String::from("apps:\n");
        for i in 0..self.apps {
            config.push_str(&format!(
                "  - name: {}\n    repo: {}\n    branch: main\n    path: apps/{}\n    namespace: {}\n    interval: 1m\n",
                self.app(i),
                self.url(),
                self.app(i),
                self.namespace(i)
            ));
        }
        config
    }

    /// Writes app `i`'s four objects; its ConfigMap's `value` is `value`.
    pub fn write_app(&self, i: usize, value: &str) {
        let app = self.app(i);
        let dir = self.work.join("apps").join(&app);
        std::fs::create_dir_all(&dir).unwrap();
        let labels = format!("  labels:\n    {RUN_LABEL}: \"{}\"\n", self.run);
        let meta = |kind: &str, suffix: &str| {
            format!("apiVersion: v1\nkind: {kind}\nmetadata:\n  name: {app}{suffix}\n{labels}")
        };
        let files = [
            (
                "configmap.yaml",
                format!("{}data:\n  value: \"{value}\"\n", meta("ConfigMap", "")),
            ),
            (
                "secret.yaml",
                // `data`, not `stringData`: stringData is write-only and would look like drift.
                format!(
                    "{}type: Opaque\ndata:\n  token: {}\n",
                    meta("Secret", ""),
                    base64_of(&app)
                ),
            ),
            (
                "service.yaml",
                format!(
                    "{}spec:\n  selector:\n    app: {app}\n  ports:\n    - port: 80\n      targetPort: 8080\n",
                    meta("Service", "")
                ),
            ),
            ("serviceaccount.yaml", meta("ServiceAccount", "")),
        ];
        for (file, text) in files {
            std::fs::write(dir.join(file), text).unwrap();
        }
    }

    /// Commits the work tree and pushes it to the bare repository; returns the commit.
    pub fn commit_push(&self, msg: &str) -> String {
        commit(&self.work, msg);
        let bare = self.bare.to_str().unwrap_or_default();
        git(&self.work, &["push", "-q", bare, "HEAD:main"]);
        let out = Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(&self.work)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Creates the namespaces (labelled with the run, so cleanup finds them).
    pub fn create_namespaces(&self, kubeconfig: &Path, dir: &Path) {
        let docs: Vec<String> = self
            .namespaces
            .iter()
            .map(|ns| {
                format!(
                    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  labels:\n    {RUN_LABEL}: \"{}\"\n",
                    self.run
                )
            })
            .collect();
        let file = dir.join("namespaces.yaml");
        std::fs::write(&file, docs.join("---\n")).unwrap();
        kubectl(
            kubeconfig,
            &["apply", "-f", file.to_str().unwrap_or_default()],
        );
    }

    /// Label selector of this run's objects.
    pub fn selector(&self) -> String {
        format!("{RUN_LABEL}={}", self.run)
    }
}

/// Standard base64 (the `data` of a Secret).
fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// A kube client for the kubeconfig.
pub async fn client(kubeconfig: &Path) -> kube::Client {
    let kc = kube::config::Kubeconfig::read_from(kubeconfig).unwrap();
    let config =
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .unwrap();
    kube::Client::try_from(config).unwrap()
}

/// The `value` of every ConfigMap of the run, by name.
pub async fn configmap_values(client: &kube::Client, selector: &str) -> BTreeMap<String, String> {
    let api: kube::Api<ConfigMap> = kube::Api::all(client.clone());
    let Ok(list) = api.list(&ListParams::default().labels(selector)).await else {
        return BTreeMap::new();
    };
    list.items
        .into_iter()
        .filter_map(|cm| {
            let value = cm.data?.get("value")?.clone();
            Some((cm.metadata.name?, value))
        })
        .collect()
}

/// `Kind ns/name` → resourceVersion of every object of the run (4 kinds).
pub async fn resource_versions(client: &kube::Client, selector: &str) -> BTreeMap<String, String> {
    let mut all = rvs::<ConfigMap>(client, selector).await;
    all.extend(rvs::<Secret>(client, selector).await);
    all.extend(rvs::<Service>(client, selector).await);
    all.extend(rvs::<ServiceAccount>(client, selector).await);
    all
}

async fn rvs<K>(client: &kube::Client, selector: &str) -> BTreeMap<String, String>
where
    K: kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    let api: kube::Api<K> = kube::Api::all(client.clone());
    let Ok(list) = api.list(&ListParams::default().labels(selector)).await else {
        return BTreeMap::new();
    };
    list.items
        .into_iter()
        .map(|o| {
            let meta = o.meta();
            (
                format!(
                    "{} {}/{}",
                    K::kind(&()),
                    meta.namespace.clone().unwrap_or_default(),
                    meta.name.clone().unwrap_or_default()
                ),
                meta.resource_version.clone().unwrap_or_default(),
            )
        })
        .collect()
}
