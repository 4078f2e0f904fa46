//! Kubernetes resource quantities (`500m`, `0.5`, `1G`, `1Gi`, `1e3`…) parsed to an exact value.
//!
//! A quantity is stored as `±m · 2^p2 · 5^p5` with `m` divisible by neither 2 nor 5, which is a
//! canonical form: two quantities are equal exactly when their fields are equal. No floating
//! point is involved, so `0.1` equals `100m` and `1000M` equals `1G`, while `1Gi` (2^30) does
//! not equal `1G` (10^9).

use serde_json::Value;

/// An exactly comparable resource quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quantity {
    negative: bool,
    mantissa: u128,
    pow2: i64,
    pow5: i64,
}

impl Quantity {
    /// The quantity zero.
    pub const ZERO: Quantity = Quantity {
        negative: false,
        mantissa: 0,
        pow2: 0,
        pow5: 0,
    };

    /// An approximation as `f64`, for display and rough comparisons only (never for equality).
    pub fn to_f64(&self) -> f64 {
        let v = self.mantissa as f64
            * 2f64.powi(clamp_i32(self.pow2))
            * 5f64.powi(clamp_i32(self.pow5));
        if self.negative {
            -v
        } else {
            v
        }
    }

    /// Reads a quantity from a JSON string or number; `None` for anything else.
    pub fn from_value(v: &Value) -> Option<Quantity> {
        match v {
            Value::String(s) => parse(s),
            Value::Number(n) => parse(&n.to_string()),
            _ => None,
        }
    }
}

fn clamp_i32(v: i64) -> i32 {
    v.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

/// Parses a Kubernetes quantity string: an optionally signed decimal number followed by a
/// decimal-SI suffix (`n u m "" k M G T P E`), a binary-SI suffix (`Ki Mi Gi Ti Pi Ei`) or a
/// decimal exponent (`e3`, `E-2`). Returns `None` when `s` is not a quantity.
pub fn parse(s: &str) -> Option<Quantity> {
    let s = s.trim();
    let (negative, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (int_digits, rest) = rest.split_at(int_len);
    let (frac_digits, suffix) = match rest.strip_prefix('.') {
        Some(after_dot) => {
            let n = after_dot.bytes().take_while(u8::is_ascii_digit).count();
            after_dot.split_at(n)
        }
        None => ("", rest),
    };
    if int_digits.is_empty() && frac_digits.is_empty() {
        return None;
    }
    let (exp10, exp2) = suffix_exponents(suffix)?;

    // All digits as one integer, scaled by 10^-(fraction length).
    let digits = format!("{int_digits}{frac_digits}");
    let trimmed = digits.trim_end_matches('0');
    let trailing_zeros = i64::try_from(digits.len() - trimmed.len()).ok()?;
    let significant = trimmed.trim_start_matches('0');
    if significant.is_empty() {
        return Some(Quantity::ZERO);
    }
    if significant.len() > 38 {
        return None;
    }
    let mut mantissa: u128 = significant.parse().ok()?;
    let frac_len = i64::try_from(frac_digits.len()).ok()?;
    let pow10 = exp10.checked_add(trailing_zeros)?.checked_sub(frac_len)?;
    let mut pow2 = pow10.checked_add(exp2)?;
    let mut pow5 = pow10;
    while mantissa % 2 == 0 {
        mantissa /= 2;
        pow2 = pow2.checked_add(1)?;
    }
    while mantissa % 5 == 0 {
        mantissa /= 5;
        pow5 = pow5.checked_add(1)?;
    }
    Some(Quantity {
        negative,
        mantissa,
        pow2,
        pow5,
    })
}

/// The (power of ten, power of two) a suffix stands for.
fn suffix_exponents(suffix: &str) -> Option<(i64, i64)> {
    let decimal = |e: i64| Some((e, 0));
    let binary = |e: i64| Some((0, e));
    match suffix {
        "" => decimal(0),
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        "Ki" => binary(10),
        "Mi" => binary(20),
        "Gi" => binary(30),
        "Ti" => binary(40),
        "Pi" => binary(50),
        "Ei" => binary(60),
        _ => {
            let exp = suffix
                .strip_prefix('e')
                .or_else(|| suffix.strip_prefix('E'))?;
            let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            decimal(exp.parse().ok()?)
        }
    }
}

/// True when both values parse as quantities and are equal.
pub(crate) fn values_equal(a: &Value, b: &Value) -> Option<bool> {
    Some(Quantity::from_value(a)? == Quantity::from_value(b)?)
}

#[cfg(test)]
#[path = "quantity_tests.rs"]
mod tests;
