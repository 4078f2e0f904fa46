//! The `ferry` command line: argument definitions and what each command prints.

mod args;
mod logging;
mod progress;
mod render;

pub use args::{
    AppArgs, Cli, ClusterArgs, Command, GateArgs, HistoryArgs, OutputFormat, PlanArgs,
    RollbackArgs, SafetyArgs, ServeArgs, SyncArgs,
};
pub use logging::log_filter;
pub use progress::ProgressSink;
pub use render::{
    print_plan_hook, render_plan, render_rollback, render_sync, render_sync_results, ColorChoice,
};
