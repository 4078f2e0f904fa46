use super::*;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// ferry.yaml's `gates:` section as an app writes it.
fn written(yaml: &str) -> GateSettings {
    serde_yaml::from_str(yaml).unwrap()
}

/// Every setting set (as a layer would set it), all different from the defaults.
fn app_layer() -> GateSettings {
    written("{wait: true, timeout: 10m, grace: 1m, failuresAllowed: 2, onDelete: restart-pods}")
}

#[test]
fn nothing_set_gives_the_built_in_defaults() {
    let none = GateSettings::default();
    assert_eq!(gate_config(&none, &none), Some(GateConfig::default()));
}

#[test]
fn the_app_layer_overrides_the_defaults() {
    let config = gate_config(&GateSettings::default(), &app_layer()).unwrap();
    assert_eq!(config.timeout, secs(600));
    assert_eq!(config.grace, secs(60));
    assert_eq!(config.failures_allowed, 2);
    assert_eq!(config.on_delete, OnDeletePolicy::RestartPods);
    assert!(!config.unstick_statefulsets);
    assert_eq!(config.poll_interval, GateConfig::default().poll_interval);
}

#[test]
fn flags_override_the_app_layer_setting_by_setting() {
    let flags = GateSettings {
        timeout: Some(secs(90)),
        unstick_statefulsets: Some(true),
        ..GateSettings::default()
    };
    let config = gate_config(&flags, &app_layer()).unwrap();
    assert_eq!(config.timeout, secs(90), "the flag wins");
    assert!(config.unstick_statefulsets, "the flag wins");
    // Unset flags fall through to the app, setting by setting.
    assert_eq!(config.grace, secs(60));
    assert_eq!(config.failures_allowed, 2);
    assert_eq!(config.on_delete, OnDeletePolicy::RestartPods);
    // And what neither sets falls through to the defaults.
    let partial_app = written("{grace: 5s}");
    let config = gate_config(&flags, &partial_app).unwrap();
    assert_eq!(config.timeout, secs(90));
    assert_eq!(config.grace, secs(5));
    assert_eq!(config.failures_allowed, 0);
    assert_eq!(config.on_delete, OnDeletePolicy::Skip);
}

#[test]
fn wait_false_from_either_layer_turns_gating_off() {
    let no_wait = GateSettings {
        wait: Some(false),
        ..GateSettings::default()
    };
    assert_eq!(gate_config(&no_wait, &app_layer()), None, "--no-wait");
    assert_eq!(
        gate_config(&GateSettings::default(), &written("{wait: false}")),
        None,
        "gates.wait: false"
    );
    assert_eq!(gate_config(&no_wait, &written("{wait: false}")), None);
    assert!(gate_config(&GateSettings::default(), &written("{wait: true}")).is_some());
}

#[test]
fn yaml_keys_are_camel_case_and_unknown_keys_are_refused() {
    let app = app_layer();
    assert_eq!(app.wait, Some(true));
    assert_eq!(app.failures_allowed, Some(2));
    assert_eq!(app.clone().validated(), Ok(app));
    let err = serde_yaml::from_str::<GateSettings>("{unstickStatefulsets: true}")
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown field `unstickStatefulsets`"), "{err}");
}

#[test]
fn values_that_do_not_parse_are_reported_by_validated_naming_key_and_value() {
    let err = written("{onDelete: later}").validated().unwrap_err();
    assert_eq!(
        err.to_string(),
        "gates.onDelete \"later\": expected skip, wait or restart-pods"
    );
    let err = written("{timeout: soon, grace: 5s}")
        .validated()
        .unwrap_err();
    assert!(
        err.to_string().starts_with("gates.timeout \"soon\": "),
        "{err}"
    );
    // The first problem in the order timeout, grace, onDelete.
    let err = written("{onDelete: later, grace: 5x}")
        .validated()
        .unwrap_err();
    assert!(err.to_string().starts_with("gates.grace \"5x\": "), "{err}");
}

#[test]
fn staged_rollout_keys_parse_and_bad_ones_name_the_key() {
    let gates = written("{steps: \"1, 50%, 100%\", stepSoak: 30s, canaryNodes: role=canary}")
        .validated()
        .unwrap();
    let steps = gates.steps.unwrap();
    assert_eq!(
        steps.to_string(),
        "1 → 50% → 100%, soak 30s, canary nodes role=canary"
    );

    let bad = written("{steps: \"50%, 10%\"}").validated().unwrap_err();
    assert!(
        bad.to_string()
            .starts_with("gates.steps: invalid value \"50%, 10%\""),
        "{bad}"
    );
    let orphan = written("{stepSoak: 30s}").validated().unwrap_err();
    assert!(
        orphan.to_string().contains("gates.stepSoak") && orphan.to_string().contains("gates.steps"),
        "{orphan}"
    );
}
