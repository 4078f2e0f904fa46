//! The history pages: every sync of an app (`/apps/<app>/history`) and one sync in full
//! (`/apps/<app>/history/<seq>`): commit (linked to the forge), trigger, outcome, duration,
//! the ControllerRevision per workload, per-object results, gate messages, revert links.

use maud::{html, Markup};

use super::layout::{note, page, pill, sha_link, Page};
use super::links::commit_url;
use super::view::{duration_words, Tone};
use crate::config::AppSpec;
use crate::history::{SyncOutcome, SyncRecord};

/// The tone of an outcome.
pub fn outcome_tone(outcome: &SyncOutcome) -> Tone {
    match outcome {
        SyncOutcome::Succeeded => Tone::Good,
        SyncOutcome::Failed { .. }
        | SyncOutcome::GateFailed { .. }
        | SyncOutcome::Invalid { .. } => Tone::Bad,
        SyncOutcome::Superseded { .. } | SyncOutcome::Interrupted { .. } => Tone::Warn,
        SyncOutcome::InProgress => Tone::Busy,
    }
}

fn duration(record: &SyncRecord) -> String {
    record.finished_at.map_or_else(
        || "running".to_string(),
        |end| {
            let ms = (end - record.started_at).num_milliseconds().max(0);
            if ms < 120_000 {
                format!("{:.1}s", ms as f64 / 1000.0)
            } else {
                duration_words(ms / 1000)
            }
        },
    )
}

/// The sync of `records` that reverted `record`'s commit, if one is listed.
fn reverted_by<'a>(record: &SyncRecord, records: &'a [SyncRecord]) -> Option<&'a SyncRecord> {
    records
        .iter()
        .find(|r| r.commit.reverts.as_deref() == Some(record.commit.sha.as_str()))
}

/// The list of syncs, newest first.
pub fn render_list(spec: &AppSpec, records: &[SyncRecord], writable: bool) -> Markup {
    let app = spec.name.as_str();
    let content = html! {
        h1 { "History of " a href={ "/apps/" (app) } { (app) } }
        @if records.is_empty() {
            p.muted { "No syncs recorded yet." }
        } @else {
            table #history {
                thead { tr {
                    th { "#" } th { "Commit" } th { "Trigger" } th { "Outcome" }
                    th.wide { "Started" } th { "Duration" }
                } }
                tbody {
                    @for r in records {
                        tr.sync data-seq=(r.seq) {
                            td { a href={ "/apps/" (app) "/history/" (r.seq) } { "#" (r.seq) } }
                            td {
                                (sha_link(&r.commit.short_sha, commit_url(spec, &r.commit.sha).as_deref()))
                                " " (r.commit.subject)
                                span.reason {
                                    (r.commit.author)
                                    @if let Some(reverted) = &r.commit.reverts { " · reverts " code { (crate::source::short_sha(reverted)) } }
                                    @if let Some(by) = reverted_by(r, records) {
                                        " · reverted in " a href={ "/apps/" (app) "/history/" (by.seq) } { "#" (by.seq) }
                                    }
                                }
                            }
                            td.trigger { (r.trigger.as_str()) }
                            td.outcome class=(outcome_tone(&r.outcome).class()) {
                                (r.outcome.label())
                                @if !matches!(r.outcome, SyncOutcome::Succeeded | SyncOutcome::InProgress) {
                                    span.reason { (r.outcome.describe()) }
                                }
                            }
                            td.wide { (r.started_at.format("%Y-%m-%d %H:%M:%S UTC")) }
                            td { (duration(r)) }
                        }
                    }
                }
            }
        }
    };
    page(
        &Page {
            title: &format!("{app} history"),
            app: Some(app),
            live: false,
            writable,
        },
        &content,
    )
}

/// One sync in full; `records` are the app's recent syncs, for revert links.
pub fn render_one(
    spec: &AppSpec,
    record: &SyncRecord,
    records: &[SyncRecord],
    writable: bool,
) -> Markup {
    let app = spec.name.as_str();
    let c = &record.commit;
    let content = html! {
        h1 { a href={ "/apps/" (app) "/history" } { (app) } " sync #" (record.seq) " "
            (pill(record.outcome.label(), outcome_tone(&record.outcome))) }
        dl.facts {
            dt { "Commit" } dd { (sha_link(&c.short_sha, commit_url(spec, &c.sha).as_deref())) " " (c.subject) }
            dt { "Author" } dd { (c.author) " · " (c.time.format("%Y-%m-%d %H:%M UTC")) }
            dt { "Trigger" } dd #trigger { (record.trigger.as_str()) }
            dt { "Outcome" } dd #outcome class=(outcome_tone(&record.outcome).class()) { (record.outcome.describe()) }
            dt { "Started" } dd { (record.started_at.format("%Y-%m-%d %H:%M:%S UTC")) }
            dt { "Duration" } dd { (duration(record)) }
            @if let Some(by) = &record.synced_by { dt { "Synced by" } dd { (by) } }
            @if let Some(reverted) = &c.reverts {
                dt { "Reverts" } dd {
                    (sha_link(crate::source::short_sha(reverted), commit_url(spec, reverted).as_deref()))
                    @if let Some(seq) = record.reverts_seq {
                        " (" a href={ "/apps/" (app) "/history/" (seq) } { "sync #" (seq) } ")"
                    }
                }
            }
            @if let Some(by) = reverted_by(record, records) {
                dt { "Reverted in" } dd { a href={ "/apps/" (app) "/history/" (by.seq) } { "sync #" (by.seq) } " (" code { (by.commit.short_sha) } ")" }
            }
        }
        @if writable && c.reverts.is_none() && reverted_by(record, records).is_none() {
            div.actions {
                a.button.danger #roll-back href={ "/apps/" (app) "/rollback?commit=" (c.sha) } { "Roll back this commit…" }
            }
        }
        h2 { "Objects" }
        @if record.objects.is_empty() {
            (note("No objects recorded.", None))
        } @else {
            table #objects {
                thead { tr { th { "Object" } th { "Action" } th { "Result" } th { "Revision" } th { "Gate" } } }
                tbody {
                    @for o in &record.objects {
                        tr.object {
                            td { code { (crate::manifest::object_name(&o.kind, o.namespace.as_deref(), &o.name)) } }
                            td { (o.action.to_string()) }
                            td { (o.result.to_string()) @if let Some(m) = &o.message { span.reason { (m) } } }
                            td { @if let Some(rev) = o.revision { "ControllerRevision " (rev) } @else { "—" } }
                            td.gate {
                                @if let Some(gate) = &o.gate { (gate.to_string()) } @else { "—" }
                                @for step in &o.steps { span.reason { (step.to_string()) } }
                            }
                        }
                    }
                }
            }
        }
    };
    page(
        &Page {
            title: &format!("{app} #{}", record.seq),
            app: Some(app),
            live: false,
            writable,
        },
        &content,
    )
}
