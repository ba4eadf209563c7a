//! The `marquee` command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "marquee",
    version,
    about = "Operate Marquee, a self-hostable streaming service",
    long_about = "Operate Marquee, a self-hostable streaming service.\n\n\
        `marquee up` starts a complete local world on 127.0.0.1 — a control-plane, one origin \
        node and two edges in two regions — seeds a demo catalogue on first run and prints the \
        URL to open."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a local world (control-plane, origin, two edges), seed demo content, print the URL.
    ///
    /// Needs marquee-origin, marquee-control-plane and marquee-edge next to this binary
    /// (`cargo build --release --bins`) and ffmpeg on PATH for the demo clips. Stop with Ctrl-C;
    /// running it again with the same state directory reuses everything.
    Up(UpArgs),
}

#[derive(Debug, Clone, Args)]
pub struct UpArgs {
    /// Directory holding all state: origin data, edge caches, generated clips, admin password.
    #[arg(long, env = "MARQUEE_STATE_DIR", default_value = ".marquee")]
    pub state_dir: PathBuf,

    /// Origin's port on 127.0.0.1, where the web app and API are served (0 = any free port).
    #[arg(long, env = "MARQUEE_PORT", default_value_t = 8080)]
    pub port: u16,

    /// Do not create the demo catalogue (the admin account is still set up).
    #[arg(long, env = "MARQUEE_NO_SEED")]
    pub no_seed: bool,

    /// Lifetime of playback tokens in seconds (origin's default when absent).
    #[arg(long, env = "MARQUEE_TOKEN_TTL_SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub token_ttl_secs: Option<u64>,

    /// Built web app to serve (default: origin/web/dist found from here or the source tree).
    #[arg(long, env = "MARQUEE_WEB_DIR")]
    pub web_dir: Option<PathBuf>,

    /// Directory with the service binaries (default: the directory of this executable).
    #[arg(long, env = "MARQUEE_BIN_DIR")]
    pub bin_dir: Option<PathBuf>,

    /// Forward all of the services' logs, not only warnings and errors.
    #[arg(short, long, env = "MARQUEE_VERBOSE")]
    pub verbose: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn up_defaults_and_flags() {
        let cli = Cli::try_parse_from(["marquee", "up"]).expect("parse");
        let Command::Up(args) = cli.command;
        assert_eq!(args.state_dir, PathBuf::from(".marquee"));
        assert_eq!(args.port, 8080);
        assert!(!args.no_seed);

        let cli = Cli::try_parse_from([
            "marquee",
            "up",
            "--state-dir",
            "/tmp/s",
            "--port",
            "0",
            "--no-seed",
            "--token-ttl-secs",
            "60",
            "-v",
        ])
        .expect("parse");
        let Command::Up(args) = cli.command;
        assert_eq!(args.port, 0);
        assert!(args.no_seed && args.verbose);
        assert_eq!(args.token_ttl_secs, Some(60));
    }

    #[test]
    fn bad_values_are_rejected() {
        assert!(Cli::try_parse_from(["marquee", "up", "--port", "70000"]).is_err());
        assert!(Cli::try_parse_from(["marquee", "up", "--token-ttl-secs", "0"]).is_err());
        assert!(Cli::try_parse_from(["marquee", "down"]).is_err());
    }
}
