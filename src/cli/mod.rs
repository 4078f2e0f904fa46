//! The `ferry` command line: argument definitions and what each command prints.

mod args;
mod common_args;
mod logging;
mod progress;
mod render;

pub use args::{Cli, Command, HistoryArgs, PlanArgs, RollbackArgs, ServeArgs, SyncArgs};
pub use common_args::{AppArgs, ClusterArgs, GateArgs, OutputFormat, SafetyArgs};
pub use logging::log_filter;
pub use progress::ProgressSink;
pub use render::{
    print_plan_hook, render_plan, render_rollback, render_sync, render_sync_results, ColorChoice,
};
