//! Files → [`Bundle`]: documents, objects, `List` expansion, field checks, duplicates, waves.

use std::collections::HashMap;

use serde_json::Value;

use super::compat::fix_octal_modes;
use super::split::documents;
use super::waves::{default_wave, WAVE_ANNOTATION};
use super::yaml::{budget_for, parse_document};
use super::{Bundle, Limits, ManifestError, ObjectKey, Origin, Problem, Resource, SourceFile};

/// Parses and validates the manifest files of one commit, in the given order.
///
/// Every problem in every file is collected; when there is any, the result is
/// [`ManifestError::Invalid`] with all of them and no bundle (a commit is all or nothing).
/// Namespaces are left as written: [`resolve`](super::resolve) defaults them.
pub fn parse_bundle(files: &[SourceFile], limits: &Limits) -> Result<Bundle, ManifestError> {
    let mut cx = Collector {
        limits,
        problems: Vec::new(),
        resources: Vec::new(),
        seen: HashMap::new(),
        full: false,
    };
    for file in files {
        if cx.full {
            break;
        }
        cx.file(file);
    }
    if cx.problems.is_empty() {
        Ok(Bundle {
            resources: cx.resources,
        })
    } else {
        Err(ManifestError::Invalid(cx.problems))
    }
}

/// What makes two objects the same object, whatever their version.
type Identity = (String, String, Option<String>, String);

/// Identity of a key: group, kind, namespace, name.
pub(super) fn identity(key: &ObjectKey) -> Identity {
    (
        key.group.clone(),
        key.kind.clone(),
        key.namespace.clone(),
        key.name.clone(),
    )
}

struct Collector<'l> {
    limits: &'l Limits,
    problems: Vec<Problem>,
    resources: Vec<Resource>,
    /// Index into `resources` of the first object with each identity.
    seen: HashMap<Identity, usize>,
    /// `max_resources` was reached: stop reading.
    full: bool,
}

impl Collector<'_> {
    fn file(&mut self, file: &SourceFile) {
        let path = file.path.as_str();
        let size = file.contents.len();
        if size > self.limits.max_file_bytes {
            self.problems.push(Problem::new(
                path,
                0,
                format!(
                    "file is {size} bytes, over the limit of {}",
                    self.limits.max_file_bytes
                ),
            ));
            return;
        }
        let text = match std::str::from_utf8(&file.contents) {
            Ok(text) => text,
            Err(e) => {
                let good = &file.contents[..e.valid_up_to()];
                let line = 1 + good.iter().filter(|&&b| b == b'\n').count();
                self.problems.push(Problem::new(
                    path,
                    line,
                    format!("file is not valid UTF-8 (byte {})", e.valid_up_to()),
                ));
                return;
            }
        };
        for (index, chunk) in documents(text).enumerate() {
            if self.full {
                return;
            }
            if index >= self.limits.max_documents_per_file {
                self.problems.push(Problem::new(
                    path,
                    chunk.first_line,
                    format!(
                        "more than {} YAML documents in one file",
                        self.limits.max_documents_per_file
                    ),
                ));
                return;
            }
            let Some(content_line) = chunk.content_line else {
                continue; // empty, or comments only
            };
            let budget = budget_for(chunk.text.len(), self.limits.max_alias_expansion);
            let value = match parse_document(chunk.text, chunk.first_line, budget) {
                Ok(value) => value,
                Err(e) => {
                    let line = e.line.unwrap_or(content_line);
                    self.problems.push(Problem::new(path, line, e.message));
                    continue;
                }
            };
            if value.is_null() {
                continue;
            }
            let origin = Origin {
                file: path.to_string(),
                document: index,
                line: content_line,
            };
            self.object(value, &origin, "");
        }
    }

    /// Validates one object (or expands one list) found at `origin`; `at` prefixes messages,
    /// e.g. `items[2]: `.
    fn object(&mut self, mut value: Value, origin: &Origin, at: &str) {
        if self.full {
            return;
        }
        let problem = |message: String| Problem::at(origin, format!("{at}{message}"));
        let Value::Object(map) = &mut value else {
            let found = type_name(&value);
            self.problems.push(problem(format!(
                "expected a mapping (a Kubernetes object), found {found}"
            )));
            return;
        };

        let kind = string_field(map.get("kind"), "kind");
        if let Ok(kind) = &kind {
            if kind.ends_with("List") {
                match map.remove("items") {
                    Some(Value::Array(items)) => {
                        for (i, item) in items.into_iter().enumerate() {
                            self.object(item, origin, &format!("{at}items[{i}]: "));
                        }
                        return;
                    }
                    Some(other) if kind == "List" => {
                        let found = type_name(&other);
                        self.problems.push(problem(format!(
                            "List needs an `items` list, found {found}"
                        )));
                        return;
                    }
                    None if kind == "List" => {
                        self.problems
                            .push(problem("List needs an `items` list".into()));
                        return;
                    }
                    Some(other) => {
                        map.insert("items".into(), other);
                    }
                    None => {}
                }
            }
        }

        let mut failed = false;
        let mut check = |r: Result<String, String>| -> String {
            r.unwrap_or_else(|message| {
                self.problems.push(problem(message));
                failed = true;
                String::new()
            })
        };
        let api_version = check(string_field(map.get("apiVersion"), "apiVersion"));
        let kind = check(kind);
        let (group, version) = if api_version.is_empty() {
            (String::new(), String::new())
        } else {
            check_split(split_api_version(&api_version), &mut check)
        };
        let name = check(name_field(map.get("metadata")));
        let namespace = check_namespace(map.get("metadata"), &mut check);
        let wave = match wave_annotation(map.get("metadata")) {
            Ok(Some(wave)) => wave,
            Ok(None) => default_wave(&group, &kind),
            Err(message) => {
                check(Err(message));
                0
            }
        };
        if failed {
            return;
        }

        let key = ObjectKey {
            group,
            version,
            kind,
            namespace,
            name,
        };
        if let Some(&first) = self.seen.get(&identity(&key)) {
            if let Some(first) = self.resources.get(first) {
                let message = format!(
                    "duplicate of {} first defined at {}",
                    first.key, first.origin
                );
                self.problems.push(problem(message));
            }
            return;
        }
        let size = json_size(&value);
        if size > self.limits.max_object_bytes {
            self.problems.push(problem(format!(
                "{key} is {size} bytes as JSON, over the limit of {} bytes: etcd refuses \
                 larger writes by default (--max-request-bytes), after a dry-run that cannot \
                 tell, so the sync would stop halfway; move the bulk into several objects",
                self.limits.max_object_bytes
            )));
            return;
        }
        if self.resources.len() >= self.limits.max_resources {
            self.problems.push(problem(format!(
                "more than {} resources in the manifests",
                self.limits.max_resources
            )));
            self.full = true;
            return;
        }
        fix_octal_modes(&mut value);
        self.seen.insert(identity(&key), self.resources.len());
        self.resources.push(Resource {
            key,
            object: value,
            origin: origin.clone(),
            wave,
        });
    }
}

fn check_split(
    r: Result<(String, String), String>,
    check: &mut impl FnMut(Result<String, String>) -> String,
) -> (String, String) {
    match r {
        Ok(pair) => pair,
        Err(message) => {
            check(Err(message));
            (String::new(), String::new())
        }
    }
}

fn check_namespace(
    metadata: Option<&Value>,
    check: &mut impl FnMut(Result<String, String>) -> String,
) -> Option<String> {
    match metadata.and_then(|m| m.get("namespace")) {
        None | Some(Value::Null) => None,
        Some(Value::String(ns)) if ns.is_empty() => None,
        Some(Value::String(ns)) => Some(ns.clone()),
        Some(other) => {
            check(Err(format!(
                "metadata.namespace must be a string, found {}",
                type_name(other)
            )));
            None
        }
    }
}

/// A required, non-empty string field.
fn string_field(value: Option<&Value>, field: &str) -> Result<String, String> {
    match value {
        None | Some(Value::Null) => Err(format!("missing {field}")),
        Some(Value::String(s)) if s.trim().is_empty() => Err(format!("{field} is empty")),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!(
            "{field} must be a string, found {}",
            type_name(other)
        )),
    }
}

fn name_field(metadata: Option<&Value>) -> Result<String, String> {
    let metadata = match metadata {
        None | Some(Value::Null) => return Err("missing metadata.name".into()),
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(format!(
                "metadata must be a mapping, found {}",
                type_name(other)
            ));
        }
    };
    let name = metadata.get("name");
    if matches!(name, None | Some(Value::Null)) && metadata.contains_key("generateName") {
        return Err(
            "metadata.generateName is not supported: ferry needs a fixed \
                    metadata.name to track the object"
                .into(),
        );
    }
    string_field(name, "metadata.name")
}

/// `apps/v1` → (`apps`, `v1`); `v1` → (``, `v1`).
fn split_api_version(api_version: &str) -> Result<(String, String), String> {
    let bad = || {
        Err(format!(
            "apiVersion {api_version:?} is not `version` or `group/version`"
        ))
    };
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    let clean = |s: &str| !s.is_empty() && !s.contains(['/', ' ', '\t']);
    if !clean(version) || (api_version.contains('/') && !clean(group)) {
        return bad();
    }
    Ok((group.to_string(), version.to_string()))
}

/// The [`WAVE_ANNOTATION`] when set; an error when it is not a whole number in a string.
fn wave_annotation(metadata: Option<&Value>) -> Result<Option<i32>, String> {
    let Some(value) = metadata
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(WAVE_ANNOTATION))
    else {
        return Ok(None);
    };
    match value {
        Value::String(s) => s.trim().parse::<i32>().map(Some).map_err(|_| {
            format!("annotation {WAVE_ANNOTATION}: {s:?} is not a whole number (32-bit)")
        }),
        Value::Number(n) => Err(format!(
            "annotation {WAVE_ANNOTATION} must be a string: write \"{n}\" in quotes"
        )),
        other => Err(format!(
            "annotation {WAVE_ANNOTATION} must be a string holding a whole number, found {}",
            type_name(other)
        )),
    }
}

/// The length of `value` serialised as JSON, without building the text.
fn json_size(value: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing a `Value` into a counter cannot fail.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// "a string", "a list"… for messages.
pub(super) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
