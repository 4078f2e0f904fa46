//! The app page (`/apps/<app>`): its state, the actions, the live part (rollout progress,
//! the resource tree down to pods, drift; re-read by the script on every change) and the
//! plan of the branch head against the cluster, Secrets masked.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use maud::{html, Markup};

use super::layout::{note, page, pill, sha_link, Page};
use super::view::{age, AppView, Tone};
use crate::config::AppSpec;
use crate::plan::{Action, Change, Plan};
use crate::rollout::overview::PodView;
use crate::rollout::GateTarget;

/// The pods of each workload of the app ("Kind ns/name" → pods, or why they could not be
/// read; `Ok(None)`: the workload does not exist).
pub type PodsByWorkload = BTreeMap<String, Result<Option<Vec<PodView>>, String>>;

/// Everything the app page shows.
pub struct AppPage<'a> {
    /// The app's config.
    pub spec: &'a AppSpec,
    /// Its view.
    pub view: &'a AppView,
    /// Its workloads' pods.
    pub pods: &'a PodsByWorkload,
    /// The plan of the branch head (or why there is none).
    pub plan: Result<&'a Plan, String>,
    /// Whether writes are possible.
    pub writable: bool,
    /// Now, for ages.
    pub now: DateTime<Utc>,
}

/// The gated workloads among the app's objects ("Kind ns/name" keys of its status).
pub fn workloads(view: &AppView) -> Vec<(String, GateTarget)> {
    view.status
        .objects
        .keys()
        .filter_map(|key| Some((key.clone(), parse_target(key)?)))
        .collect()
}

/// `DaemonSet ns/name` → its gate target (only DaemonSets, StatefulSets and Jobs).
fn parse_target(key: &str) -> Option<GateTarget> {
    let (kind, rest) = key.split_once(' ')?;
    let (namespace, name) = rest.split_once('/')?;
    let group = if kind == "Job" { "batch" } else { "apps" };
    let kind = crate::rollout::WorkloadKind::from_group_kind(group, kind)?;
    Some(GateTarget::new(kind, namespace, name))
}

/// The whole app page.
pub fn render(data: &AppPage<'_>) -> Markup {
    let s = &data.view.status;
    let name = s.name.as_str();
    let content = html! {
        h1 { (name) }
        dl.facts {
            dt { "Repository" } dd { (s.repo) }
            dt { "Branch" } dd { (data.view.reference) }
            dt { "Path" } dd { (data.view.path) }
        }
        @if data.writable {
            div.actions {
                a.button #sync-now href={ "/apps/" (name) "/sync" } { "Sync now…" }
                @if s.synced_commit.is_some() {
                    a.button.danger #roll-back href={ "/apps/" (name) "/rollback" } { "Roll back…" }
                }
                a.button href={ "/apps/" (name) "/history" } { "History" }
            }
        } @else {
            p.muted { a href={ "/apps/" (name) "/history" } { "History" } }
        }
        (live_part(data.spec, data.view, data.pods, data.now))
        h2 { "Progress" }
        p.muted { "Gate progress of a running sync appears here as it happens." }
        ol #progress aria-live="polite" {}
        h2 { "Plan: branch head against the cluster" }
        @match &data.plan {
            Ok(plan) => (plan_view(plan, data.spec)),
            Err(e) => (note(&format!("no plan: {e}"), Some(Tone::Bad))),
        }
    };
    page(
        &Page {
            title: name,
            app: Some(name),
            live: true,
            writable: data.writable,
        },
        &content,
    )
}

/// The part of the app page the script re-reads on every change.
pub fn live_part(
    spec: &AppSpec,
    view: &AppView,
    pods: &PodsByWorkload,
    now: DateTime<Utc>,
) -> Markup {
    let s = &view.status;
    html! {
        section #live-part aria-live="polite" {
            dl.facts {
                dt { "Sync" } dd #sync-state { (pill(view.sync.as_str(), view.sync.tone())) }
                dt { "Health" } dd #health class=(view.health.tone().class()) {
                    (pill(view.health.as_str(), view.health.tone()))
                    @if let Some(reason) = &view.reason { " " (reason) }
                }
                dt { "Head" } dd #head {
                    @match &s.head_commit {
                        Some(sha) => (sha_link(crate::source::short_sha(sha), super::links::commit_url(spec, sha).as_deref())),
                        None => span.muted { "not fetched yet" },
                    }
                }
                dt { "Synced" } dd #synced {
                    @match &s.synced_commit {
                        Some(sha) => {
                            code { (crate::source::short_sha(sha)) } " " (s.synced_subject.as_deref().unwrap_or_default())
                            span.muted {
                                " by " (s.synced_author.as_deref().unwrap_or_default())
                                @if let Some(when) = s.synced_commit_time.as_deref().and_then(|t| age(t, now)) { ", " (when) " ago" }
                            }
                        },
                        None => span.muted { "nothing synced yet" },
                    }
                }
                dt { "Last outcome" } dd #last-outcome { (s.last_outcome.as_deref().unwrap_or("—")) }
                @if let Some(error) = &s.last_error { dt { "Last error" } dd.bad { (error) } }
                @if let Some(notice) = &s.notice { dt { "Last action" } dd #notice { (notice) } }
            }
            @if !s.rollout.is_empty() {
                h2 { "Rollout" }
                table #rollout {
                    thead { tr { th { "Workload" } th { "Gate" } th { "Progress" } } }
                    tbody {
                        @for (key, gate) in &s.rollout {
                            @let tone = gate_tone(gate.state);
                            tr {
                                td { (key) }
                                td class=(tone.class()) {
                                    (serde_json::to_value(gate.state).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default())
                                    @if let Some(step) = gate.step { " (step " (step.step) "/" (step.of) ")" }
                                }
                                td { (gate.message) span.reason { (format!("{:.1}s", gate.elapsed_seconds)) } }
                            }
                        }
                    }
                }
            }
            h2 { "Resources" }
            @if s.objects.is_empty() {
                p.muted { "No objects synced yet." }
            } @else {
                ul.tree #resources {
                    li {
                        strong { (s.name) }
                        ul {
                            @for (key, result) in &s.objects {
                                li.object data-object=(key) {
                                    code { (key) } " " span.muted { (result) }
                                    @if let Some(fields) = s.drift.get(key) {
                                        span.warn { " drifted: " (fields.join(", ")) }
                                    }
                                    @if let Some(found) = pods.get(key) {
                                        (pod_list(found))
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if !s.drift.is_empty() {
                h2 { "Drift" }
                @if let Some(note_text) = &s.drift_note { (note(note_text, Some(Tone::Warn))) }
                ul #drift {
                    @for (key, fields) in &s.drift {
                        li { code { (key) } ": " (fields.join(", ")) }
                    }
                }
            }
        }
    }
}

fn pod_list(found: &Result<Option<Vec<PodView>>, String>) -> Markup {
    html! {
        @match found {
            Err(e) => p.bad { "pods: " (e) },
            Ok(None) => p.muted { "not in the cluster" },
            Ok(Some(pods)) if pods.is_empty() => p.muted { "no pods" },
            Ok(Some(pods)) => ul {
                @for pod in pods {
                    li.pod data-pod=(pod.name) {
                        code { (pod.name) }
                        " on " span.node { (pod.node.as_deref().unwrap_or("(not scheduled)")) }
                        " · " (pod.phase)
                        " · " span class=(if pod.ready { "good" } else { "warn" }) { @if pod.ready { "ready" } @else { "not ready" } }
                        " · " (pod.restarts) " restarts"
                        @if let Some(problem) = &pod.problem {
                            span.reason.bad.problem {
                                (problem.reason)
                                @if !problem.message.is_empty() { ": " (problem.message) }
                            }
                        }
                    }
                }
            },
        }
    }
}

fn gate_tone(state: crate::rollout::GateState) -> Tone {
    use crate::rollout::GateState;
    match state {
        GateState::Healthy => Tone::Good,
        GateState::Failed | GateState::TimedOut => Tone::Bad,
        GateState::Skipped | GateState::Superseded | GateState::Interrupted => Tone::Neutral,
        _ => Tone::Busy,
    }
}

/// The plan as field diffs: every changed field with its live and git value, a created or
/// pruned object in full (Secret data masked by the plan itself).
fn plan_view(plan: &Plan, spec: &AppSpec) -> Markup {
    let changes: Vec<&Change> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::Unchanged)
        .collect();
    let unchanged = plan.changes.len() - changes.len();
    html! {
        p #plan-summary {
            "At " (sha_link(plan.commit.short_sha(), super::links::commit_url(spec, &plan.commit.sha).as_deref()))
            " " (plan.commit.subject) ": "
            @if changes.is_empty() { "no changes" } @else { (changes.len()) " change(s)" }
            ", " (unchanged) " unchanged."
        }
        @if let Some(refusal) = &plan.refusal {
            (note(&format!("refused: {} ({} of {} live objects would be pruned)", refusal.rule, refusal.prunes, refusal.live), Some(Tone::Bad)))
        }
        @for change in changes {
            div.diff data-object=(change.key.to_string()) {
                div.head {
                    strong { (change.action.verb()) } " " code { (change.key.to_string()) }
                    @match &change.action {
                        Action::Recreate { reason } | Action::Orphan { reason } => { span.reason { (reason) } },
                        Action::Invalid { message } => { span.reason.bad { (message) } },
                        _ => {},
                    }
                    @if let Some(n) = &change.note { span.reason { "note: " (n) } }
                }
                @if change.fields.is_empty() {
                    @if let Some(object) = change.after.as_ref().or(change.before.as_ref()) {
                        details {
                            summary { "object" }
                            pre.mono { (crate::diff::to_yaml(object)) }
                        }
                    }
                } @else {
                    table {
                        thead { tr { th { "field" } th { "live" } th { "git" } } }
                        tbody {
                            @for field in &change.fields {
                                tr.field {
                                    td.mono.path { (field.path) }
                                    td.mono.before { (value_text(field.before.as_ref())) }
                                    td.mono.after { (value_text(field.after.as_ref())) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn value_text(value: Option<&serde_json::Value>) -> String {
    match value {
        None => "(absent)".to_string(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}
