//! Rollout progress while gates wait: live spinner lines on a terminal, plain lines when
//! stderr is not a terminal, JSON lines with `--output json`. Always on stderr, so stdout
//! keeps the final report.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::rollout::{GateEvent, GateState};

/// Where gate progress events are shown.
pub enum ProgressSink {
    /// One live line per workload (stderr is a terminal).
    Live {
        /// The bars' shared terminal area.
        multi: MultiProgress,
        /// One bar per workload.
        bars: Mutex<HashMap<String, ProgressBar>>,
    },
    /// One line per change.
    Plain,
    /// One JSON object per line.
    Json,
}

impl ProgressSink {
    /// Picks the display for this output format and terminal.
    pub fn new(json: bool) -> ProgressSink {
        if json {
            ProgressSink::Json
        } else if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
            ProgressSink::Live {
                multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
                bars: Mutex::new(HashMap::new()),
            }
        } else {
            ProgressSink::Plain
        }
    }

    /// Shows one event.
    pub fn show(&self, event: &GateEvent) {
        match self {
            ProgressSink::Json => {
                // A GateEvent always serialises (strings, numbers, enums).
                if let Ok(line) = serde_json::to_string(event) {
                    eprintln!("{line}");
                }
            }
            ProgressSink::Plain => eprintln!(
                "  [{:>5.1}s] {}: {}",
                event.elapsed.as_secs_f64(),
                event.target,
                event.message
            ),
            ProgressSink::Live { multi, bars } => {
                let mut bars = bars
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let key = event.target.to_string();
                let bar = bars.entry(key.clone()).or_insert_with(|| {
                    let bar = multi.add(ProgressBar::new_spinner());
                    bar.set_style(
                        ProgressStyle::with_template("  {spinner} [{elapsed:>4}] {prefix}: {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar.set_prefix(key);
                    bar.enable_steady_tick(Duration::from_millis(120));
                    bar
                });
                let done = event.state.is_final();
                if done {
                    let mark = match event.state {
                        GateState::Healthy => "✓",
                        GateState::Superseded => "↷",
                        GateState::Interrupted => "■",
                        _ => "✗",
                    };
                    bar.finish_with_message(format!("{mark} {}", event.message));
                } else {
                    bar.set_message(event.message.clone());
                }
            }
        }
    }
}
