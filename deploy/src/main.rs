use std::process::ExitCode;

use clap::Parser;
use marquee_deploy::{Cli, Command};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Up(args) => match marquee_deploy::up(args).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("marquee up: error: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Cluster(args) => match marquee_deploy::cluster::run(args).await {
            Ok(out) => {
                print!("{out}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("marquee cluster: error: {e}");
                ExitCode::FAILURE
            }
        },
    }
}
