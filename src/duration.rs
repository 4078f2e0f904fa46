//! Durations as users write them: in ferry.yaml (`interval`, a window's `duration`), in the
//! `ferry.dev/timeout` annotation and in flags (`--grace 30s`). One grammar everywhere, Go's:
//! `<number><unit>` parts, summed, with units `d`, `h`, `m`, `s` and `ms` and fractions allowed
//! (`90s`, `30m`, `1h30m`, `1.5h`, `500ms`, `1d`). Precision is one millisecond.

use std::time::Duration;

/// Longest duration accepted (about a century), so no arithmetic on it can overflow.
const MAX_MILLIS: f64 = 100.0 * 366.0 * 86_400_000.0;

const HINT: &str =
    "expected numbers with units d, h, m, s or ms, such as 90s, 30m, 1h30m, 1.5h or 1d";

/// Why a duration does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Nothing was written.
    #[error("empty; {HINT}")]
    Empty,
    /// A leading minus sign.
    #[error("durations cannot be negative")]
    Negative,
    /// A number without a unit (`"30"`).
    #[error("'{0}' has no unit; {HINT}")]
    NoUnit(String),
    /// A unit ferry does not know (`"2w"`).
    #[error("unknown unit '{0}'; {HINT}")]
    UnknownUnit(String),
    /// A character that belongs to no number or unit (a blank, a comma…).
    #[error("unexpected '{0}'; {HINT}")]
    Unexpected(char),
    /// Over the maximum of about a century.
    #[error("'{0}' is too large")]
    TooLarge(String),
}

/// Parses a duration (surrounding blanks ignored). See the module docs for the grammar.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    let mut millis = 0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest.len()
            - rest
                .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.')
                .len();
        let first = rest.chars().next().unwrap_or(' ');
        if number_len == 0 {
            return Err(match first {
                '-' => DurationError::Negative,
                other => DurationError::Unexpected(other),
            });
        }
        let number_text = &rest[..number_len];
        let number: f64 = number_text
            .parse()
            .map_err(|_| DurationError::Unexpected('.'))?;
        rest = &rest[number_len..];
        let unit_len = rest.len()
            - rest
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .len();
        let per_unit = match &rest[..unit_len] {
            "d" => 86_400_000.0,
            "h" => 3_600_000.0,
            "m" => 60_000.0,
            "s" => 1_000.0,
            "ms" => 1.0,
            "" if rest.is_empty() => return Err(DurationError::NoUnit(number_text.into())),
            "" => {
                return Err(DurationError::Unexpected(
                    rest.chars().next().unwrap_or(' '),
                ))
            }
            other => return Err(DurationError::UnknownUnit(other.into())),
        };
        rest = &rest[unit_len..];
        millis += number * per_unit;
        if millis.is_nan() || millis > MAX_MILLIS {
            return Err(DurationError::TooLarge(text.into()));
        }
    }
    Ok(Duration::from_millis(millis.round() as u64))
}

#[cfg(test)]
#[path = "duration_tests.rs"]
mod tests;
