//! Sync windows: cron schedules with a duration, per app, that say when ferry may apply.
//!
//! A window is a standard 5-field cron expression (`minute hour day-of-month month
//! day-of-week`, read in the window's IANA time zone, UTC by default) plus a duration: each time
//! the schedule fires, the window is open for that long, start inclusive and end exclusive. An
//! **allow** window permits applying while it is open; a **deny** window forbids it. Outside
//! every allow window (when an app has any) or inside any deny window, ferry plans and reports
//! but does not apply; [`SyncWindows::check`] says which and why.
//!
//! The expression is read the way Vixie cron and its descendants read it, so a schedule means
//! what it means in a crontab:
//!
//! - day of week `0`–`7` with both `0` and `7` Sunday, or `sun`…`sat`; months `1`–`12` or
//!   `jan`…`dec`; lists, ranges and steps (`1-5`, `*/15`, `9-17/2`, `mon,wed,fri`); `?` as `*`
//!   in the day fields; `@yearly`, `@monthly`, `@weekly`, `@daily`, `@hourly`;
//! - when both day fields are restricted (neither starts with `*`), a day matches if **either**
//!   matches (`0 0 13 * 5`: the 13th, and every Friday); otherwise both must;
//! - DST: a start time that the clock skips (02:30 on the spring-forward night) opens the window
//!   when the clock jumps, as cron runs such jobs; a start time that happens twice (the autumn
//!   fall-back) opens it at both. Durations are real elapsed time.
//!
//! The fields are parsed and checked in `cron_expr` (so errors say which field is wrong and
//! why) and handed to the `cron` crate as explicit lists; the `cron` crate walks the schedule.

mod cron_expr;

use std::fmt;

use chrono::{DateTime, NaiveDateTime, Offset, SecondsFormat, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use cron::Schedule;
use serde::{Deserialize, Serialize};

use cron_expr::compile_schedule;

/// One sync window as written in `ferry.yaml`:
///
/// ```yaml
/// windows:
///   - kind: deny
///     schedule: "0 22 * * *"
///     duration: 8h
///     timeZone: Europe/Berlin
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncWindowConfig {
    /// `allow` or `deny`.
    pub kind: WindowKind,
    /// Standard 5-field cron expression, e.g. `"30 22 * * 1-5"`, or `@daily` and friends.
    pub schedule: String,
    /// How long the window stays open after each start: `"90s"`, `"30m"`, `"2h"`, `"1h30m"`,
    /// `"1d"`.
    pub duration: String,
    /// IANA time zone the schedule is read in (`"Europe/Berlin"`); UTC when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// Whether a window permits or forbids applying while it is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum WindowKind {
    /// Applying is permitted while the window is open (and, when an app has any allow
    /// window, only then).
    Allow,
    /// Applying is forbidden while the window is open, whatever the allow windows say.
    Deny,
}

impl fmt::Display for WindowKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WindowKind::Allow => "allow",
            WindowKind::Deny => "deny",
        })
    }
}

/// Why a window's configuration was rejected; each message quotes the offending text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    /// The schedule is not a cron expression ferry reads.
    #[error("bad cron expression '{expression}': {reason}")]
    Cron {
        /// The expression as written.
        expression: String,
        /// Which field is wrong and why.
        reason: String,
    },
    /// The window's duration does not parse or is out of range.
    #[error("bad duration '{duration}': {reason}")]
    Duration {
        /// The duration as written.
        duration: String,
        /// Why it was refused.
        reason: String,
    },
    /// The time zone is not an IANA name.
    #[error("unknown time zone '{zone}': expected an IANA name such as 'Europe/Berlin' or 'UTC'")]
    TimeZone {
        /// The zone as written.
        zone: String,
    },
}

/// The longest window accepted. Longer ones are almost certainly a typo, and the bound keeps
/// all date arithmetic far from chrono's limits.
const MAX_DURATION: TimeDelta = TimeDelta::days(366);

/// A compiled sync window: schedule parsed, duration and time zone resolved.
#[derive(Debug, Clone)]
pub struct SyncWindow {
    kind: WindowKind,
    expression: String,
    duration_text: String,
    duration: TimeDelta,
    tz: Tz,
    /// One schedule, or two whose union is the window (both day fields restricted: cron's
    /// day-of-month OR day-of-week). The `cron` crate walks them in naive local time (local
    /// wall-clock readings dressed as UTC); `instants` maps readings to real instants.
    schedules: Vec<Schedule>,
}

impl SyncWindow {
    /// Checks and compiles one window.
    pub fn compile(cfg: &SyncWindowConfig) -> Result<SyncWindow, WindowError> {
        let expression = cfg.schedule.trim().to_string();
        let schedules = compile_schedule(&expression).map_err(|reason| WindowError::Cron {
            expression: expression.clone(),
            reason,
        })?;
        let duration_text = cfg.duration.trim().to_string();
        let duration = parse_duration(&duration_text).map_err(|reason| WindowError::Duration {
            duration: cfg.duration.clone(),
            reason,
        })?;
        let tz = match &cfg.time_zone {
            None => Tz::UTC,
            Some(zone) => zone
                .trim()
                .parse::<Tz>()
                .map_err(|_| WindowError::TimeZone { zone: zone.clone() })?,
        };
        Ok(SyncWindow {
            kind: cfg.kind,
            expression,
            duration_text,
            duration,
            tz,
            schedules,
        })
    }

    /// Whether this window allows or denies applying.
    pub fn kind(&self) -> WindowKind {
        self.kind
    }

    /// The cron expression as configured (trimmed).
    pub fn schedule(&self) -> &str {
        &self.expression
    }

    /// How long the window stays open after each start.
    pub fn duration(&self) -> TimeDelta {
        self.duration
    }

    /// The time zone the schedule is read in (UTC when none was configured).
    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// True when `now` lies in `[start, start + duration)` for some start of the schedule.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.schedules.iter().any(|s| self.covers(s, now))
    }

    /// The first start of the window strictly after `now`, or `None` if the schedule never
    /// fires again (the `cron` crate stops at year 2100).
    pub fn next_start(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.schedules
            .iter()
            .filter_map(|s| self.next_start_of(s, now))
            .min()
    }

    /// Walks the schedule backwards from the latest wall-clock reading seen up to `now`, and
    /// stops at the first start that ended before `now` (earlier ones ended earlier still).
    fn covers(&self, schedule: &Schedule, now: DateTime<Utc>) -> bool {
        let upper = max_reading_so_far(self.tz, now);
        // `rev()` starts strictly before its seed (whole seconds): seed one second later so a
        // start at `upper` itself is included.
        let seed = (upper + TimeDelta::seconds(1)).and_utc();
        for reading in schedule.after(&seed).rev() {
            let (first, second) = instants(self.tz, reading.naive_utc());
            for start in std::iter::once(first).chain(second) {
                if start <= now && now < start + self.duration {
                    return true;
                }
            }
            if second.unwrap_or(first) + self.duration <= now {
                return false;
            }
        }
        false
    }

    /// Walks the schedule forwards from the lowest wall-clock reading still to come. First
    /// instants grow with readings, so the walk can stop at the first reading whose first
    /// instant is in the future; a repeated reading met before it may start again sooner
    /// (its second instant), hence the minimum.
    fn next_start_of(&self, schedule: &Schedule, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // `after` starts strictly after its seed; a reading equal to the seed is at or
        // before `now`.
        let seed = min_reading_to_come(self.tz, now).and_utc();
        let mut best: Option<DateTime<Utc>> = None;
        for reading in schedule.after(&seed) {
            let (first, second) = instants(self.tz, reading.naive_utc());
            for start in std::iter::once(first).chain(second) {
                if start > now && best.is_none_or(|b| start < b) {
                    best = Some(start);
                }
            }
            if first > now {
                break;
            }
        }
        best
    }
}

impl fmt::Display for SyncWindow {
    /// `deny window '0 22 * * *' for 8h (Europe/Berlin)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} window '{}' for {} ({})",
            self.kind,
            self.expression,
            self.duration_text,
            self.tz.name()
        )
    }
}

/// An app's sync windows.
#[derive(Debug, Clone, Default)]
pub struct SyncWindows(Vec<SyncWindow>);

impl SyncWindows {
    /// Compiles every window; the first bad one is the error.
    pub fn compile(cfgs: &[SyncWindowConfig]) -> Result<SyncWindows, WindowError> {
        cfgs.iter()
            .map(SyncWindow::compile)
            .collect::<Result<Vec<_>, _>>()
            .map(SyncWindows)
    }

    /// True when the app has no windows (applying is always allowed).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The compiled windows, in configuration order.
    pub fn windows(&self) -> &[SyncWindow] {
        &self.0
    }

    /// Ok when applying is allowed at `now`: no deny window is active and (when any allow
    /// window exists) an allow window is active. Err(reason) names the window ("inside deny
    /// window '0 22 * * *' for 8h (Europe/Berlin)" / "outside every allow window; next opens
    /// at 2026-11-24T06:00:00Z").
    pub fn check(&self, now: DateTime<Utc>) -> Result<(), String> {
        if let Some(deny) = self
            .0
            .iter()
            .find(|w| w.kind == WindowKind::Deny && w.is_active(now))
        {
            return Err(format!("inside {deny}"));
        }
        let mut allows = self
            .0
            .iter()
            .filter(|w| w.kind == WindowKind::Allow)
            .peekable();
        if allows.peek().is_none() {
            return Ok(());
        }
        let allows: Vec<&SyncWindow> = allows.collect();
        if allows.iter().any(|w| w.is_active(now)) {
            return Ok(());
        }
        match allows.iter().filter_map(|w| w.next_start(now)).min() {
            Some(next) => Err(format!(
                "outside every allow window; next opens at {}",
                next.to_rfc3339_opts(SecondsFormat::Secs, true)
            )),
            None => Err("outside every allow window; none opens again".to_string()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Time zone arithmetic

/// Drops sub-second precision (cron schedules are whole seconds).
fn truncate(t: NaiveDateTime) -> NaiveDateTime {
    t.with_nanosecond(0).unwrap_or(t)
}

/// The UTC offset of `tz` at `t`, in seconds.
fn offset_seconds(tz: Tz, t: DateTime<Utc>) -> i64 {
    i64::from(
        tz.offset_from_utc_datetime(&t.naive_utc())
            .fix()
            .local_minus_utc(),
    )
}

/// An upper bound, in whole seconds, on every wall-clock reading in `tz` at or before `now`.
/// That is the current reading unless the clock was turned back in the last day, in which
/// case the reading just before the change may be later.
fn max_reading_so_far(tz: Tz, now: DateTime<Utc>) -> NaiveDateTime {
    let offset = offset_seconds(tz, now).max(offset_seconds(tz, now - TimeDelta::days(1)));
    truncate(now.naive_utc() + TimeDelta::seconds(offset))
}

/// A lower bound, in whole seconds, on every wall-clock reading in `tz` after `now`. That is
/// the current reading unless the clock will be turned back within a day, in which case
/// readings up to an offset change earlier come again.
fn min_reading_to_come(tz: Tz, now: DateTime<Utc>) -> NaiveDateTime {
    let offset = offset_seconds(tz, now).min(offset_seconds(tz, now + TimeDelta::days(1)));
    truncate(now.naive_utc() + TimeDelta::seconds(offset))
}

/// The instants at which the clock in `tz` reads `reading`: one, two when the reading repeats
/// (clock turned back), or, when the clock skips it, the instant it jumps past it.
fn instants(tz: Tz, reading: NaiveDateTime) -> (DateTime<Utc>, Option<DateTime<Utc>>) {
    match tz.from_local_datetime(&reading) {
        chrono::LocalResult::Single(t) => (t.with_timezone(&Utc), None),
        chrono::LocalResult::Ambiguous(a, b) => {
            (a.with_timezone(&Utc), Some(b.with_timezone(&Utc)))
        }
        chrono::LocalResult::None => (first_instant_reading_at_least(tz, reading), None),
    }
}

/// The first instant whose reading in `tz` is `reading` or later, for a reading inside a gap.
/// UTC offsets are under a day, so the answer lies within a day of `reading` taken as UTC;
/// within two days of a gap the clock only moves forward, so bisection works.
fn first_instant_reading_at_least(tz: Tz, reading: NaiveDateTime) -> DateTime<Utc> {
    let reads_at_least = |t: i64| -> bool {
        DateTime::from_timestamp(t, 0)
            .is_some_and(|t| tz.from_utc_datetime(&t.naive_utc()).naive_local() >= reading)
    };
    let base = reading.and_utc().timestamp();
    let (mut lo, mut hi) = (base - 86_400, base + 86_400); // reads_at_least(lo) false, (hi) true
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if reads_at_least(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    DateTime::from_timestamp(hi, 0).unwrap_or_else(|| reading.and_utc())
}

// ---------------------------------------------------------------------------------------------
// Durations

/// Parses a window's duration with ferry's one duration grammar ([`crate::duration`]); a window
/// must stay open for more than zero time and at most [`MAX_DURATION`]. The error is the
/// reason, without the input.
fn parse_duration(text: &str) -> Result<TimeDelta, String> {
    let parsed = crate::duration::parse_duration(text).map_err(|e| e.to_string())?;
    let delta = TimeDelta::from_std(parsed)
        .ok()
        .filter(|d| *d <= MAX_DURATION)
        .ok_or_else(|| "longer than the 366-day maximum".to_string())?;
    if delta.is_zero() {
        return Err("a window must stay open for more than zero time".to_string());
    }
    Ok(delta)
}

#[cfg(test)]
mod schedule_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tz_tests;
