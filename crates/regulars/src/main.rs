//! `regulars`: the one binary. Parses the command line, loads the configuration and hands each
//! command to the library crates; it holds no business logic of its own.
//!
//! Exit status: 0 on success, 1 on an error, 2 on a usage error, 3 when an import refused rows.

mod audience;
mod bench;
mod cli;
mod coupons;
mod demo;
mod import;
mod output;
mod points;
mod referrals;
mod segment;
mod tiers;

use std::process::ExitCode;

use clap::Parser as _;

/// Ingest and the engine allocate many small, short-lived values across threads; mimalloc keeps
/// that cheap where glibc's allocator spends a third of the ingest path consolidating.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(1)
        }
    }
}
