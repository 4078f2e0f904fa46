//! Restricting a live object to the shape of a desired one, so a diff shows only the fields
//! git sets (used where no server dry-run is possible, e.g. an immutable Job template).

use serde_json::{Map, Value};

/// Returns the parts of `live` at the paths `desired` sets. Lists of named objects are matched
/// by `name`, other lists by position.
pub fn project_onto(live: &Value, desired: &Value) -> Value {
    match (live, desired) {
        (Value::Object(l), Value::Object(d)) => {
            let mut out = Map::new();
            for (key, dv) in d {
                if let Some(lv) = l.get(key) {
                    out.insert(key.clone(), project_onto(lv, dv));
                }
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(d)) => {
            let named = |items: &Vec<Value>| {
                items
                    .iter()
                    .all(|i| i.get("name").and_then(Value::as_str).is_some())
            };
            if !d.is_empty() && named(d) && named(l) {
                let mut out = Vec::new();
                for dv in d {
                    if let Some(lv) = l.iter().find(|lv| lv.get("name") == dv.get("name")) {
                        out.push(project_onto(lv, dv));
                    }
                }
                Value::Array(out)
            } else {
                Value::Array(
                    l.iter()
                        .enumerate()
                        .map(|(i, lv)| match d.get(i) {
                            Some(dv) => project_onto(lv, dv),
                            None => lv.clone(),
                        })
                        .collect(),
                )
            }
        }
        _ => live.clone(),
    }
}

#[cfg(test)]
#[path = "project_tests.rs"]
mod tests;
