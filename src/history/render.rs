//! Text for `ferry history` (a table of syncs) and `ferry history <seq|sha>` (one sync).

use std::fmt::Write as _;

use super::record::{ObjectRecord, SyncRecord};
use crate::source::short_sha;

/// Longest subject shown in the table before it is cut with `…`.
const SUBJECT_WIDTH: usize = 48;

/// A table of syncs in the order given (newest first, as [`History::list`](super::History::list)
/// returns them): seq, commit, subject, trigger, outcome, duration, revisions. An APP column is
/// added when the records span several apps.
pub fn render_table(records: &[SyncRecord]) -> String {
    if records.is_empty() {
        return "no syncs recorded\n".to_string();
    }
    let several_apps = records.iter().any(|r| r.app != records[0].app);
    let mut header = vec!["SEQ", "COMMIT", "SUBJECT", "TRIGGER", "OUTCOME", "DURATION"];
    header.push("REVISIONS");
    if several_apps {
        header.insert(0, "APP");
    }
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            let mut row = vec![
                r.seq.to_string(),
                r.commit.short_sha.clone(),
                truncate(&r.commit.subject, SUBJECT_WIDTH),
                r.trigger.to_string(),
                r.outcome.label().to_string(),
                r.duration().map_or_else(|| "-".into(), format_duration),
                r.revisions().join(" "),
            ];
            if several_apps {
                row.insert(0, r.app.clone());
            }
            row
        })
        .collect();
    let header: Vec<String> = header.into_iter().map(String::from).collect();
    layout(&header, &rows)
}

/// One sync in detail: commit, revert link, trigger, times, outcome with its reason, and
/// every object with its action, result, revision, gate and message.
pub fn render_detail(record: &SyncRecord) -> String {
    let mut out = String::new();
    let c = &record.commit;
    let _ = writeln!(out, "Sync #{} of app {}", record.seq, record.app);
    let mut field = |name: &str, value: String| {
        let _ = writeln!(out, "  {:<11}{value}", format!("{name}:"));
    };
    field("Commit", c.sha.clone());
    field("Author", format!("{} <{}>", c.author, c.email));
    field("Date", c.time.format("%Y-%m-%d %H:%M:%S UTC").to_string());
    field("Subject", c.subject.clone());
    if let Some(reverted) = &c.reverts {
        let short = short_sha(reverted);
        let link = match record.reverts_seq {
            Some(seq) => format!("{short} (sync #{seq})"),
            None => format!("{short} (not in history)"),
        };
        field("Reverts", link);
    }
    field("Trigger", record.trigger.to_string());
    field(
        "Started",
        record
            .started_at
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
    );
    let finished = match (record.finished_at, record.duration()) {
        (Some(end), Some(d)) => format!(
            "{} ({})",
            end.format("%Y-%m-%d %H:%M:%S UTC"),
            format_duration(d)
        ),
        _ => "-".to_string(),
    };
    field("Finished", finished);
    field("Outcome", record.outcome.describe());
    let revisions = record.revisions();
    if !revisions.is_empty() {
        field("Revisions", revisions.join(" "));
    }
    if record.objects.is_empty() {
        out.push_str("\nNo objects recorded.\n");
        return out;
    }
    out.push_str("\nObjects:\n");
    let header: Vec<String> = ["ACTION", "OBJECT", "RESULT", "REVISION", "GATE"]
        .into_iter()
        .map(String::from)
        .collect();
    let rows: Vec<Vec<String>> = record.objects.iter().map(object_row).collect();
    let table = layout(&header, &rows);
    let mut lines = table.lines();
    if let Some(head) = lines.next() {
        let _ = writeln!(out, "  {head}");
    }
    for (line, object) in lines.zip(&record.objects) {
        let _ = writeln!(out, "  {line}");
        for step in &object.steps {
            let _ = writeln!(out, "      {step}");
        }
        if let Some(message) = &object.message {
            for text in message.lines() {
                let _ = writeln!(out, "      {text}");
            }
        }
    }
    out
}

fn object_row(o: &ObjectRecord) -> Vec<String> {
    let object = crate::manifest::object_name(&o.kind, o.namespace.as_deref(), &o.name);
    vec![
        o.action.to_string(),
        object,
        o.result.to_string(),
        o.revision.map_or_else(|| "-".into(), |r| r.to_string()),
        o.gate
            .as_ref()
            .map_or_else(|| "-".into(), ToString::to_string),
    ]
}

/// Left-aligned columns separated by two spaces; no trailing spaces.
fn layout(header: &[String], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    for row in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let width = widths.get(i).copied().unwrap_or(0);
            let _ = write!(line, "{cell:<width$}");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `0.4s`, `12.3s`, `3m07s`, `1h02m`.
fn format_duration(d: chrono::Duration) -> String {
    let millis = d.num_milliseconds().max(0);
    let secs = millis / 1000;
    if secs < 60 {
        format!("{:.1}s", millis as f64 / 1000.0)
    } else if secs < 3600 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60)
    }
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
