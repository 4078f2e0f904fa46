//! Parsing one YAML document into JSON, safely.
//!
//! serde_yaml does the parsing, but the value is built by our own visitor so that ferry can:
//! - bound alias expansion: every scalar, key and node built is charged against a budget
//!   (a multiple of the document's size), so a document that only grows through `*alias`es —
//!   a "billion laughs", or one large anchor repeated many times — fails with a clear error
//!   instead of eating memory. serde_yaml 0.9's own guard ("repetition limit exceeded") only
//!   counts alias jumps (100 per event), which stops the exponential bomb but not quadratic
//!   growth, and says nothing about what is wrong;
//! - refuse duplicate keys, which serde_json would silently resolve to the last one;
//! - apply YAML merge keys (`<<: *defaults`) as kubectl's YAML 1.1 parser does;
//! - refuse values JSON cannot carry (`.nan`, `.inf`, integers beyond 64 bits, custom tags).
//!
//! Errors carry the file line: serde_yaml's lines are relative to the text it was given,
//! so they are shifted by the document's first line, in the message too.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Why a document could not be parsed; `line` is a file line when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DocError {
    pub line: Option<usize>,
    pub message: String,
}

/// Smallest expansion budget, whatever the document's size.
const MIN_BUDGET: usize = 1 << 20;

/// The budget for a document of `len` bytes with expansion factor `factor`.
pub(super) fn budget_for(len: usize, factor: usize) -> usize {
    len.saturating_mul(factor).max(MIN_BUDGET)
}

/// Parses the document `text`, which starts at file line `first_line`, building at most
/// `budget` bytes of scalars and nodes.
pub(super) fn parse_document(
    text: &str,
    first_line: usize,
    budget: usize,
) -> Result<Value, DocError> {
    let budget = Budget {
        left: Cell::new(budget),
        total: budget,
    };
    let de = serde_yaml::Deserializer::from_str(text);
    ValueSeed { budget: &budget }
        .deserialize(de)
        .map_err(|e| convert_error(&e, text, first_line))
}

/// Line breaks as the YAML reader counts them (`\r\n` is one).
const BREAKS: [char; 5] = ['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}'];

fn count_breaks(s: &str) -> usize {
    s.replace("\r\n", "\n").matches(BREAKS).count()
}

/// File line of byte `pos` of `text` (which starts at file line `first_line`).
fn line_at(text: &str, pos: usize, first_line: usize) -> usize {
    let mut end = pos.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    first_line + count_breaks(&text[..end])
}

/// The line `while scanning/parsing … at line N` names: where an unclosed construct began.
fn context_line(message: &str) -> Option<usize> {
    let context = &message[message.find(", while ")?..];
    let rest = &context[context.find(" at line ")? + " at line ".len()..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    rest[..digits].parse().ok()
}

struct Budget {
    left: Cell<usize>,
    total: usize,
}

impl Budget {
    fn charge<E: de::Error>(&self, n: usize) -> Result<(), E> {
        let left = self.left.get();
        if n > left {
            return Err(E::custom(format!(
                "document grows past {} bytes when its YAML aliases are expanded; \
                 refusing it (a \"billion laughs\" document?)",
                self.total
            )));
        }
        self.left.set(left - n);
        Ok(())
    }
}

#[derive(Clone, Copy)]
struct ValueSeed<'b> {
    budget: &'b Budget,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.budget.charge(1)?;
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.budget.charge(1)?;
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.budget.charge(1)?;
        Ok(Value::Number(v.into()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        match i64::try_from(v) {
            Ok(v) => self.visit_i64(v),
            Err(_) => Err(E::custom(format!("integer {v} does not fit in 64 bits"))),
        }
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => Err(E::custom(format!("integer {v} does not fit in 64 bits"))),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.budget.charge(1)?;
        // Like kubectl (Go's encoding/json): a whole float such as `1e3` or `2.0` is sent as
        // an integer, which integer fields accept and live objects echo back.
        if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
            return Ok(Value::Number((v as i64).into()));
        }
        match Number::from_f64(v) {
            Some(n) => Ok(Value::Number(n)),
            None => Err(E::custom(format!("{v} cannot be represented in JSON"))),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.budget.charge(1 + v.len())?;
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.budget.charge(1 + v.len())?;
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.budget.charge(1)?;
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.budget.charge(1)?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        self.budget.charge(1)?;
        let mut map = Map::new();
        loop {
            let seed = KeySeed {
                budget: self.budget,
                seen: &map,
            };
            let Some(key) = access.next_key_seed(seed)? else {
                break;
            };
            let value = access.next_value_seed(self)?;
            map.insert(key, value);
        }
        apply_merge(&mut map).map_err(de::Error::custom)?;
        Ok(Value::Object(map))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        let (tag, _variant): (String, A::Variant) = data.variant()?;
        Err(de::Error::custom(format!(
            "YAML tag `!{tag}` is not supported (Kubernetes manifests use plain values)"
        )))
    }
}

/// Deserializes a mapping key as text (`1:` gives "1") and refuses one seen before.
struct KeySeed<'b, 'm> {
    budget: &'b Budget,
    seen: &'m Map<String, Value>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_, '_> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_, '_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        if self.seen.contains_key(v) {
            return Err(E::custom(format!("duplicate key `{v}` in mapping")));
        }
        self.budget.charge(1 + v.len())?;
        Ok(v.to_owned())
    }
}

/// Applies YAML merge keys: `<<: *base` or `<<: [*a, *b]`; keys written in the mapping win,
/// then earlier merged mappings over later ones.
fn apply_merge(map: &mut Map<String, Value>) -> Result<(), String> {
    let Some(merge) = map.remove("<<") else {
        return Ok(());
    };
    let sources = match merge {
        Value::Object(m) => vec![m],
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::Object(m) => Ok(m),
                _ => Err("merge key `<<` takes a mapping or a list of mappings".to_string()),
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => return Err("merge key `<<` takes a mapping or a list of mappings".into()),
    };
    for source in sources {
        for (k, v) in source {
            map.entry(k).or_insert(v);
        }
    }
    Ok(())
}

/// serde_yaml's message with file lines, and the file line of the error when known.
///
/// An error at the end of the input (an unclosed bracket or quote) is reported by the YAML
/// reader one line past the document's last line: it is put where the unclosed construct
/// began (the message's `while scanning … at line N`), else on the last line, so `file:line`
/// always points into the file. A reader error with only a byte position ("control
/// characters are not allowed at position N") gets that position's line. A line indented
/// with a tab says so: the reader's "cannot start any token" does not.
fn convert_error(err: &serde_yaml::Error, text: &str, first_line: usize) -> DocError {
    let last = first_line + count_breaks(text.trim_end_matches(BREAKS));
    let offset = first_line.saturating_sub(1);
    let mut message = shift_lines(&err.to_string(), offset);
    let reported = err.location().map(|l| l.line() + offset);
    let mut line = reported.map(|l| l.min(last));
    if let (Some(loc), Some(reported)) = (err.location(), reported) {
        // The line is reported separately; keep only the column at the primary position.
        let primary = format!(" at line {reported} column {}", loc.column());
        if let Some(i) = message.find(&primary) {
            if reported > last {
                message.replace_range(i..i + primary.len(), " at the end of the document");
                line = context_line(&message).filter(|&l| l <= last).or(line);
            } else {
                message.replace_range(
                    i..i + primary.len(),
                    &format!(" at column {}", loc.column()),
                );
            }
        }
    }
    if let Some(stripped) = message.strip_suffix(" at position 0") {
        message = stripped.to_string();
    }
    if let Some((head, pos)) = message.rsplit_once(" at position ") {
        if let Ok(pos) = pos.parse::<usize>() {
            line = Some(line_at(text, pos, first_line));
            message = head.to_string();
        }
    }
    if let Some(l) = line {
        let source = text
            .split('\n')
            .nth(l.saturating_sub(first_line))
            .unwrap_or_default();
        let indent = &source[..source.len() - source.trim_start_matches([' ', '\t']).len()];
        if indent.contains('\t') {
            message.push_str(" (this line is indented with a tab: YAML indents with spaces only)");
        }
    }
    if message == "repetition limit exceeded" {
        message = "YAML aliases expand too much (serde_yaml's repetition limit exceeded); \
                   refusing it (a \"billion laughs\" document?)"
            .into();
    } else if message == "recursion limit exceeded" || message.starts_with("recursion limit") {
        message = message.replacen(
            "recursion limit exceeded",
            "nested too deeply (more than 128 levels)",
            1,
        );
    } else if message.contains("more than one document") {
        message = "more than one YAML document here: ferry splits documents only at lines \
                   that start with `---`"
            .into();
    }
    DocError { line, message }
}

/// Adds `offset` to every `line N` in a serde_yaml message.
fn shift_lines(message: &str, offset: usize) -> String {
    const WORD: &str = "line ";
    let mut out = String::with_capacity(message.len() + 8);
    let mut rest = message;
    while let Some(i) = rest.find(WORD) {
        out.push_str(&rest[..i + WORD.len()]);
        rest = &rest[i + WORD.len()..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..digits].parse::<usize>() {
            Ok(n) if digits > 0 => {
                out.push_str(&(n + offset).to_string());
                rest = &rest[digits..];
            }
            _ => {}
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
#[path = "yaml_tests.rs"]
mod tests;
