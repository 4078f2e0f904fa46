//! "Does the live object already have everything git asks for?" — a cheap local check that lets
//! the planner skip a server dry-run. It errs towards `false` (a needless dry-run), never
//! towards a missed change.

use serde_json::Value;

use super::keys::{all_objects, choose_key, keys_equal, scalars_equal};
use super::path::{FieldPath, Segment};
use super::structured::equal_at;

/// True when every field set in `desired` is present with an equal value in `live`; `live` may
/// have more (server defaults, injected sidecars, extra labels).
///
/// Maps: each desired key must be in live with a subset value; a desired `null` requires the
/// field to be absent (or `null`) live. Lists of objects with a merge key: each desired item
/// must match (by key) a live item it is a subset of; extra live items are allowed. Other
/// lists of objects: same length, pairwise subset. Lists of scalars: equal. An empty desired
/// list matches an absent live one (the server drops empty lists); an empty desired map does
/// not (it may be a meaningful struct such as `emptyDir: {}`). Numbers compare numerically,
/// resource quantities as quantities.
pub fn is_subset(desired: &Value, live: &Value) -> bool {
    subset(&FieldPath::root(), desired, Some(live))
}

fn subset(path: &FieldPath, desired: &Value, live: Option<&Value>) -> bool {
    let live = live.filter(|v| !v.is_null());
    match desired {
        Value::Null => live.is_none(),
        Value::Object(d) => match live {
            Some(Value::Object(l)) => d.iter().all(|(k, dv)| subset(&path.field(k), dv, l.get(k))),
            _ => false,
        },
        Value::Array(d) => match live {
            None => d.is_empty(),
            Some(Value::Array(l)) => list_subset(path, d, l),
            Some(_) => false,
        },
        scalar => live.is_some_and(|l| scalars_equal(path, scalar, l)),
    }
}

fn list_subset(path: &FieldPath, desired: &[Value], live: &[Value]) -> bool {
    if !all_objects(&[desired, live]) {
        return desired.len() == live.len()
            && desired.iter().zip(live).all(|(d, l)| equal_at(path, d, l));
    }
    match choose_key(&[desired, live]) {
        Some(key) => desired.iter().all(|d| {
            let k = key.of(d);
            let p = path.child(Segment::Key(k.clone()));
            live.iter()
                .find(|l| keys_equal(&k, &key.of(l)))
                .is_some_and(|l| subset(&p, d, Some(l)))
        }),
        None => {
            desired.len() == live.len()
                && desired
                    .iter()
                    .zip(live)
                    .enumerate()
                    .all(|(i, (d, l))| subset(&path.child(Segment::Index(i)), d, Some(l)))
        }
    }
}

#[cfg(test)]
#[path = "subset_tests.rs"]
mod tests;
