//! The `ferry` binary: parses arguments and dispatches to one command (`src/cmd/`), which
//! maps its result to an exit code.

mod cmd;

use std::process::ExitCode;

use clap::Parser;

use ferry::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(cmd::EXIT_ERROR);
        }
    };
    let outcome = runtime.block_on(async move {
        match cli.command {
            Command::Plan(args) => cmd::plan::run(args).await,
            Command::Sync(args) => cmd::sync::run(args).await,
            Command::Rollback(args) => cmd::rollback::run(args).await,
            Command::History(args) => cmd::history::run(args).await,
            Command::Serve(args) => cmd::serve::run(args).await,
        }
    });
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {}", cmd::describe(&e));
            ExitCode::from(cmd::EXIT_ERROR)
        }
    }
}

fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(ferry::cli::log_filter(filter))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(ferry::cli::log_filter("warn")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
