//! Staged DaemonSet rollouts (`ferry.dev/steps`, `ferry.dev/canary-nodes`): node batch by node
//! batch through the Eviction API, canary nodes first; a bad image on the canary replaces no
//! other pod and git's update strategy comes back; a PodDisruptionBudget makes a step wait.

mod support;

use support::staged::*;
use support::{client, kubectl_apply, Remote, TestNamespace};

#[tokio::test]
async fn a_daemonset_canary_node_goes_first_and_a_bad_image_there_replaces_no_other_pod() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "stg-ds").await;
    let key = format!("ferry-test-canary-{}", ns.name);
    let canary = CanaryLabel::new(&client, &key).await;
    let remote = Remote::new();
    let annotations = format!(
        "{STEPS}: \"1, 100%\", ferry.dev/step-soak: 1s, ferry.dev/canary-nodes: \"{key}=yes\""
    );
    remote
        .work
        .write("agent.yaml", &daemonset("fluent-bit:3.0", &annotations));
    remote.commit_and_push("agent 3.0");
    assert_code(&sync(&remote.url(), &ns.name, &[]), 0);
    let before = agent_pods(&client, &ns.name).await;
    assert_eq!(before.len(), 3, "{before:?}");

    remote.work.write(
        "agent.yaml",
        &daemonset("fluent-bit:doesnotexist", &annotations),
    );
    remote.commit_and_push("agent broken");
    let run = sync(&remote.url(), &ns.name, &[]);
    assert_code(&run, 3);
    let expected = format!("step 1/2 (canary nodes {})", canary.node);
    assert!(run.stdout.contains(&expected), "{}", run.stdout);
    assert!(run.stdout.contains("ImagePullBackOff"), "{}", run.stdout);
    let after = agent_pods(&client, &ns.name).await;
    for (node, (uid, _)) in &before {
        if *node == canary.node {
            assert_ne!(after[node].0, *uid, "the canary's pod was replaced");
            assert_eq!(after[node].1, "fluent-bit:doesnotexist");
        } else {
            assert_eq!(
                after[node].0, *uid,
                "{node}'s pod was not touched: {after:?}"
            );
        }
    }
    let strategy = support::kubectl_ok(&[
        "-n",
        &ns.name,
        "get",
        "ds",
        "agent",
        "-o",
        "jsonpath={.spec.updateStrategy.type}",
    ]);
    assert_eq!(
        strategy, "RollingUpdate",
        "git's strategy is back after the failed step"
    );
    let (managers, _) = managers_and_annotations(&ns.name, "daemonset", "agent");
    assert!(
        !managers.iter().any(|m| m == "ferry-rollout"),
        "{managers:?}"
    );

    // The fix rolls out canary first, then the rest.
    remote
        .work
        .write("agent.yaml", &daemonset("fluent-bit:3.1", &annotations));
    remote.commit_and_push("agent 3.1");
    assert_code(&sync(&remote.url(), &ns.name, &[]), 0);
    let fixed = agent_pods(&client, &ns.name).await;
    assert!(
        fixed.values().all(|(_, image)| image == "fluent-bit:3.1"),
        "{fixed:?}"
    );
    let steps = steps_of(&last_sync(&ns.name), "DaemonSet");
    assert_eq!(
        steps[0],
        (
            format!("canary nodes {}", canary.node),
            "healthy".to_string()
        )
    );
    assert_eq!(
        steps[1],
        ("3 of 3 nodes".to_string(), "healthy".to_string())
    );
}

#[tokio::test]
async fn a_disruption_budget_that_forbids_eviction_makes_the_step_wait_not_bypass_it() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "stg-pdb").await;
    let remote = Remote::new();
    let annotations = format!("{STEPS}: \"1, 100%\"");
    remote
        .work
        .write("agent.yaml", &daemonset("fluent-bit:3.0", &annotations));
    remote.commit_and_push("agent 3.0");
    assert_code(&sync(&remote.url(), &ns.name, &[]), 0);
    kubectl_apply(
        &ns.name,
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: agent}\nspec: {maxUnavailable: 0, selector: {matchLabels: {app: agent}}}\n",
    );
    let before = agent_pods(&client, &ns.name).await;

    remote
        .work
        .write("agent.yaml", &daemonset("fluent-bit:3.1", &annotations));
    remote.commit_and_push("agent 3.1");
    let run = sync(&remote.url(), &ns.name, &["--timeout", "8s"]);
    assert_code(&run, 3);
    assert!(
        run.stderr.contains("refused") && run.stderr.contains("disruption budget"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("timed out"), "{}", run.stdout);
    assert_eq!(
        agent_pods(&client, &ns.name).await,
        before,
        "no pod was replaced past the PDB"
    );

    support::kubectl_ok(&["-n", &ns.name, "delete", "pdb", "agent"]);
    assert_code(&sync(&remote.url(), &ns.name, &[]), 0);
    let after = agent_pods(&client, &ns.name).await;
    assert!(
        after.values().all(|(_, image)| image == "fluent-bit:3.1"),
        "{after:?}"
    );
}
