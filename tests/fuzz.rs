//! Property-based fuzzing, short run: 256 cases of the manifest loader's property, 2048 of
//! the webhook payload parsers' (see `tests/fuzz/`). The long, timed run of the same
//! properties is `cargo bench --bench fuzz` (`FERRY_FUZZ_SECONDS`, default 600 per group).
//! No cluster needed.

#[path = "fuzz/edits.rs"]
mod edits;
#[path = "fuzz/json_edits.rs"]
mod json_edits;
#[path = "fuzz/manifest.rs"]
mod manifest_fuzz;
#[path = "fuzz/webhook.rs"]
mod webhook_fuzz;

use manifest_fuzz::*;
use proptest::prelude::*;
use webhook_fuzz::*;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // A failure prints its minimal input; nothing is written next to the sources.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn manifest_loader_never_panics_and_locates_every_problem((files, tight) in manifest_files()) {
        manifest_property(&files, tight);
    }
}

proptest! {
    // A delivery is cheap (~1 ms unoptimised), and a parser branch needs a forge, an event and
    // a field value to line up: more cases, same second.
    #![proptest_config(config(2048))]

    #[test]
    fn webhook_parsers_never_panic(delivery in deliveries()) {
        webhook_property(&delivery);
    }

    #[test]
    fn repo_url_and_path_matching_never_panic((a, b, files) in url_strings()) {
        url_property(&a, &b, &files);
    }
}

/// The mutations do reach the interesting paths: the valid bases parse, and the edits produce
/// both accepted and rejected inputs (a fuzzer that only ever fed garbage would prove little).
#[test]
fn the_seeds_are_valid() {
    for (i, text) in MANIFESTS.iter().enumerate() {
        let file = ferry::manifest::SourceFile {
            path: format!("seed{i}.yaml"),
            contents: text.as_bytes().to_vec(),
        };
        let parsed = ferry::manifest::parse_bundle(&[file], &Default::default());
        assert!(
            parsed.is_ok(),
            "seed {i}: {:?}",
            parsed.err().map(|e| e.to_string())
        );
    }
    for (forge, payload) in payloads() {
        let d = Delivery {
            forge,
            event: match forge {
                ferry::trigger::Forge::GitLab => "Push Hook".into(),
                ferry::trigger::Forge::Bitbucket => "repo:push".into(),
                _ => "push".into(),
            },
            body: serde_json::to_vec(&payload).unwrap(),
            signature: None,
            probe_url: String::new(),
            probe_path: String::new(),
        };
        let parsed = ferry::trigger::verify_and_parse(forge, &headers_for(&d), &d.body, SECRET);
        assert!(
            matches!(parsed, Ok(ferry::trigger::WebhookEvent::Push(_))),
            "{forge}: {parsed:?}"
        );
    }
}
