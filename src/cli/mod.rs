//! The `ferry` command line: argument definitions and what each command prints.

mod args;
mod progress;
mod render;

pub use args::{
    AppArgs, Cli, ClusterArgs, Command, GateArgs, HistoryArgs, OutputFormat, PlanArgs,
    RollbackArgs, ServeArgs, SyncArgs,
};
pub use progress::ProgressSink;
pub use render::{render_plan, render_sync, ColorChoice};
