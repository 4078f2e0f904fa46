use std::collections::BTreeSet;
use std::time::Duration;

use tokio::time::Instant;

use super::LiveCoverage;
use crate::manifest::Gvk;

fn kinds(names: &[&str]) -> BTreeSet<Gvk> {
    names.iter().map(|k| Gvk::new("", "v1", *k)).collect()
}

#[test]
fn an_empty_set_of_kinds_is_covered() {
    let coverage = LiveCoverage::new();
    assert!(coverage.covers(&BTreeSet::new(), Instant::now()));
}

#[test]
fn a_kind_never_watched_is_not_covered() {
    let coverage = LiveCoverage::new();
    assert!(!coverage.covers(&kinds(&["ConfigMap"]), Instant::now()));
}

#[test]
fn a_started_watch_covers_only_after_its_first_list() {
    let coverage = LiveCoverage::new();
    let config_map = Gvk::new("", "v1", "ConfigMap");
    coverage.started(&config_map);
    let before_list = Instant::now();
    assert!(!coverage.covers(&kinds(&["ConfigMap"]), before_list));
    let listed = before_list + Duration::from_secs(1);
    coverage.listed(&config_map, listed);
    // A plan that began before the list may have missed a change the watch never saw.
    assert!(!coverage.covers(&kinds(&["ConfigMap"]), before_list));
    assert!(coverage.covers(&kinds(&["ConfigMap"]), listed));
    assert!(coverage.covers(&kinds(&["ConfigMap"]), listed + Duration::from_secs(5)));
}

#[test]
fn every_kind_must_be_covered() {
    let coverage = LiveCoverage::new();
    let now = Instant::now();
    let config_map = Gvk::new("", "v1", "ConfigMap");
    coverage.started(&config_map);
    coverage.listed(&config_map, now);
    assert!(coverage.covers(&kinds(&["ConfigMap"]), now));
    assert!(!coverage.covers(&kinds(&["ConfigMap", "Secret"]), now));
}

#[test]
fn a_failure_after_the_clean_plan_is_a_gap_until_the_next_plan() {
    let coverage = LiveCoverage::new();
    let start = Instant::now();
    let secret = Gvk::new("", "v1", "Secret");
    coverage.started(&secret);
    coverage.listed(&secret, start);
    let clean_plan = start + Duration::from_secs(10);
    coverage.failed(&secret, start + Duration::from_secs(20));
    // The relist that follows does not move the baseline: the gap stays.
    coverage.listed(&secret, start + Duration::from_secs(21));
    assert!(!coverage.covers(&kinds(&["Secret"]), clean_plan));
    // A plan that began after the failure covers again.
    assert!(coverage.covers(&kinds(&["Secret"]), start + Duration::from_secs(30)));
}

#[test]
fn a_restarted_or_stopped_watch_loses_its_baseline() {
    let coverage = LiveCoverage::new();
    let now = Instant::now();
    let service = Gvk::new("", "v1", "Service");
    coverage.started(&service);
    coverage.listed(&service, now);
    assert!(coverage.covers(&kinds(&["Service"]), now));
    coverage.started(&service);
    assert!(!coverage.covers(&kinds(&["Service"]), now + Duration::from_secs(1)));
    coverage.listed(&service, now + Duration::from_secs(2));
    coverage.stopped(&service);
    assert!(!coverage.covers(&kinds(&["Service"]), now + Duration::from_secs(3)));
}
