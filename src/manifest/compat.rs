//! Where serde_yaml (YAML 1.2) and kubectl (YAML 1.1) read a manifest differently.
//!
//! kubectl parses YAML 1.1, where `0644` is the octal number 420; serde_yaml follows YAML 1.2,
//! where a leading zero makes `0644` a string. File modes are the one place manifests rely on
//! octal (`defaultMode: 0644`), and they are `int32` fields of the Pod API, so a string there
//! is always invalid: ferry reads an all-octal-digit string with a leading zero in a volume's
//! `defaultMode` / `items[].mode` as the octal number kubectl would have sent.
//! Other YAML 1.1 differences (`yes`/`no`/`on`/`off` booleans) are left alone: serde_yaml keeps
//! them as strings, and the server's dry-run reports a string where a boolean belongs.

use serde_json::Value;

/// Volume sources that carry file modes.
const SOURCES: [&str; 3] = ["secret", "configMap", "downwardAPI"];

/// Rewrites YAML 1.1 octal file modes in every `volumes` list of `value`, at any depth (pods,
/// pod templates, and custom resources that embed a pod spec).
pub(super) fn fix_octal_modes(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "volumes" {
                    if let Value::Array(volumes) = child {
                        volumes.iter_mut().for_each(fix_volume);
                    }
                }
                fix_octal_modes(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(fix_octal_modes),
        _ => {}
    }
}

fn fix_volume(volume: &mut Value) {
    for source in SOURCES {
        if let Some(s) = volume.get_mut(source) {
            fix_mode(s, "defaultMode");
            fix_items(s);
        }
    }
    if let Some(projected) = volume.get_mut("projected") {
        fix_mode(projected, "defaultMode");
        if let Some(Value::Array(sources)) = projected.get_mut("sources") {
            for entry in sources {
                for source in SOURCES {
                    if let Some(s) = entry.get_mut(source) {
                        fix_items(s);
                    }
                }
            }
        }
    }
}

fn fix_items(source: &mut Value) {
    if let Some(Value::Array(items)) = source.get_mut("items") {
        for item in items {
            fix_mode(item, "mode");
        }
    }
}

fn fix_mode(holder: &mut Value, field: &str) {
    let octal = match holder.get(field) {
        Some(Value::String(s)) => yaml11_octal(s),
        _ => None,
    };
    if let (Some(n), Some(slot)) = (octal, holder.get_mut(field)) {
        *slot = Value::from(n);
    }
}

/// `0644` → 420; `None` unless a leading zero is followed only by octal digits.
fn yaml11_octal(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('0')?;
    if digits.is_empty() || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    i64::from_str_radix(digits, 8).ok()
}

#[cfg(test)]
#[path = "compat_tests.rs"]
mod tests;
