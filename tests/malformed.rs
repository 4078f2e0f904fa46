//! End-to-end: a corpus of malformed commits (`tests/malformed/`), each committed in a
//! real git repository on top of a good commit that ferry synced, then `ferry sync`: it must
//! exit 2, apply nothing (the good objects keep their resourceVersions — or, for workloads
//! whose status controllers write, their uid, generation, labels and annotations — and no
//! object appears, in the test namespace or anywhere with the app's label), and its output
//! must name the file, and the line where the problem has one. Every bad commit also carries
//! valid changes (an edited and a new ConfigMap), which must not be applied either.
//!
//! Cases run concurrently (a few at a time), each in its own namespace and repository.

#[path = "malformed/cases.rs"]
mod cases;
#[path = "malformed/reader_cases.rs"]
mod reader_cases;
#[path = "malformed/server_cases.rs"]
mod server_cases;
mod support;

use std::collections::BTreeMap;

use cases::{Case, Content};
use ferry::cluster::DEFAULT_FERRY_NAMESPACE;
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use support::{ferry, FerryRun, GitRepo, TestNamespace};

/// Cases in flight at once.
const CONCURRENCY: usize = 4;

/// Kinds the snapshot lists: (group, version, kind, plural, namespaced, status-writing).
const KINDS: &[(&str, &str, &str, &str, bool, bool)] = &[
    ("", "v1", "ConfigMap", "configmaps", true, false),
    ("", "v1", "Secret", "secrets", true, false),
    ("", "v1", "ServiceAccount", "serviceaccounts", true, false),
    ("", "v1", "Service", "services", true, true),
    ("apps", "v1", "DaemonSet", "daemonsets", true, true),
    ("apps", "v1", "StatefulSet", "statefulsets", true, true),
    ("batch", "v1", "Job", "jobs", true, true),
    (
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
        true,
    ),
    ("", "v1", "Namespace", "namespaces", false, false),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        false,
        false,
    ),
    (
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
        false,
    ),
];

/// What identifies the state of every object of the test: in its namespace, and anywhere
/// with the app's label.
async fn snapshot(client: &kube::Client, ns: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let selector = format!("ferry.dev/app={ns}");
    for &(group, version, kind, plural, namespaced, status) in KINDS {
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let ar = ApiResource::from_gvk_with_plural(&gvk, plural);
        let mut lists = vec![(
            Api::<DynamicObject>::all_with(client.clone(), &ar),
            ListParams::default().labels(&selector),
        )];
        if namespaced {
            lists.push((
                Api::<DynamicObject>::namespaced_with(client.clone(), ns, &ar),
                ListParams::default(),
            ));
        }
        for (api, params) in lists {
            let list = api
                .list(&params)
                .await
                .map_err(|e| format!("listing {plural}: {e}"))?;
            for o in list.items {
                let m = &o.metadata;
                if m.namespace.as_deref() == Some(DEFAULT_FERRY_NAMESPACE) {
                    continue; // ferry's own records: the history of the refused sync
                }
                let key = format!(
                    "{kind} {}/{}",
                    m.namespace.as_deref().unwrap_or("-"),
                    m.name.as_deref().unwrap_or_default()
                );
                let state = if status {
                    format!(
                        "uid={:?} generation={:?} labels={:?} annotations={:?}",
                        m.uid, m.generation, m.labels, m.annotations
                    )
                } else {
                    format!("rv={:?}", m.resource_version)
                };
                out.insert(key, state);
            }
        }
    }
    Ok(out)
}

async fn ferry_sync(repo: &GitRepo, ns: &str) -> FerryRun {
    let (repo, ns) = (repo.path_str(), ns.to_string());
    tokio::task::spawn_blocking(move || {
        ferry(&[
            "sync",
            "--repo",
            &repo,
            "--namespace",
            &ns,
            "--app",
            &ns,
            "--no-wait",
        ])
    })
    .await
    .expect("ferry task")
}

fn good_cm(value: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: good\ndata:\n  key: {value:?}\n")
}

fn write_content(repo: &GitRepo, path: &str, content: &Content, ns: &str) {
    let full = repo.path().join(path);
    if let Some(parent) = full.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    if full.symlink_metadata().is_ok() {
        std::fs::remove_file(&full).unwrap();
    }
    match content {
        Content::Text(t) => std::fs::write(&full, t.replace("{ns}", ns)).unwrap(),
        Content::Bytes(b) => std::fs::write(&full, b).unwrap(),
        Content::Symlink(target) => std::os::unix::fs::symlink(target, &full).unwrap(),
    }
}

/// Runs one case; `Err` says what went wrong, with ferry's output.
async fn run_case(client: &kube::Client, case: &Case) -> Result<(), String> {
    // Deleted when dropped, at the end of the case.
    let ns = TestNamespace::new(client, "mal").await;
    let repo = GitRepo::new();
    repo.write("good.yaml", &good_cm("1"));
    for (path, body) in &case.base {
        repo.write(path, &body.replace("{ns}", &ns.name));
    }
    repo.commit("good");
    let first = ferry_sync(&repo, &ns.name).await;
    if first.code != 0 {
        return Err(format!(
            "the good commit did not sync (exit {}):\n{}\n{}",
            first.code, first.stdout, first.stderr
        ));
    }
    let before = snapshot(client, &ns.name).await?;

    repo.write("good.yaml", &good_cm("2"));
    repo.write(
        "fresh.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fresh\ndata:\n  key: new\n",
    );
    for (path, content) in &case.bad {
        write_content(&repo, path, content, &ns.name);
    }
    repo.commit(&format!("malformed: {}", case.name));
    let run = ferry_sync(&repo, &ns.name).await;
    let after = snapshot(client, &ns.name).await?;

    let output = format!("{}\n{}", run.stdout, run.stderr);
    let shown = || {
        let cut = |s: &str| s.chars().take(3000).collect::<String>();
        format!(
            "stdout:\n{}\nstderr:\n{}",
            cut(&run.stdout),
            cut(&run.stderr)
        )
    };
    let mut wrong = Vec::new();
    if run.code != 2 {
        wrong.push(format!("exit code {} (wanted 2)", run.code));
    }
    if output.contains("panicked") {
        wrong.push("ferry panicked".into());
    }
    if run.stderr.lines().any(|l| l.contains("kube_client")) {
        wrong.push("a raw kube_client log line on stderr".into());
    }
    for expect in &case.expect {
        let expect = expect.replace("{ns}", &ns.name);
        if !output.contains(&expect) {
            wrong.push(format!("output lacks {expect:?}"));
        }
    }
    if before != after {
        let changed: Vec<String> = after
            .iter()
            .filter(|(k, v)| before.get(*k) != Some(v))
            .map(|(k, _)| k.clone())
            .chain(before.keys().filter(|k| !after.contains_key(*k)).cloned())
            .collect();
        wrong.push(format!("the cluster changed: {changed:?}"));
    }
    let cms = Api::<ConfigMap>::namespaced(client.clone(), &ns.name);
    let good = cms.get("good").await.map_err(|e| e.to_string())?;
    if good.data.and_then(|d| d.get("key").cloned()).as_deref() != Some("1") {
        wrong.push("the valid change to ConfigMap good was applied".into());
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n{}", wrong.join("; "), shown()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_malformed_commit_applies_nothing_and_names_file_and_line() {
    let client = support::client().await;
    let all = cases::cases();
    assert!(all.len() >= 50, "the corpus has {} cases", all.len());
    let results: Vec<(String, Result<(), String>)> = futures::stream::iter(all.iter())
        .map(|case| {
            let client = client.clone();
            async move { (case.name.to_string(), run_case(&client, case).await) }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let failures: Vec<String> = results
        .iter()
        .filter_map(|(name, r)| r.as_ref().err().map(|e| format!("=== {name}: {e}")))
        .collect();
    eprintln!(
        "{} malformed commits, {} handled as required",
        results.len(),
        results.len() - failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// A dry-run the server answers with HTTP 500 because the object cannot be typed (a
/// ConfigMap `data` value that is a list: "failed to create typed patch object") is the
/// object's fault: planned invalid at its file:line like any other rejection, and no raw
/// library ERROR line (kube's trace layer logs every 5xx) appears at the default log level.
#[tokio::test]
async fn a_500_typed_patch_rejection_names_file_and_line_without_library_log_lines() {
    let client = support::client().await;
    let ns = TestNamespace::new(&client, "mal-500").await;
    let repo = GitRepo::new();
    repo.write("good.yaml", &good_cm("1")).write(
        "apps/listy.yaml",
        "# data values are strings\n\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: listy\ndata:\n  key: [a, b]\n",
    );
    repo.commit("a list where a string belongs");
    let args = |verb| {
        let (repo, ns) = (repo.path_str(), ns.name.clone());
        move || ferry(&[verb, "--repo", &repo, "--namespace", &ns, "--app", &ns])
    };
    let plan = tokio::task::spawn_blocking(args("plan")).await.unwrap();
    let sync = tokio::task::spawn_blocking(args("sync")).await.unwrap();
    for (run, what) in [(&plan, "plan"), (&sync, "sync")] {
        let all = format!("{what}: exit {}\n{}\n{}", run.code, run.stdout, run.stderr);
        assert_eq!(run.code, 2, "{all}");
        assert!(!run.stderr.contains("kube_client"), "{all}");
        assert!(!run.stderr.contains("ERROR"), "{all}");
        assert!(
            all.contains(&format!("ConfigMap {}/listy", ns.name)),
            "{all}"
        );
        assert!(all.contains("apps/listy.yaml:3"), "{all}");
        assert!(all.contains("failed to create typed patch object"), "{all}");
    }
    assert!(
        plan.stdout.contains("! invalid  ConfigMap"),
        "{}",
        plan.stdout
    );
    assert!(sync.stderr.contains("nothing applied"), "{}", sync.stderr);
    let cms = Api::<ConfigMap>::namespaced(client.clone(), &ns.name);
    assert!(
        cms.get_opt("good").await.unwrap().is_none(),
        "nothing from the commit is applied"
    );
}
