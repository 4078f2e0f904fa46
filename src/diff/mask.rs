//! Hiding Secret values from diffs, logs and history while keeping changes visible.
//!
//! Each value becomes `<masked: N bytes (hmac:1a2b3c4d)>`: the length plus 32 bits of an
//! HMAC-SHA256 under a random per-process key. Two different values therefore render
//! differently (a change still shows as a change) and equal contents render equally within one
//! process, whether they come from `data` (base64) or `stringData` (plain); but because the key
//! never leaves the process, a printed placeholder cannot be used to test password guesses
//! offline, as a bare hash prefix could.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// A copy of a Secret with every value under `data` and `stringData` replaced by a
/// `<masked: N bytes (hmac:…)>` placeholder, and the
/// `kubectl.kubernetes.io/last-applied-configuration` annotation (which embeds the data)
/// replaced by `<masked>`. Objects that are not core/v1 Secrets are returned unchanged.
pub fn mask_secret(obj: &Value) -> Value {
    let mut out = obj.clone();
    if !is_secret(obj) {
        return out;
    }
    let Some(root) = out.as_object_mut() else {
        return out;
    };
    for (field, base64) in [("data", true), ("stringData", false)] {
        if let Some(map) = root.get_mut(field).and_then(Value::as_object_mut) {
            for value in map.values_mut() {
                *value = Value::String(placeholder(value, base64));
            }
        }
    }
    if let Some(ann) = root
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
        .and_then(Value::as_object_mut)
    {
        if let Some(v) = ann.get_mut(LAST_APPLIED) {
            *v = Value::String("<masked>".into());
        }
    }
    out
}

/// True for `kind: Secret` in the core group (`apiVersion: v1`, or no apiVersion at all).
pub fn is_secret(obj: &Value) -> bool {
    let core = match obj.get("apiVersion") {
        None | Some(Value::Null) => true,
        Some(v) => v.as_str() == Some("v1"),
    };
    core && obj.get("kind").and_then(Value::as_str) == Some("Secret")
}

fn placeholder(value: &Value, base64: bool) -> String {
    let bytes: Vec<u8> = match value {
        Value::String(s) if base64 => decode_base64(s).unwrap_or_else(|| s.as_bytes().to_vec()),
        Value::String(s) => s.as_bytes().to_vec(),
        other => other.to_string().into_bytes(),
    };
    let mut mac = <Hmac<Sha256> as KeyInit>::new(process_key().into());
    mac.update(&bytes);
    let mac = mac.finalize().into_bytes();
    format!(
        "<masked: {} bytes (hmac:{})>",
        bytes.len(),
        hex::encode(&mac[..4])
    )
}

/// A random key of one SHA-256 block (64 bytes), fixed for the life of the process.
fn process_key() -> &'static [u8; 64] {
    static KEY: OnceLock<[u8; 64]> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut key = [0u8; 64];
        for (half, chunk) in key.chunks_mut(32).enumerate() {
            let mut seed = Sha256::new();
            for i in 0..4u64 {
                let mut h = RandomState::new().build_hasher();
                h.write_u64(i);
                seed.update(h.finish().to_le_bytes());
            }
            seed.update((half as u64).to_le_bytes());
            seed.update(std::process::id().to_le_bytes());
            if let Ok(t) = SystemTime::now().duration_since(UNIX_EPOCH) {
                seed.update(t.as_nanos().to_le_bytes());
            }
            chunk.copy_from_slice(&seed.finalize());
        }
        key
    })
}

/// Decodes standard base64 (with or without padding); `None` when malformed.
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    (bits < 6).then_some(out)
}

#[cfg(test)]
#[path = "mask_tests.rs"]
mod tests;
