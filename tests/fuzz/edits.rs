//! Byte-level edits of a valid input (insert a token, delete, overwrite a byte, duplicate a
//! range, truncate, swap lines), shared by the manifest and webhook fuzz targets.
// Each includer uses a different part of this module.
#![allow(dead_code)]

use proptest::prelude::*;
use proptest::sample::select;

/// One edit of a text; `at` and `len` are reduced modulo the text's length.
#[derive(Debug, Clone)]
pub enum Edit {
    /// Insert a token.
    Insert { at: usize, token: &'static str },
    /// Remove `len` bytes.
    Delete { at: usize, len: usize },
    /// Overwrite one byte.
    Byte { at: usize, byte: u8 },
    /// Repeat a range right after itself.
    Duplicate { at: usize, len: usize },
    /// Cut the text short.
    Truncate { at: usize },
    /// Swap two lines.
    SwapLines { a: usize, b: usize },
}

pub fn edit_strategy(tokens: &'static [&'static str]) -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<usize>(), select(tokens)).prop_map(|(at, token)| Edit::Insert { at, token }),
        2 => (any::<usize>(), 1..40usize).prop_map(|(at, len)| Edit::Delete { at, len }),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Edit::Byte { at, byte }),
        1 => (any::<usize>(), 1..80usize).prop_map(|(at, len)| Edit::Duplicate { at, len }),
        1 => any::<usize>().prop_map(|at| Edit::Truncate { at }),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines { a, b }),
    ]
}

/// Applies the edits to `base` (byte-level: the result may not be UTF-8).
pub fn apply_edits(base: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut b = base.to_vec();
    for e in edits {
        let n = b.len();
        let pos = |at: usize| if n == 0 { 0 } else { at % (n + 1) };
        match e {
            Edit::Insert { at, token } => {
                let at = pos(*at);
                b.splice(at..at, token.bytes());
            }
            Edit::Delete { at, len } => {
                let at = pos(*at);
                let end = (at + len).min(n);
                b.drain(at..end);
            }
            Edit::Byte { at, byte } if n > 0 => b[at % n] = *byte,
            Edit::Byte { .. } => {}
            Edit::Duplicate { at, len } => {
                let at = pos(*at);
                let end = (at + len).min(n);
                let piece = b[at..end].to_vec();
                b.splice(end..end, piece);
            }
            Edit::Truncate { at } => b.truncate(pos(*at)),
            Edit::SwapLines { a, b: other } => {
                let mut lines: Vec<Vec<u8>> =
                    b.split(|&c| c == b'\n').map(<[u8]>::to_vec).collect();
                let l = lines.len();
                lines.swap(a % l, other % l);
                b = lines.join(&b'\n');
            }
        }
    }
    b
}
