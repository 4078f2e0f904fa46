//! Reading a sync window's cron expression the way Vixie cron does (see [`super`]):
//! five fields checked one by one, so an error names the field and why, then handed to the
//! `cron` crate as explicit lists, with day-of-month/day-of-week "either" semantics and the
//! `@` macros expanded.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use cron::Schedule;

/// One of the five fields: its name, its range, and its names (`names[i]` is value
/// `names_from + i`).
struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    /// Upper end of `*` (the day of week's `*` is 0-6: 7 is Sunday again).
    star_max: u32,
    names: &'static [&'static str],
    names_from: u32,
    question_mark: bool,
}

const MINUTE: Field = Field {
    name: "minute",
    min: 0,
    max: 59,
    star_max: 59,
    names: &[],
    names_from: 0,
    question_mark: false,
};
const HOUR: Field = Field {
    name: "hour",
    min: 0,
    max: 23,
    star_max: 23,
    names: &[],
    names_from: 0,
    question_mark: false,
};
const DAY_OF_MONTH: Field = Field {
    name: "day-of-month",
    min: 1,
    max: 31,
    star_max: 31,
    names: &[],
    names_from: 0,
    question_mark: true,
};
const MONTH: Field = Field {
    name: "month",
    min: 1,
    max: 12,
    star_max: 12,
    names: &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ],
    names_from: 1,
    question_mark: false,
};
const DAY_OF_WEEK: Field = Field {
    name: "day-of-week",
    min: 0,
    max: 7,
    star_max: 6,
    names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
    names_from: 0,
    question_mark: true,
};

/// A parsed field: the values it matches, and whether it was written starting with `*` (or
/// `?`), which is what cron's day-of-month/day-of-week OR rule looks at.
struct FieldValues {
    values: BTreeSet<u32>,
    star: bool,
}

/// Parses a 5-field expression (or an `@` macro) into the `cron` crate's schedules.
pub(super) fn compile_schedule(expression: &str) -> Result<Vec<Schedule>, String> {
    let expanded = match expression.strip_prefix('@') {
        None => expression,
        Some(name) => match name.to_ascii_lowercase().as_str() {
            "yearly" | "annually" => "0 0 1 1 *",
            "monthly" => "0 0 1 * *",
            "weekly" => "0 0 * * 0",
            "daily" | "midnight" => "0 0 * * *",
            "hourly" => "0 * * * *",
            "reboot" => return Err("@reboot is not a time; a window needs a schedule".into()),
            _ => {
                return Err(format!(
                    "unknown macro '@{name}' (known: @yearly, @annually, @monthly, @weekly, \
                     @daily, @midnight, @hourly)"
                ))
            }
        },
    };
    let fields: Vec<&str> = expanded.split_whitespace().collect();
    if fields.len() != 5 {
        let extra = if fields.len() > 5 {
            " (seconds and years are not supported)"
        } else {
            ""
        };
        return Err(format!(
            "expected 5 fields (minute hour day-of-month month day-of-week), found {}{extra}",
            fields.len()
        ));
    }
    let minute = parse_field(fields[0], &MINUTE)?;
    let hour = parse_field(fields[1], &HOUR)?;
    let dom = parse_field(fields[2], &DAY_OF_MONTH)?;
    let month = parse_field(fields[3], &MONTH)?;
    let mut dow = parse_field(fields[4], &DAY_OF_WEEK)?;
    if dow.values.remove(&7) {
        dow.values.insert(0);
    }

    // The cron crate: seconds first, day of week 1-7 from Sunday, and day fields ANDed.
    let list = |values: &BTreeSet<u32>, shift: u32| -> String {
        values
            .iter()
            .map(|v| (v + shift).to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let head = format!("0 {} {}", list(&minute.values, 0), list(&hour.values, 0));
    let (dom_list, month_list, dow_list) = (
        list(&dom.values, 0),
        list(&month.values, 0),
        list(&dow.values, 1),
    );
    let sources = if dom.star || dow.star {
        vec![format!("{head} {dom_list} {month_list} {dow_list}")]
    } else {
        vec![
            format!("{head} {dom_list} {month_list} *"),
            format!("{head} * {month_list} {dow_list}"),
        ]
    };
    let schedules = sources
        .iter()
        .map(|s| s.parse::<Schedule>().map_err(|e| format!("{e}")))
        .collect::<Result<Vec<_>, _>>()?;

    let epoch = DateTime::<Utc>::UNIX_EPOCH;
    if schedules.iter().all(|s| s.after(&epoch).next().is_none()) {
        return Err("never matches a date (that day does not occur in those months)".into());
    }
    Ok(schedules)
}

fn parse_field(text: &str, field: &Field) -> Result<FieldValues, String> {
    let fail = |why: String| format!("{} field '{text}': {why}", field.name);
    let mut values = BTreeSet::new();
    for item in text.split(',') {
        if item.is_empty() {
            return Err(fail("empty list item".into()));
        }
        let (base, step) = match item.split_once('/') {
            None => (item, None),
            Some((base, step)) => {
                let step: u32 = step
                    .parse()
                    .ok()
                    .filter(|&s| s > 0)
                    .ok_or_else(|| fail(format!("step '{step}' is not a positive number")))?;
                (base, Some(step))
            }
        };
        let (from, to) = if base == "*" || (base == "?" && field.question_mark) {
            (field.min, field.star_max)
        } else if let Some((a, b)) = base.split_once('-') {
            let (a, b) = (
                field_value(a, field).map_err(fail)?,
                field_value(b, field).map_err(fail)?,
            );
            if a > b {
                return Err(fail(format!("range {a}-{b} runs backwards")));
            }
            (a, b)
        } else {
            let a = field_value(base, field).map_err(fail)?;
            // `a/n` is `a` up to the end of the field, stepping by n.
            (
                a,
                if step.is_some() {
                    field.star_max.max(a)
                } else {
                    a
                },
            )
        };
        let step = step.unwrap_or(1) as usize;
        values.extend((from..=to).step_by(step));
    }
    let star = text.starts_with('*') || (field.question_mark && text.starts_with('?'));
    Ok(FieldValues { values, star })
}

fn field_value(text: &str, field: &Field) -> Result<u32, String> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<u32>() {
            Ok(v) if (field.min..=field.max).contains(&v) => Ok(v),
            _ => Err(format!(
                "{text} is out of range {}-{}",
                field.min, field.max
            )),
        };
    }
    let lower = text.to_ascii_lowercase();
    if let Some(i) = field.names.iter().position(|n| *n == lower) {
        return Ok(field.names_from + i as u32);
    }
    let expected = if field.names.is_empty() {
        format!("a number {}-{}", field.min, field.max)
    } else {
        format!(
            "a number {}-{} or one of {}",
            field.min,
            field.max,
            field.names.join(",")
        )
    };
    Err(format!("'{text}' is not {expected}"))
}
