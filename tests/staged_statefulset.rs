//! Staged StatefulSet rollouts (`ferry.dev/steps`): partition by partition, each step gated
//! and soaked; a failing step keeps the blast radius to that step (and a revert brings the set
//! back); a killed ferry resumes at the step it was on; a newer commit supersedes a soaking
//! step. Real API server and controllers, kwok pods.

mod support;

use std::time::Duration;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use support::serve::{app_status, github_push, history, hmac_hex, send_github, start_server};
use support::staged::*;
use support::{client, ferry_app, wait_until, Remote, TestNamespace};

#[tokio::test]
async fn a_statefulset_steps_ordinal_4_then_2_to_4_then_all_and_hands_the_partition_back() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "stg-sts").await;
    let remote = Remote::new();
    let annotations = format!("{STEPS}: \"1, 3, 100%\", ferry.dev/step-soak: 1s");
    remote
        .work
        .write("db.yaml", &statefulset("postgres:16", &annotations, 5));
    remote.commit_and_push("db 16");
    assert_code(&sync(&remote.url(), &ns.name, &[]), 0);
    let old = revisions(&client, &ns.name).await;

    remote
        .work
        .write("db.yaml", &statefulset("postgres:17", &annotations, 5));
    remote.commit_and_push("db 17");
    let plan = ferry_app("plan", &remote.url(), &ns.name, &[]);
    assert!(
        plan.stdout.contains("staged: 1 → 3 → 100%, soak 1s"),
        "{}",
        plan.stdout
    );

    let sampler = PartitionSampler::start(&client, &ns.name).await;
    let run = sync_sampled(&remote.url(), &ns.name, &[]).await;
    let partitions = sampler.stop();
    assert_code(&run, 0);
    // 5 (held: no pod moves while the template changes), then 4, 2 and 0: in that order.
    assert_eq!(
        partitions,
        vec![0, 5, 4, 2, 0],
        "partitions seen: {partitions:?}\n{}",
        run.stderr
    );
    let new = revisions(&client, &ns.name).await;
    assert!(
        new.values().all(|r| !old.values().any(|o| o == r)),
        "{old:?} → {new:?}"
    );

    let record = last_sync(&ns.name);
    assert_eq!(
        steps_of(&record, "StatefulSet"),
        [
            ("ordinals 4", "healthy"),
            ("ordinals 2–4", "healthy"),
            ("ordinals 0–4", "healthy")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let (managers, annotations) = managers_and_annotations(&ns.name, "statefulset", "db");
    assert!(
        !managers.iter().any(|m| m == "ferry-rollout"),
        "hold released: {managers:?}"
    );
    assert!(
        annotations.get("ferry.dev/rollout-step").is_none(),
        "{annotations}"
    );
    let again = ferry_app("plan", &remote.url(), &ns.name, &[]);
    assert_code(&again, 0);
    // One new ControllerRevision for the whole staged rollout.
    let revs = support::kubectl_ok(&["-n", &ns.name, "get", "controllerrevisions", "-o", "name"]);
    assert_eq!(revs.lines().count(), 2, "{revs}");
}

#[tokio::test]
async fn a_crashlooping_first_step_touches_only_ordinal_4_and_revert_brings_the_set_back() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "stg-crash").await;
    let remote = Remote::new();
    let annotations = format!("{STEPS}: \"1, 3, 100%\", ferry.dev/step-soak: 2s");
    remote
        .work
        .write("db.yaml", &statefulset("postgres:16", &annotations, 5));
    remote.commit_and_push("db 16");
    assert_code(&sync(&remote.url(), &ns.name, &[]), 0);
    let old_rev = revisions(&client, &ns.name).await["db-0"].clone();

    // Halt: the first step fails and only ordinal 4 ever leaves the old revision.
    remote.work.write(
        "db.yaml",
        &statefulset("postgres:crashloop", &annotations, 5),
    );
    remote.commit_and_push("db broken");
    let sampler = MovedSampler::start(&client, &ns.name, &old_rev);
    let started = std::time::Instant::now();
    let run = sync_sampled(&remote.url(), &ns.name, &[]).await;
    let took = started.elapsed();
    let moved = sampler.stop();
    assert_code(&run, 3);
    assert!(
        run.stdout.contains("step 1/3 (ordinals 4)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("CrashLoopBackOff"), "{}", run.stdout);
    eprintln!("failed after {took:?} (grace 2s)");
    assert_eq!(moved, ["db-4"], "only the first step's ordinal moves");
    let steps = steps_of(&last_sync(&ns.name), "StatefulSet");
    assert_eq!(steps, [("ordinals 4".to_string(), "failed".to_string())]);

    // Revert: the failure writes and syncs a revert; the set returns to the old revision and
    // no pod stays broken.
    remote
        .work
        .write("db.yaml", &statefulset("postgres:16", &annotations, 5));
    remote.commit_and_push("db 16 again");
    assert_code(&sync(&remote.url(), &ns.name, &[]), 0);
    remote.work.write(
        "db.yaml",
        &statefulset("postgres:crashloop", &annotations, 5),
    );
    remote.commit_and_push("db broken, with the revert policy");
    let sampler = MovedSampler::start(&client, &ns.name, &old_rev);
    let run = sync_sampled(&remote.url(), &ns.name, &["--on-failure", "revert"]).await;
    let moved = sampler.stop();
    assert!(
        run.stdout.contains("step 1/3 (ordinals 4)"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert_eq!(moved, ["db-4"], "{}", run.stdout);
    assert!(
        remote.tip_message().starts_with("Revert"),
        "{}",
        remote.tip_message()
    );
    wait_until(
        Duration::from_secs(60),
        "every pod back on the old revision and Ready",
        || async {
            let pods: Api<Pod> = Api::namespaced(client.clone(), &ns.name);
            let listed = pods
                .list(&ListParams::default().labels("app=db"))
                .await
                .ok()?;
            let back = listed.items.iter().filter(|p| {
                p.metadata.deletion_timestamp.is_none()
                    && p.metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get("controller-revision-hash"))
                        == Some(&old_rev)
                    && p.status
                        .as_ref()
                        .and_then(|s| s.container_statuses.as_ref())
                        .is_some_and(|c| c.iter().all(|c| c.ready))
            });
            (back.count() == 5).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn a_ferry_killed_mid_step_resumes_at_that_step_and_never_reruns_a_finished_one() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "stg-kill").await;
    let remote = Remote::new();
    let annotations = format!("{STEPS}: \"1, 2, 100%\", ferry.dev/step-soak: 4s");
    remote
        .work
        .write("db.yaml", &statefulset("postgres:16", &annotations, 3));
    remote.commit_and_push("db 16");
    assert_code(&sync(&remote.url(), &ns.name, &[]), 0);
    remote
        .work
        .write("db.yaml", &statefulset("postgres:17", &annotations, 3));
    let sha = remote.commit_and_push("db 17");

    let mut child = spawn_sync(&remote.url(), &ns.name);
    wait_until(Duration::from_secs(60), "step 2 in progress", || async {
        rollout_mark(&ns.name).starts_with("2/3 ").then_some(())
    })
    .await;
    child.kill().unwrap(); // SIGKILL
    let _ = child.wait();
    assert_eq!(rollout_mark(&ns.name), format!("2/3 {sha}"));
    let plan = ferry_app("plan", &remote.url(), &ns.name, &[]);
    assert!(
        plan.stdout.contains("resuming at step 2 of 3"),
        "{}",
        plan.stdout
    );

    let sampler = PartitionSampler::start(&client, &ns.name).await;
    let run = sync_sampled(&remote.url(), &ns.name, &[]).await;
    let partitions = sampler.stop();
    assert_code(&run, 0);
    // Step 2's partition (1), then 0: never back to step 1's partition (2) or the hold (3).
    assert_eq!(partitions, vec![1, 0], "{partitions:?}\n{}", run.stderr);
    let steps = steps_of(&last_sync(&ns.name), "StatefulSet");
    assert_eq!(steps[0].1, "done-earlier", "{steps:?}");
    assert_eq!(
        steps[1],
        ("ordinals 1–2".to_string(), "healthy".to_string())
    );
    assert_eq!(
        steps[2],
        ("ordinals 0–2".to_string(), "healthy".to_string())
    );
    assert_eq!(rollout_mark(&ns.name), "");
    assert_code(&ferry_app("plan", &remote.url(), &ns.name, &[]), 0);
}

#[tokio::test]
async fn a_newer_commit_supersedes_a_soaking_step_and_starts_its_own_steps() {
    let client = client().await;
    let ns = TestNamespace::new(&client, "stg-super").await;
    let remote = Remote::new();
    let annotations = format!("{STEPS}: \"1, 100%\", ferry.dev/step-soak: 10m");
    remote
        .work
        .write("apps/db.yaml", &statefulset("postgres:16", &annotations, 3));
    remote.commit_and_push("db 16");
    let server = start_server(&remote, &ns.name, "1h", &[]);
    let sts: Api<StatefulSet> = Api::namespaced(client.clone(), &ns.name);
    wait_until(
        Duration::from_secs(60),
        "the first commit synced",
        || async { sts.get_opt("db").await.ok().flatten().map(|_| ()) },
    )
    .await;
    wait_until(
        Duration::from_secs(60),
        "the first sync recorded",
        || async {
            let status = app_status(server.port, &ns.name).await;
            status["syncedCommit"].is_string().then_some(())
        },
    )
    .await;

    remote
        .work
        .write("apps/db.yaml", &statefulset("postgres:17", &annotations, 3));
    let soaking = remote.commit_and_push("db 17");
    let body = github_push(&remote.url(), "refs/heads/main", &soaking);
    assert_eq!(
        send_github(server.port, &body, &format!("sha256={}", hmac_hex(&body))).0,
        202
    );
    wait_until(Duration::from_secs(60), "step 1 soaking", || async {
        let status = app_status(server.port, &ns.name).await;
        let text = status.to_string();
        text.contains("soaking").then_some(())
    })
    .await;

    let fix = {
        let no_soak = format!("{STEPS}: \"1, 100%\"");
        remote
            .work
            .write("apps/db.yaml", &statefulset("postgres:18", &no_soak, 3));
        remote.commit_and_push("db 18")
    };
    let body = github_push(&remote.url(), "refs/heads/main", &fix);
    assert_eq!(
        send_github(server.port, &body, &format!("sha256={}", hmac_hex(&body))).0,
        202
    );
    wait_until(
        Duration::from_secs(60),
        "the newer commit synced",
        || async {
            let status = app_status(server.port, &ns.name).await;
            (status["syncedCommit"] == fix.as_str()).then_some(())
        },
    )
    .await;
    let records = history(&ns.name);
    let superseded = records
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["commit"]["sha"] == soaking.as_str())
        .cloned()
        .unwrap();
    assert_eq!(
        superseded["outcome"]["status"], "superseded",
        "{superseded}"
    );
    assert_eq!(
        steps_of(&superseded, "StatefulSet")[0].1,
        "superseded",
        "{superseded}"
    );
    let images: Vec<String> = Api::<Pod>::namespaced(client.clone(), &ns.name)
        .list(&ListParams::default().labels("app=db"))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|p| p.spec.unwrap().containers[0].image.clone().unwrap())
        .collect();
    assert!(images.iter().all(|i| i == "postgres:18"), "{images:?}");
    assert_eq!(partition(&sts.get("db").await.unwrap()), 0);
}
