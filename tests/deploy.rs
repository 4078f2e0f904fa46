//! `deploy/` runs ferry in a cluster: `kubectl apply -k` of the manifests applies cleanly to
//! the local control plane, the pod is admitted under Pod Security "restricted" and scheduled,
//! the Service reaches it on the named port, the ConfigMap holds a `ferry.yaml` ferry accepts,
//! and ferry's ServiceAccount can do exactly what ferry does (checked with `kubectl auth can-i`
//! and with real server-side applies made as that ServiceAccount), not more. ferry itself then
//! runs with a token of that ServiceAccount: `ferry sync` (create, update, Job recreate, prune),
//! `ferry history`, and `ferry serve --leader-elect` taking the Lease and becoming ready, with
//! nothing refused. The namespaced RBAC alternative is checked in `deploy_namespaced.rs`;
//! the overlay that isolates both is described in `support/deploy.rs`.

#[path = "support/deploy.rs"]
mod deploy_support;
mod support;

use deploy_support::*;
use std::time::Duration;

use serde_json::Value;
use support::{kubectl, kubectl_ok};

#[test]
fn kubectl_apply_k_deploys_ferry_with_the_permissions_it_needs() {
    let mut overlay = Overlay::new("ferry-deploy", "");
    let ns = overlay.namespace.clone();
    let suffix = overlay.suffix.clone();
    // A namespace of someone's apps, where ferry deploys workloads.
    let apps_ns = format!("{ns}-apps");
    overlay
        .extra
        .push(vec!["delete".into(), "namespace".into(), apps_ns.clone()]);
    // Cluster-scoped objects created as ferry below (only by dry-run, but in case).
    overlay.extra.push(vec![
        "delete".into(),
        "clusterrole".into(),
        format!("deploy-test-agent-{suffix}"),
    ]);

    // What `kubectl apply -k deploy/` would create: exactly these kinds, no Secret.
    let objects = overlay.render();
    let mut kinds: Vec<&str> = objects
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(kinds, EXPECTED_KINDS, "kinds rendered from deploy/");
    assert_eq!(
        objects.len(),
        EXPECTED_KINDS.len(),
        "one object of each kind"
    );

    // Apply, as a user would.
    create_namespace(&apps_ns);
    let out = kubectl_ok(&["apply", "-k", overlay.path()]);
    for object in [
        format!("namespace/{ns} created"),
        "serviceaccount/ferry created".into(),
        "configmap/ferry-config created".into(),
        "service/ferry created".into(),
        "deployment.apps/ferry created".into(),
        "networkpolicy.networking.k8s.io/ferry created".into(),
        "role.rbac.authorization.k8s.io/ferry-state created".into(),
        "rolebinding.rbac.authorization.k8s.io/ferry-state created".into(),
        format!("clusterrole.rbac.authorization.k8s.io/ferry-{suffix} created"),
        format!("clusterrolebinding.rbac.authorization.k8s.io/ferry-{suffix} created"),
    ] {
        assert!(
            out.contains(&object),
            "`kubectl apply -k` printed:\n{out}\nnot {object}"
        );
    }
    // Applying again changes nothing (the manifests are stable under apply).
    let again = kubectl_ok(&["apply", "-k", overlay.path()]);
    assert!(
        again.lines().all(|l| l.ends_with(" unchanged")),
        "second `kubectl apply -k` changed something:\n{again}"
    );

    // Everything exists.
    let names = kubectl_ok(&[
        "get",
        "-n",
        &ns,
        "deployment/ferry",
        "service/ferry",
        "serviceaccount/ferry",
        "configmap/ferry-config",
        "role/ferry-state",
        "rolebinding/ferry-state",
        "-o",
        "name",
    ]);
    assert_eq!(names.lines().count(), 6, "{names}");
    kubectl_ok(&[
        "get",
        &format!("clusterrole/ferry-{suffix}"),
        &format!("clusterrolebinding/ferry-{suffix}"),
    ]);

    // --- RBAC: what ferry does ---------------------------------------------------------------
    // Apply (server-side apply = PATCH, plus create for new objects; the dry-run needs the
    // same), read and watch, and prune the workloads of its apps, in any namespace.
    for verb in ["get", "list", "watch", "create", "patch", "delete"] {
        for resource in ["daemonsets", "statefulsets", "jobs", "deployments"] {
            overlay.assert_can(&[verb, resource, "-n", &apps_ns]);
        }
        for resource in [
            "configmaps",
            "secrets",
            "services",
            "serviceaccounts",
            "persistentvolumeclaims",
            "roles",
            "rolebindings",
        ] {
            overlay.assert_can(&[verb, resource, "-n", &apps_ns]);
        }
        for resource in [
            "namespaces",
            "priorityclasses",
            "customresourcedefinitions",
            "clusterroles",
            "clusterrolebindings",
        ] {
            overlay.assert_can(&[verb, resource]);
        }
    }
    // The inventory is one labelled LIST per kind across all namespaces.
    overlay.assert_can(&["list", "daemonsets", "--all-namespaces"]);
    overlay.assert_can(&["watch", "statefulsets", "--all-namespaces"]);
    // Apps' RBAC objects grant what ferry itself lacks.
    overlay.assert_can(&["escalate", "clusterroles"]);
    overlay.assert_can(&["bind", "clusterroles"]);
    overlay.assert_can(&["escalate", "roles", "-n", &apps_ns]);
    // Gates read pods, events and ControllerRevisions; rollback deletes stuck pods.
    overlay.assert_can(&["list", "pods", "-n", &apps_ns]);
    overlay.assert_can(&["delete", "pods", "-n", &apps_ns]);
    overlay.assert_can(&["list", "events", "-n", &apps_ns]);
    overlay.assert_can(&["list", "controllerrevisions", "-n", &apps_ns]);
    // Its own records and leader lock, in its own namespace.
    for verb in ["get", "list", "create", "patch", "delete"] {
        overlay.assert_can(&[verb, "configmaps", "-n", &ns]);
    }
    overlay.assert_can(&["create", "leases", "-n", &ns]);
    overlay.assert_can(&["get", "leases/ferry-leader", "-n", &ns]);
    overlay.assert_can(&["update", "leases/ferry-leader", "-n", &ns]);

    // --- RBAC: what ferry does not do --------------------------------------------------------
    overlay.assert_cannot(&["create", "nodes"]);
    overlay.assert_cannot(&["get", "nodes"]);
    overlay.assert_cannot(&["create", "pods", "-n", &apps_ns]);
    overlay.assert_cannot(&["create", "pods/exec", "-n", &apps_ns]);
    overlay.assert_cannot(&["update", "daemonsets", "-n", &apps_ns]);
    overlay.assert_cannot(&["deletecollection", "pods", "-n", &apps_ns]);
    overlay.assert_cannot(&["impersonate", "serviceaccounts", "-n", &apps_ns]);
    // Leases only in its own namespace, and only its own lock beyond creating it.
    overlay.assert_cannot(&["create", "leases", "-n", &apps_ns]);
    overlay.assert_cannot(&["update", "leases/someone-elses-lock", "-n", &ns]);
    overlay.assert_cannot(&["delete", "leases/ferry-leader", "-n", &ns]);
    overlay.assert_cannot(&["patch", "leases/ferry-leader", "-n", &ns]);

    // --- Real requests as ferry --------------------------------------------------------------
    // A DaemonSet applied the way ferry applies it (server-side, field manager ferry): the
    // dry-run of the plan, then the real apply, then a prune.
    let ds = daemonset_yaml(&apps_ns);
    overlay.assert_applies(&ds, true, "dry-run apply as ferry");
    overlay.assert_applies(&ds, false, "apply as ferry");
    let sa = overlay.service_account();
    kubectl_ok(&[
        "delete",
        "daemonset/agent",
        "-n",
        &apps_ns,
        "--cascade=foreground",
        "--as",
        &sa,
        "--wait=false",
    ]);
    // escalate: a ClusterRole granting what ferry lacks (nodes); bind: a binding to it and
    // to the built-in `view` (which includes reads ferry lacks). Dry-run: the RBAC escalation
    // checks run before storage, so the dry-run proves them without creating anything.
    let rbac = format!(
        r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: deploy-test-agent-{suffix}
rules:
  - apiGroups: [""]
    resources: ["nodes", "pods/log"]
    verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: deploy-test-agent-{suffix}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: deploy-test-agent-{suffix}
subjects:
  - kind: ServiceAccount
    name: agent
    namespace: {apps_ns}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: agent-view
  namespace: {apps_ns}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: view
subjects:
  - kind: ServiceAccount
    name: agent
    namespace: {apps_ns}
"#
    );
    overlay.assert_applies(
        &rbac,
        true,
        "applying an app's RBAC as ferry (needs escalate and bind)",
    );
    // Records: an inventory ConfigMap written with server-side apply, then deleted.
    let inventory = format!(
        r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: ferry-inventory-deploy-test
  namespace: {ns}
data:
  kinds: "apps\tv1\tDaemonSet\n"
"#
    );
    overlay.assert_applies(&inventory, false, "writing ferry's inventory as ferry");
    let out = kubectl(&[
        "delete",
        "configmap/ferry-inventory-deploy-test",
        "-n",
        &ns,
        "--as",
        &sa,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The leader Lease as `ferry serve --leader-elect` handles it: create, get, then renew with
    // an update (PUT carrying the resourceVersion read).
    let lease_file = overlay.dir.path().join("lease.yaml");
    let lease = |holder: &str| {
        format!(
            "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: ferry-leader\n  \
             namespace: {ns}\nspec:\n  holderIdentity: {holder}\n  leaseDurationSeconds: 15\n"
        )
    };
    std::fs::write(&lease_file, lease("deploy-test-a")).unwrap();
    let lease_path = lease_file.to_str().unwrap();
    kubectl_ok(&["create", "-f", lease_path, "--as", &sa]);
    let current = kubectl_ok(&[
        "get",
        "lease/ferry-leader",
        "-n",
        &ns,
        "-o",
        "yaml",
        "--as",
        &sa,
    ]);
    std::fs::write(
        &lease_file,
        current.replace("deploy-test-a", "deploy-test-b"),
    )
    .unwrap();
    kubectl_ok(&["replace", "-f", lease_path, "--as", &sa]);
    let holder = kubectl_ok(&[
        "get",
        "lease/ferry-leader",
        "-n",
        &ns,
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ]);
    assert_eq!(holder, "deploy-test-b");
    // And something it must not do, refused by the server.
    let node = "apiVersion: v1\nkind: Node\nmetadata:\n  name: deploy-test-node\n";
    overlay.assert_apply_forbidden(node, "creating a Node as ferry");

    // --- ferry itself, as its ServiceAccount ---------------------------------------------------
    // `ferry sync` through create, update, Job recreate and prune, `ferry history`, and
    // `ferry serve --leader-elect` taking the Lease (over the one written above) and becoming
    // ready: every request ferry makes is allowed by these manifests.
    let kubeconfig = service_account_kubeconfig(overlay.dir.path(), &ns);
    let cache = overlay.dir.path().join("cache");
    let repo = support::GitRepo::new();
    repo.write("apps/agent.yaml", &app_manifests(1, true));
    repo.commit("Add agent");
    let repo_path = repo.path_str();
    let sync = [
        "sync",
        "--repo",
        &repo_path,
        "--path",
        "apps",
        "--app",
        "deploy-test",
        "--namespace",
        &apps_ns,
        "--ferry-namespace",
        &ns,
        "--prune",
    ];
    let (code, output) = run_ferry(&kubeconfig, &cache, &sync);
    assert_eq!(code, 0, "ferry sync as its ServiceAccount:\n{output}");
    assert!(output.contains("Sync complete: 3 created"), "{output}");
    repo.write("apps/agent.yaml", &app_manifests(2, false));
    repo.commit("Bump agent, drop its config");
    let (code, output) = run_ferry(&kubeconfig, &cache, &sync);
    assert_eq!(
        code, 0,
        "second ferry sync as its ServiceAccount:\n{output}"
    );
    for line in [
        "updated   DaemonSet",
        "recreated Job",
        "pruned    ConfigMap",
        "Sync complete",
    ] {
        assert!(output.contains(line), "no {line:?} in:\n{output}");
    }
    let (code, output) = run_ferry(
        &kubeconfig,
        &cache,
        &["history", "--app", "deploy-test", "--ferry-namespace", &ns],
    );
    assert_eq!(code, 0, "ferry history as its ServiceAccount:\n{output}");
    assert!(output.contains("Bump agent, drop its config"), "{output}");

    let config = overlay.dir.path().join("serve.yaml");
    std::fs::write(
        &config,
        format!(
            "apps:\n  - name: deploy-test\n    repo: {repo_path}\n    path: apps\n    \
             namespace: {apps_ns}\n    prune: true\n"
        ),
    )
    .unwrap();
    let serve = Serve::start(&kubeconfig, &cache, &config, &ns, "deploy-test-pod");
    poll(
        Duration::from_secs(60),
        "ferry serve to lead and be ready",
        || {
            let stderr = serve.stderr();
            let ready = serve.get("/readyz").is_some_and(|(code, _)| code == 200);
            (stderr.contains("leading as deploy-test-pod") && ready).then_some(())
        },
    );
    let holder = kubectl_ok(&[
        "get",
        "lease/ferry-leader",
        "-n",
        &ns,
        "-o",
        "jsonpath={.spec.holderIdentity}",
    ]);
    assert_eq!(holder, "deploy-test-pod");
    let (code, apps) = serve.get("/api/apps").expect("GET /api/apps");
    assert_eq!(code, 200, "{apps}");
    let apps: Value = serde_json::from_str(&apps).expect("/api/apps is JSON");
    assert!(
        apps["apps"][0]["lastError"].is_null(),
        "ferry serve's first reconcile failed: {apps}"
    );
    // Let the drift watchers run a moment: nothing ferry does may be refused.
    std::thread::sleep(Duration::from_secs(2));
    let stderr = serve.stderr();
    assert_eq!(serve.stop(), Some(0), "ferry serve on SIGTERM:\n{stderr}");
    assert!(
        !stderr.to_lowercase().contains("forbidden"),
        "ferry serve was refused something:\n{stderr}"
    );

    // --- The Deployment ----------------------------------------------------------------------
    let deployment = get_json(&["deployment/ferry", "-n", &ns]);
    let spec = &deployment["spec"];
    assert_eq!(spec["replicas"], 1);
    assert_eq!(spec["strategy"]["type"], "Recreate");
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "ferry");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["runAsUser"], 65532);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let containers = pod["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    assert_eq!(c["image"], "ghcr.io/ferry-gitops/ferry:0.1.0");
    assert_eq!(
        c["args"],
        serde_json::json!([
            "serve",
            "--config",
            "/etc/ferry/ferry.yaml",
            "--listen",
            "0.0.0.0:8080",
            "--leader-elect"
        ])
    );
    assert_eq!(c["ports"][0]["containerPort"], 8080);
    assert_eq!(c["ports"][0]["name"], "http");
    let sc = &c["securityContext"];
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(sc["capabilities"]["drop"], serde_json::json!(["ALL"]));
    assert_eq!(c["resources"]["requests"]["cpu"], "50m");
    assert_eq!(c["resources"]["requests"]["memory"], "64Mi");
    assert_eq!(c["resources"]["limits"]["memory"], "256Mi");
    for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
        assert_eq!(c[probe]["httpGet"]["path"], path, "{probe}");
        assert_eq!(c[probe]["httpGet"]["port"], "http", "{probe} port");
    }
    // Mounts: the ConfigMap at /etc/ferry, an emptyDir git cache that FERRY_CACHE_DIR names,
    // the optional Secret.
    let volume_of = |mount_path: &str| -> Value {
        let mount = c["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["mountPath"] == mount_path)
            .unwrap_or_else(|| panic!("nothing mounted at {mount_path}"));
        pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == mount["name"])
            .unwrap()
            .clone()
    };
    assert_eq!(volume_of("/etc/ferry")["configMap"]["name"], "ferry-config");
    assert!(volume_of("/var/cache/ferry")["emptyDir"].is_object());
    assert!(volume_of("/tmp")["emptyDir"].is_object());
    let secret_volume = volume_of("/var/run/secrets/ferry");
    assert_eq!(secret_volume["secret"]["secretName"], "ferry-secrets");
    assert_eq!(secret_volume["secret"]["optional"], true);
    let env = c["env"].as_array().unwrap();
    let env_var = |name: &str| env.iter().find(|e| e["name"] == name).cloned();
    assert_eq!(
        env_var("FERRY_CACHE_DIR").expect("FERRY_CACHE_DIR")["value"],
        "/var/cache/ferry"
    );
    assert_eq!(
        env_var("POD_NAME").expect("POD_NAME: the replica's identity in the Lease")["valueFrom"]
            ["fieldRef"]["fieldPath"],
        "metadata.name"
    );
    assert_eq!(
        env_var("FERRY_NAMESPACE").expect("FERRY_NAMESPACE")["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.namespace"
    );
    let secret_refs: Vec<&Value> = env
        .iter()
        .filter_map(|e| e["valueFrom"].get("secretKeyRef"))
        .collect();
    assert!(
        secret_refs.len() >= 2,
        "webhook secret and git token from the Secret"
    );
    for r in secret_refs {
        assert_eq!(r["name"], "ferry-secrets");
        assert_eq!(r["optional"], true, "secret refs must be optional: {r}");
    }

    // The ConfigMap's ferry.yaml is a config ferry accepts, and credentials it names by
    // environment variable are provided by the Deployment.
    let cm = get_json(&["configmap/ferry-config", "-n", &ns]);
    let text = cm["data"]["ferry.yaml"]
        .as_str()
        .expect("ConfigMap ferry-config has data.ferry.yaml");
    let file = overlay.dir.path().join("ferry.yaml");
    std::fs::write(&file, text).unwrap();
    let config = ferry::config::load(&file).expect("deploy/configmap.yaml: ferry.yaml");
    assert_eq!(config.ferry_namespace.as_deref(), Some("ferry-system"));
    assert!(!config.apps.is_empty(), "ferry.yaml has an example app");
    for app in config.apps {
        if let Some(var) = &app.auth.token_env {
            assert!(
                env_var(var).is_some(),
                "ferry.yaml reads ${var}, which the Deployment does not set"
            );
        }
        let spec = app.resolve().expect("example app resolves");
        assert!(spec.prune);
    }

    // The pod passes Pod Security "restricted" (enforced on the namespace, which rejects a
    // pod that breaks it, as this privileged one shows) and is scheduled; kwok runs it (the
    // image is never pulled).
    let labels = get_json(&[&format!("namespace/{ns}")])["metadata"]["labels"].clone();
    assert_eq!(labels["pod-security.kubernetes.io/enforce"], "restricted");
    let out = kubectl(&[
        "run",
        "privileged-probe",
        "-n",
        &ns,
        "--image=example/x:1",
        "--privileged",
        "--dry-run=server",
    ]);
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("PodSecurity"),
        "Pod Security admission must enforce \"restricted\" in ferry's namespace: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pod = poll(Duration::from_secs(60), "the ferry pod to run", || {
        let pods = get_json(&["pods", "-n", &ns, "-l", "app.kubernetes.io/name=ferry"]);
        pods["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["status"]["phase"] == "Running")
            .cloned()
    });
    let node = pod["spec"]["nodeName"].as_str().unwrap_or_default();
    assert!(node.starts_with("kwok-"), "scheduled on {node:?}");
    poll(
        Duration::from_secs(60),
        "the Deployment to be available",
        || {
            let d = get_json(&["deployment/ferry", "-n", &ns]);
            (d["status"]["availableReplicas"] == 1).then_some(())
        },
    );
    // The Service selects that pod and resolves port 80 → the named port 8080.
    let service = get_json(&["service/ferry", "-n", &ns]);
    let port = &service["spec"]["ports"][0];
    assert_eq!(
        (port["name"].as_str(), port["port"].as_i64()),
        (Some("http"), Some(80))
    );
    let pod_name = pod["metadata"]["name"].as_str().unwrap().to_string();
    poll(Duration::from_secs(60), "the Service's endpoints", || {
        let slices = get_json(&[
            "endpointslices",
            "-n",
            &ns,
            "-l",
            "kubernetes.io/service-name=ferry",
        ]);
        slices["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| {
                s["ports"][0]["port"] == 8080
                    && s["ports"][0]["name"] == "http"
                    && s["endpoints"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|e| e["targetRef"]["name"] == pod_name.as_str())
            })
            .map(|_| ())
    });

    // Clean up (the Drop guard repeats this if anything above failed) and check the
    // cluster-scoped objects are really gone.
    if std::env::var_os("FERRY_TEST_KEEP").is_none() {
        kubectl_ok(&["delete", "-k", overlay.path(), "--wait=false"]);
        let out = kubectl(&[
            "get",
            &format!("clusterrole/ferry-{suffix}"),
            &format!("clusterrolebinding/ferry-{suffix}"),
            "--ignore-not-found",
            "-o",
            "name",
        ]);
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "");
    }
}
