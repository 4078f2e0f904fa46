//! `/badge/<app>.svg`: a shields-style badge of the app's sync state and health, for a
//! repository's README. Plain SVG, text escaped, no script.

use maud::{html, Markup, PreEscaped};

use super::view::{AppView, HealthState, SyncState, Tone};

/// Width of one character of the 11px sans-serif label, rounded up.
const CHAR_WIDTH: usize = 7;
/// Padding on each side of a label.
const PAD: usize = 6;

/// The badge of `view` (none: an unknown app).
pub fn render(name: &str, view: Option<&AppView>) -> Markup {
    let (text, tone) = match view {
        None => ("unknown app".to_string(), Tone::Neutral),
        Some(v) => {
            let tone = match (v.sync, v.health) {
                (_, HealthState::Degraded) | (SyncState::Error, _) => Tone::Bad,
                (SyncState::Synced, HealthState::Healthy) => Tone::Good,
                (s, _) => s.tone(),
            };
            (format!("{} · {}", v.sync.as_str(), v.health.as_str()), tone)
        }
    };
    let label = format!("ferry {name}");
    let left = label.chars().count() * CHAR_WIDTH + 2 * PAD;
    let right = text.chars().count() * CHAR_WIDTH + 2 * PAD;
    let width = left + right;
    html! {
        (PreEscaped(r#"<?xml version="1.0" encoding="UTF-8"?>"#))
        svg xmlns="http://www.w3.org/2000/svg" width=(width) height="20" role="img" aria-label={ (label) ": " (text) } {
            title { (label) ": " (text) }
            rect width=(left) height="20" fill="#555" {}
            rect x=(left) width=(right) height="20" fill=(tone.badge_colour()) {}
            g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle" {
                text x=(left / 2) y="14" { (label) }
                text x=(left + right / 2) y="14" { (text) }
            }
        }
    }
}
