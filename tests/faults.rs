//! Faults injected with real tools between ferry and kube-apiserver: Toxiproxy toxics
//! (latency, timeout, reset_peer, slow_close, bandwidth) switched on and off at random during
//! 200-object syncs, and SIGKILL at random points of `ferry sync` and `ferry serve`.
//!
//! Seeded: every run prints its seed; `FERRY_FAULT_SEED=<seed>` replays a sequence and
//! `FERRY_FAULT_RUNS=<n>` changes how many randomized toxic runs there are (default 30, split
//! over three tests that run in parallel).
//!
//! What today's code guarantees and these tests hold it to: a run that is not killed finishes
//! its history record (succeeded, failed, gate-failed, superseded or invalid), whatever the
//! network did. A killed `ferry sync` may leave its record in progress until a later
//! `ferry serve` start marks it interrupted (a heartbeat that lets any later sync do that is
//! another change), so the kill tests check that at the end.

mod support;

use std::time::{Duration, Instant};

use support::faults::{
    app_args, assert_converges, assert_history_well_formed, ferry_command, history, job_runs,
    unfinished, write_bundle, Chaos, Running, OBJECTS,
};
use support::serve::{app_config, app_status, spawn_server, wait_ready};
use support::toxi::{apiserver_address, fault_runs, fault_seed, Rng, Toxiproxy};
use support::{client, kubeconfig, wait_until, GitRepo, TestNamespace};

/// Checks the Job ran exactly once: the same uid as first seen, never more than one pod.
async fn assert_job_ran_once(client: &kube::Client, ns: &str, first: &mut Option<String>) {
    let (uid, pods) = wait_until(Duration::from_secs(60), "the Job and its pod", || async {
        job_runs(client, ns).await.filter(|(_, pods)| *pods >= 1)
    })
    .await;
    assert_eq!(pods, 1, "the Job ran {pods} pods");
    let first = first.get_or_insert(uid.clone());
    assert_eq!(*first, uid, "the Job was recreated (ran twice)");
}

async fn toxic_runs(prefix: &str, part: usize, parts: usize) {
    let base = fault_seed();
    let total = fault_runs(30);
    let client = client().await;
    let ns = TestNamespace::new(&client, prefix).await;
    let repo = GitRepo::new();
    let repo_path = repo.path_str();
    let cache = tempfile::tempdir().unwrap();
    let toxi = Toxiproxy::start(base);
    let proxy = toxi.proxy("apiserver", &apiserver_address());
    let via_proxy = proxy.kubeconfig_in(cache.path());
    let mut job_uid = None;
    let (mut ds_tag, mut faults, mut runs) = (17, 0, 0);
    // How the faulted syncs ended: [before writing anything, recorded failed, succeeded].
    let mut ends = [0; 3];
    println!("{prefix}: FERRY_FAULT_SEED={base} FERRY_FAULT_RUNS={total}");
    // This part's share of the runs; a run whose sync ended before any fault landed does
    // not count (the next run index takes its place).
    let quota = (0..total).filter(|r| r % parts == part).count();
    for run in (part..).step_by(parts).take(quota * 3) {
        if runs == quota {
            break;
        }
        let seed = base.wrapping_add(run as u64);
        let mut rng = Rng::new(seed ^ 0x5eed);
        if job_uid.is_none() || rng.chance(0.3) {
            ds_tag += 1;
        }
        write_bundle(&repo, run as u64 + 1, ds_tag);
        let sha = repo.commit(&format!("run {run}"));
        let context = format!("{prefix} run {run} (seed {seed})");

        // The first fault lands anywhere in the time a clean sync of this bundle takes.
        let first = Duration::from_millis(rng.range(500, 4000));
        let chaos = Chaos::start(proxy.clone(), seed, first);
        let args = app_args("sync", &repo_path, &ns.name);
        let faulted = Running::spawn(ferry_command(&via_proxy, cache.path(), &args))
            .finish(Duration::from_secs(300));
        let toxics = chaos.stop();
        faults += toxics.len();
        runs += usize::from(!toxics.is_empty());
        assert!(
            matches!(faulted.code, 0 | 2 | 3) && !faulted.stderr.contains("panicked"),
            "{context}: ferry crashed under {toxics:?}:\n{}\n{}",
            faulted.stdout,
            faulted.stderr
        );
        if faulted.code == 2 {
            assert!(
                faulted.stderr.contains("error:") || faulted.stdout.contains("failed"),
                "{context}: exit 2 without saying why:\n{}\n{}",
                faulted.stdout,
                faulted.stderr
            );
        }
        let start = Instant::now();
        assert_converges(cache.path(), &repo_path, &ns.name, &context);
        let records = history(cache.path(), &ns.name);
        assert_history_well_formed(&records, &context);
        assert!(
            unfinished(&records).is_empty(),
            "{context}: records left in progress by runs that were not killed: {:?}\n{records:#?}\nfaulted run said:\n{}\n{}",
            unfinished(&records),
            faulted.stdout,
            faulted.stderr
        );
        assert_job_ran_once(&client, &ns.name, &mut job_uid).await;
        // Oldest first: the faulted sync's record (none when it failed before applying),
        // then the converging one's (none when the faulted sync had applied everything).
        let recorded: Vec<&str> = records
            .iter()
            .rev()
            .filter(|r| r["commit"]["sha"] == sha.as_str())
            .map(|r| r["outcome"]["status"].as_str().unwrap_or("?"))
            .collect();
        let first_record = recorded.first().copied();
        ends[match (faulted.code, first_record) {
            (0, _) => 2,
            (_, Some("succeeded") | None) => 0,
            _ => 1,
        }] += usize::from(!toxics.is_empty());
        println!(
            "{context}: faulted sync exit {} in {:.1}s under {} toxic(s) {toxics:?}; converged in {:.1}s; records {recorded:?}",
            faulted.code,
            faulted.elapsed.as_secs_f64(),
            toxics.len(),
            start.elapsed().as_secs_f64()
        );
    }
    assert_eq!(runs, quota, "{prefix}: too few runs had a fault land");
    println!(
        "{prefix}: {runs} runs of {OBJECTS} objects, {faults} toxics injected; faulted syncs: {} failed before writing, {} failed mid-sync (recorded), {} succeeded anyway",
        ends[0], ends[1], ends[2]
    );
}

#[tokio::test]
async fn toxics_mid_sync_part_1_of_3() {
    toxic_runs("fx-tox1", 0, 3).await;
}

#[tokio::test]
async fn toxics_mid_sync_part_2_of_3() {
    toxic_runs("fx-tox2", 1, 3).await;
}

#[tokio::test]
async fn toxics_mid_sync_part_3_of_3() {
    toxic_runs("fx-tox3", 2, 3).await;
}

#[tokio::test]
async fn sigkill_at_random_points_of_sync_and_serve() {
    let seed = fault_seed();
    let mut rng = Rng::new(seed);
    println!("FERRY_FAULT_SEED={seed}");
    let client = client().await;
    let ns = TestNamespace::new(&client, "fx-kill").await;
    let repo = GitRepo::new();
    let repo_path = repo.path_str();
    let cache = tempfile::tempdir().unwrap();
    let kc = kubeconfig();
    let mut job_uid = None;

    write_bundle(&repo, 0, 20);
    repo.commit("first");
    let first = assert_converges(cache.path(), &repo_path, &ns.name, "first sync");
    assert_job_ran_once(&client, &ns.name, &mut job_uid).await;
    // Kill points spread over a whole sync of every object (the first one created them all).
    let full_ms = first.elapsed.as_millis() as u64;
    let (mut points, mut killed) = (Vec::new(), 0);
    // Later syncs change fewer objects and are quicker than the first: a sync that finished
    // before its kill point narrows the range the next points are drawn from.
    let mut upper = (full_ms * 3 / 4).max(100);
    // 20 kills that land mid-sync (a sync that finished before its kill point does not count).
    for k in 0..80u64 {
        if killed == 20 {
            break;
        }
        let ds_tag = if rng.chance(0.3) { 21 + k } else { 20 };
        write_bundle(&repo, k + 1, ds_tag);
        repo.commit(&format!("kill {k}"));
        let args = app_args("sync", &repo_path, &ns.name);
        let mut sync = Running::spawn(ferry_command(&kc, cache.path(), &args));
        let at = rng.range(50, upper);
        std::thread::sleep(Duration::from_millis(at));
        let finished_first = sync.done();
        let out = sync.kill();
        if finished_first {
            upper = (at * 3 / 4).max(100);
        } else {
            killed += 1;
        }
        points.push(format!(
            "{at}ms{}",
            if finished_first { "(done)" } else { "" }
        ));
        let context = format!("kill {k} at {at}ms (seed {seed})");
        assert_converges(cache.path(), &repo_path, &ns.name, &context);
        let records = history(cache.path(), &ns.name);
        assert_history_well_formed(&records, &context);
        assert!(
            unfinished(&records).len() <= killed,
            "{context}: more records in progress than killed syncs: {records:#?}\n{}",
            out.stderr
        );
        assert_job_ran_once(&client, &ns.name, &mut job_uid).await;
    }
    let left = unfinished(&history(cache.path(), &ns.name));
    println!(
        "ferry sync: one full sync {full_ms}ms; SIGKILL at {points:?} ({killed} mid-sync); records left in progress: {left:?}"
    );
    assert_eq!(killed, 20, "20 kills mid-sync");

    // `ferry serve`, killed mid-sync a few times; each restart converges.
    let config = app_config(&ns.name, &repo_path, "1s", "");
    let mut serve_points = Vec::new();
    for k in 0..4u64 {
        write_bundle(&repo, 100 + k, 20);
        let head = repo.commit(&format!("serve kill {k}"));
        let mut server = spawn_server(&config, &[], &[]);
        let at = rng.range(500, full_ms.max(600) + 1500);
        std::thread::sleep(Duration::from_millis(at));
        let _ = server.child.kill();
        let _ = server.child.wait();
        serve_points.push(format!("{at}ms"));
        let server = wait_ready(spawn_server(&config, &[], &[]));
        wait_until(
            Duration::from_secs(120),
            "serve to sync the head",
            || async {
                let status = app_status(server.port, &ns.name).await;
                (status["syncedCommit"] == head.as_str() && status["syncing"] == false)
                    .then_some(())
            },
        )
        .await;
        drop(server);
        let context = format!("serve kill {k} at {at}ms (seed {seed})");
        assert_converges(cache.path(), &repo_path, &ns.name, &context);
        assert_job_ran_once(&client, &ns.name, &mut job_uid).await;
    }
    println!("ferry serve: SIGKILL at {serve_points:?}");
    // A killed process's record is closed as `interrupted` once its heartbeat is stale
    // (35 s), by the leader's janitor or by any later sync: keep syncing until then.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let records = loop {
        assert_converges(cache.path(), &repo_path, &ns.name, "closing stale records");
        let records = history(cache.path(), &ns.name);
        if unfinished(&records).is_empty() || std::time::Instant::now() > deadline {
            break records;
        }
        std::thread::sleep(Duration::from_secs(5));
    };
    assert_history_well_formed(&records, "after the kills");
    assert!(
        unfinished(&records).is_empty(),
        "records still in progress 2 minutes after the last kill: {records:#?}"
    );
}
