//! Text rendering of plans and sync results.

use std::fmt::Write;

use clap::ValueEnum;

use crate::apply::{Outcome, OutcomeKind};
use crate::diff;
use crate::plan::{Action, Change, Plan};
use crate::reconcile::{PlanHook, Rollback, SyncReport};

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// When stdout is a terminal and NO_COLOR is unset.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Resolves `auto` against the terminal and `NO_COLOR`.
    pub fn enabled(self) -> bool {
        use std::io::IsTerminal;
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
            }
        }
    }
}

struct Palette {
    on: bool,
}

impl Palette {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn green(&self, t: &str) -> String {
        self.paint("32", t)
    }
    fn yellow(&self, t: &str) -> String {
        self.paint("33", t)
    }
    fn red(&self, t: &str) -> String {
        self.paint("31", t)
    }
    fn dim(&self, t: &str) -> String {
        self.paint("2", t)
    }
    fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
}

fn symbol(action: &Action, p: &Palette) -> String {
    match action {
        Action::Create => p.green("+ create  "),
        Action::Update => p.yellow("~ update  "),
        Action::Recreate { .. } => p.yellow("± recreate"),
        Action::Prune => p.red("- prune   "),
        Action::Orphan { .. } => p.dim("? orphan  "),
        Action::Unchanged => p.dim("  unchanged"),
        Action::Invalid { .. } => p.red("! invalid "),
    }
}

fn location(change: &Change) -> String {
    change
        .origin
        .as_ref()
        .map(|o| format!("  ({o})"))
        .unwrap_or_default()
}

/// Renders a plan: a header naming the commit, then per wave each object that changes (with
/// its field diff), a count of unchanged objects, and a summary line.
pub fn render_plan(plan: &Plan, unified: bool, color: bool) -> String {
    let p = Palette { on: color };
    let mut out = String::new();
    let c = &plan.commit;
    let _ = writeln!(
        out,
        "{} app {} at {} {:?} ({} <{}>, {})",
        p.bold("Plan for"),
        plan.app,
        c.short_sha(),
        c.subject,
        c.author,
        c.email,
        c.time.format("%Y-%m-%d %H:%M UTC")
    );
    if let Some(rendered) = &plan.rendered {
        let _ = writeln!(out, "  {}", p.dim(&format!("rendered by {rendered}")));
    }
    let mut current_wave: Option<i32> = None;
    let mut unchanged_in_wave = 0usize;
    let flush_unchanged = |out: &mut String, n: &mut usize| {
        if *n > 0 {
            let _ = writeln!(out, "  {}", p.dim(&format!("{n} unchanged")));
            *n = 0;
        }
    };
    let (applies, prunes): (Vec<&Change>, Vec<&Change>) = plan
        .changes
        .iter()
        .partition(|c| !matches!(c.action, Action::Prune | Action::Orphan { .. }));
    for change in applies {
        if current_wave != Some(change.wave) {
            flush_unchanged(&mut out, &mut unchanged_in_wave);
            let _ = writeln!(out, "\n{}", p.bold(&format!("wave {}", change.wave)));
            current_wave = Some(change.wave);
        }
        if change.action == Action::Unchanged {
            unchanged_in_wave += 1;
            continue;
        }
        render_change(&mut out, change, unified, &p);
    }
    flush_unchanged(&mut out, &mut unchanged_in_wave);
    if !prunes.is_empty() {
        let _ = writeln!(out, "\n{}", p.bold("not in git"));
        for change in prunes {
            render_change(&mut out, change, unified, &p);
        }
    }
    let summary: Vec<String> = plan
        .summary()
        .iter()
        .map(|(verb, n)| format!("{n} {}", verb_phrase(verb)))
        .collect();
    let _ = writeln!(
        out,
        "\n{} {}.",
        if plan.has_changes() {
            p.bold("Plan:")
        } else {
            p.bold("No changes.")
        },
        if summary.is_empty() {
            "nothing in git".to_string()
        } else {
            summary.join(", ")
        }
    );
    if let Some(refusal) = &plan.refusal {
        let _ = writeln!(out, "{}", p.red(&refusal.to_string()));
    }
    out
}

fn verb_phrase(verb: &str) -> &'static str {
    match verb {
        "create" => "to create",
        "update" => "to update",
        "recreate" => "to recreate",
        "prune" => "to prune",
        "unchanged" => "unchanged",
        "orphan" => "not in git (kept)",
        "invalid" => "invalid",
        _ => "",
    }
}

fn render_change(out: &mut String, change: &Change, unified: bool, p: &Palette) {
    let _ = writeln!(
        out,
        "  {} {}{}",
        symbol(&change.action, p),
        change.key,
        p.dim(&location(change))
    );
    match &change.action {
        Action::Recreate { reason } => {
            let _ = writeln!(out, "      {}", p.dim(reason));
        }
        Action::Orphan { reason } => {
            let _ = writeln!(out, "      {}", p.dim(reason));
        }
        Action::Invalid { message } => {
            let _ = writeln!(out, "      {}", p.red(message));
        }
        _ => {}
    }
    if let Some(staging) = &change.staging {
        let _ = writeln!(out, "      {staging}");
    }
    if let Some(note) = &change.note {
        let _ = writeln!(out, "      {}", p.dim(&format!("note: {note}")));
    }
    for field in &change.fields {
        let _ = writeln!(out, "      {field}");
    }
    if unified {
        let before = change.before.clone().unwrap_or(serde_json::Value::Null);
        let after = change.after.clone().unwrap_or(serde_json::Value::Null);
        let text = diff::unified_yaml_diff(&before, &after, "live", "git", p.on);
        for line in text.lines() {
            let _ = writeln!(out, "      {line}");
        }
    }
}

/// A rollback that wrote nothing, as text (a revert's sync renders with [`render_sync`]).
pub fn render_rollback(rollback: &Rollback) -> String {
    match rollback {
        Rollback::NothingToRollBack(nothing) => format!(
            "Nothing to roll back: {}. Name a commit, or use --to to go further back.\n",
            nothing.reason
        ),
        Rollback::Reverted(report) => render_sync(&report.sync, false, false),
    }
}

/// Renders a sync: the plan (or, for a dry run, the plan alone), then what happened per
/// object that was written or failed, then a summary line.
pub fn render_sync(report: &SyncReport, unified: bool, color: bool) -> String {
    let mut out = render_plan(&report.plan, unified, color);
    out.push_str(&render_sync_results(report, color));
    out
}

/// A [`PlanHook`] that prints the plan on stdout (flushed) as soon as the sync knows it, so
/// it comes before the rollout progress on stderr.
pub fn print_plan_hook(unified: bool, color: bool) -> PlanHook {
    std::sync::Arc::new(move |plan: &Plan| {
        use std::io::Write as _;
        let mut stdout = std::io::stdout().lock();
        // A closed stdout (`ferry sync | head`) must not stop the sync that prints the plan.
        let _ = stdout.write_all(render_plan(plan, unified, color).as_bytes());
        let _ = stdout.flush();
    })
}

/// What a sync did, without its plan (shown before it ran): per object that was written or
/// failed, the rollout gates, then a summary line. A sync that wrote nothing says why.
pub fn render_sync_results(report: &SyncReport, color: bool) -> String {
    let p = Palette { on: color };
    let mut out = String::new();
    let Some(apply) = &report.apply else {
        let line = if report.dry_run {
            "Dry run: nothing was written.".to_string()
        } else {
            format!(
                "Nothing to do: the cluster already matches {}.",
                report.plan.commit.short_sha()
            )
        };
        let _ = writeln!(out, "{}", p.dim(&line));
        return out;
    };
    let _ = writeln!(out);
    for r in &apply.results {
        let name = r.outcome.kind().name();
        let line = match &r.outcome {
            Outcome::Unchanged | Outcome::Kept(_) => continue,
            Outcome::Failed(msg) => format!("{} {}: {}", p.red("failed   "), r.key, msg),
            Outcome::Skipped(why) => format!("{} {} ({why})", p.dim("skipped  "), r.key),
            _ => format!("{} {}", p.green(&format!("{name:<9}")), r.key),
        };
        let _ = writeln!(out, "{line}");
    }
    if !report.gates.is_empty() {
        let _ = writeln!(out, "\n{}", p.bold("rollout"));
        for gate in &report.gates {
            let line = gate.summary();
            let line = if gate.is_failure() {
                p.red(&line)
            } else {
                line
            };
            let revision = gate
                .revision
                .map(|r| format!(" (revision {r})"))
                .unwrap_or_default();
            let _ = writeln!(out, "  {line}{revision}");
        }
        let _ = writeln!(out);
    }
    let counts: Vec<String> = [
        OutcomeKind::Created,
        OutcomeKind::Updated,
        OutcomeKind::Recreated,
        OutcomeKind::Pruned,
        OutcomeKind::Failed,
        OutcomeKind::Skipped,
    ]
    .iter()
    .map(|n| (n, apply.count(*n)))
    .filter(|(_, c)| *c > 0)
    .map(|(n, c)| format!("{c} {n}"))
    .collect();
    let verdict = if let Some(gate) = report.failed_gate() {
        p.red(&format!("Rollout failed ({}):", gate.target))
    } else if let Some(reason) = &report.interrupted {
        p.red(&format!("Sync interrupted ({reason}):"))
    } else if report.succeeded() {
        p.green("Sync complete:")
    } else {
        p.red("Sync failed:")
    };
    let _ = writeln!(
        out,
        "{verdict} {} at {}.",
        if counts.is_empty() {
            "nothing to do".to_string()
        } else {
            counts.join(", ")
        },
        report.plan.commit.short_sha()
    );
    out
}
