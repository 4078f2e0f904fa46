use std::time::Duration;

use serde_json::json;

use super::*;

fn spec(steps: &str) -> Result<StageSpec, StageError> {
    StageSpec::parse(steps, None, None, &StageKey::annotation)
}

#[test]
fn steps_parse_counts_and_percentages_ending_at_100() {
    let s = spec("1, 25%, 100%").unwrap();
    assert_eq!(
        s.steps,
        vec![
            StepSize::Count(1),
            StepSize::Percent(25),
            StepSize::Percent(100)
        ]
    );
    assert_eq!(s.to_string(), "1 → 25% → 100%");
}

#[test]
fn bad_steps_name_the_annotation_and_the_value() {
    for bad in [
        "",
        "1, 2",
        "50%, 25%, 100%",
        "0, 100%",
        "3, 2, 100%",
        "x, 100%",
        "150%",
    ] {
        let e = spec(bad).unwrap_err();
        assert_eq!(e.key, STEPS_ANNOTATION, "{bad}");
        assert_eq!(e.value, bad);
    }
    let e = StageSpec::parse("100%", Some("soon"), None, &StageKey::gates_key).unwrap_err();
    assert_eq!(e.key, "gates.stepSoak");
    assert!(e.to_string().contains("\"soon\""), "{e}");
}

#[test]
fn targets_resolve_against_the_total_and_never_repeat_a_step() {
    assert_eq!(spec("1, 3, 100%").unwrap().targets(5), vec![1, 3, 5]);
    assert_eq!(spec("1, 25%, 100%").unwrap().targets(5), vec![1, 2, 5]);
    // 25% of 3 rounds up to 1: the same as the first step, which it does not widen.
    assert_eq!(spec("1, 25%, 100%").unwrap().targets(3), vec![1, 1, 3]);
    assert_eq!(spec("10, 100%").unwrap().targets(3), vec![3, 3]);
    assert_eq!(spec("100%").unwrap().targets(1), vec![1]);
}

#[test]
fn object_annotations_win_over_the_app_one_key_at_a_time() {
    let app = StageSpec::parse(
        "50%, 100%",
        Some("30s"),
        Some("role=canary"),
        &StageKey::gates_key,
    )
    .unwrap();
    let obj = json!({"metadata": {"annotations": {STEPS_ANNOTATION: "1, 100%"}}});
    let s = StageSpec::of_object(&obj, Some(&app)).unwrap().unwrap();
    assert_eq!(s.steps, vec![StepSize::Count(1), StepSize::Percent(100)]);
    assert_eq!(s.soak, Duration::from_secs(30));
    assert_eq!(s.canary_nodes.as_deref(), Some("role=canary"));
    let plain = json!({"metadata": {}});
    assert_eq!(StageSpec::of_object(&plain, Some(&app)).unwrap(), Some(app));
    assert_eq!(StageSpec::of_object(&plain, None).unwrap(), None);
}

#[test]
fn the_mark_round_trips() {
    let mark = RolloutMark {
        step: 2,
        steps: 3,
        commit: "abc123".into(),
    };
    assert_eq!(RolloutMark::parse(&mark.to_string()), Some(mark.clone()));
    let live = json!({"metadata": {"annotations": {ROLLOUT_STEP_ANNOTATION: "2/3 abc123"}}});
    assert_eq!(RolloutMark::of_object(&live), Some(mark));
    assert_eq!(RolloutMark::parse("garbage"), None);
}

#[test]
fn decide_stages_template_changes_resumes_marks_and_releases_orphaned_holds() {
    let s = spec("1, 100%").unwrap();
    let mark = RolloutMark::parse("2/2 abc").unwrap();
    assert_eq!(decide("ConfigMap", Some(s.clone()), None, true, "c"), None);
    assert_eq!(
        decide("StatefulSet", Some(s.clone()), None, true, "c"),
        Some(Staging::Steps {
            spec: s.clone(),
            resume_at: None,
            commit: "c".into()
        })
    );
    assert_eq!(
        decide("StatefulSet", Some(s.clone()), None, false, "c"),
        None
    );
    assert_eq!(
        decide("DaemonSet", Some(s.clone()), Some(&mark), false, "c"),
        Some(Staging::Steps {
            spec: s.clone(),
            resume_at: Some(2),
            commit: "c".into()
        })
    );
    assert_eq!(
        decide("DaemonSet", Some(s.clone()), Some(&mark), true, "c"),
        Some(Staging::Steps {
            spec: s,
            resume_at: None,
            commit: "c".into()
        }),
        "a new template starts its own steps"
    );
    assert_eq!(
        decide("DaemonSet", None, Some(&mark), false, "c"),
        Some(Staging::Release {
            left: "2/2 abc".into()
        })
    );
}

#[test]
fn held_fields_are_left_out_of_what_ferry_applies() {
    let sts = json!({"spec": {"updateStrategy": {"rollingUpdate": {"partition": 2, "maxUnavailable": 1}}}});
    assert_eq!(
        without_held_fields("StatefulSet", &sts),
        json!({"spec": {"updateStrategy": {"rollingUpdate": {"maxUnavailable": 1}}}})
    );
    let ds = json!({"spec": {"updateStrategy": {"type": "RollingUpdate"}}});
    assert_eq!(
        without_held_fields("DaemonSet", &ds),
        json!({"spec": {"updateStrategy": {}}})
    );
}
