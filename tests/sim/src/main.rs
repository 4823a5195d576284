//! The `unloc-sim` binary: parse flags, start the simulator, print how to reach it, serve until
//! Ctrl-C or SIGTERM.

// This binary's job is to tell people and scripts (which read stdout through a pipe) where it listens;
// printing is its interface, unlike in the rest of the workspace.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;
use std::process::ExitCode;

use unloc_sim::cli::{self, Command};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match cli::parse_args(std::env::args().skip(1)) {
        Ok(Command::Run(config)) => config,
        Ok(Command::Help) => {
            print!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("unloc-sim: {e}");
            return ExitCode::from(2);
        }
    };
    let sim = match unloc_sim::start(config).await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("unloc-sim: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", cli::banner(&sim));
    // Scripts read these lines from a pipe, where stdout is block-buffered: flush now, not at exit.
    let _ = std::io::stdout().flush();
    wait_for_stop().await;
    sim.shutdown();
    ExitCode::SUCCESS
}

/// Resolves on Ctrl-C, or on SIGTERM where there is such a thing.
async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            // No SIGTERM handler possible: Ctrl-C still works.
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
