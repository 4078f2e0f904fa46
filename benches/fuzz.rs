//! Timed property-based fuzzing of the manifest loader and the webhook payload parsers: the
//! properties of `tests/fuzz/` (no panic on arbitrary bytes, token soup, or edits of
//! valid manifests and payloads; problems point into the input), run for a wall-clock budget
//! per group instead of a fixed case count. Prints cases run and panics per target; writes
//! each panicking input to `target/fuzz-failures/`. Exits 1 when anything panicked.
//!
//! Run: `cargo bench --bench fuzz` (10 minutes per group). Environment:
//! - `FERRY_FUZZ_SECONDS`: budget per group (default 600; 2 when run by `cargo test`);
//! - `FERRY_FUZZ_GROUPS`: `manifest`, `webhook` or both, comma-separated (default both);
//! - `FERRY_FUZZ_SEED`: RNG seed (default: from the clock; printed, so a run can be repeated).
//!
//! No cluster needed.

#[path = "../tests/fuzz/edits.rs"]
mod edits;
#[path = "../tests/fuzz/json_edits.rs"]
mod json_edits;
#[path = "../tests/fuzz/manifest.rs"]
mod manifest_fuzz;
#[path = "../tests/fuzz/webhook.rs"]
mod webhook_fuzz;

use std::cell::RefCell;
use std::fmt::Debug;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

thread_local! {
    static LAST_PANIC: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Runs one generated case; `Some((panic message, input))` when it panicked.
type Step = Box<dyn FnMut(&mut TestRunner) -> Option<(String, String)>>;

/// One property with its input strategy, run case by case.
struct Target {
    name: &'static str,
    step: Step,
    cases: u64,
    panics: u64,
}

fn target<S, F>(name: &'static str, strategy: S, property: F) -> Target
where
    S: Strategy + 'static,
    S::Value: Debug,
    F: Fn(&S::Value) + 'static,
{
    Target {
        name,
        step: Box::new(move |runner| {
            let tree = match strategy.new_tree(runner) {
                Ok(tree) => tree,
                Err(e) => return Some((format!("strategy failed: {e}"), String::new())),
            };
            let value = tree.current();
            if let Ok(()) = panic::catch_unwind(AssertUnwindSafe(|| property(&value))) {
                None
            } else {
                let message = LAST_PANIC.with(|m| m.borrow().clone());
                Some((message, format!("{value:#?}")))
            }
        }),
        cases: 0,
        panics: 0,
    }
}

fn groups() -> Vec<(&'static str, Vec<Target>)> {
    vec![
        (
            "manifest",
            vec![target(
                "manifest loader (parse_bundle, split, resolve)",
                manifest_fuzz::manifest_files(),
                |(files, tight)| manifest_fuzz::manifest_property(files, *tight),
            )],
        ),
        (
            "webhook",
            vec![
                target(
                    "webhook payloads (verify_and_parse, all forges)",
                    webhook_fuzz::deliveries(),
                    webhook_fuzz::webhook_property,
                ),
                target(
                    "repo URL and path matching",
                    webhook_fuzz::url_strings(),
                    |(a, b, files)| webhook_fuzz::url_property(a, b, files),
                ),
            ],
        ),
    ]
}

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let seconds: u64 = std::env::var("FERRY_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(if benching { 600 } else { 2 });
    let wanted: Vec<String> = std::env::var("FERRY_FUZZ_GROUPS")
        .unwrap_or_else(|_| "manifest,webhook".into())
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let seed: u64 = std::env::var("FERRY_FUZZ_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    let failures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
    panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let payload = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| {
                info.payload()
                    .downcast_ref::<&str>()
                    .map(std::string::ToString::to_string)
            })
            .unwrap_or_default();
        LAST_PANIC.with(|m| *m.borrow_mut() = format!("{payload} (at {location})"));
    }));

    println!("fuzz: seed {seed}, {seconds} s per group");
    let mut total_panics = 0;
    for (group, mut targets) in groups() {
        if !wanted.iter().any(|w| w == group) {
            continue;
        }
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
        let mut runner = TestRunner::new_with_rng(Config::default(), rng);
        let budget = Duration::from_secs(seconds);
        let started = Instant::now();
        let mut i = 0usize;
        while started.elapsed() < budget {
            let n = targets.len();
            let t = &mut targets[i % n];
            i += 1;
            t.cases += 1;
            if let Some((message, input)) = (t.step)(&mut runner) {
                t.panics += 1;
                let _ = std::fs::create_dir_all(&failures);
                let file = failures.join(format!("{group}-{}.txt", t.panics));
                let _ = std::fs::write(&file, format!("{message}\n\n{input}\n"));
                if t.panics <= 3 {
                    println!(
                        "PANIC in {}: {message}\n  input saved to {}",
                        t.name,
                        file.display()
                    );
                }
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        for t in &targets {
            println!(
                "fuzz {group}: {}: {} cases in {elapsed:.0} s ({:.0}/s), {} panics",
                t.name,
                t.cases,
                t.cases as f64 / elapsed.max(0.001),
                t.panics
            );
            total_panics += t.panics;
        }
    }
    if total_panics > 0 {
        std::process::exit(1);
    }
}
