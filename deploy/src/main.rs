use std::process::ExitCode;

use clap::Parser;
use marquee_deploy::cli::{CaAction, CaArgs, EdgeAction, EdgeArgs};
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
        Command::Ca(args) => report("marquee ca", run_ca(args)),
        Command::Edge(args) => run_edge(args).await,
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

fn report(what: &str, result: Result<String, marquee_tls::ca::CaError>) -> ExitCode {
    match result {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{what}: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn issued(i: &marquee_tls::ca::Issued) -> String {
    format!(
        "issued {}\n  certificate: {}\n  key: {}\n",
        i.identity,
        i.cert.display(),
        i.key.display()
    )
}

fn run_ca(args: CaArgs) -> Result<String, marquee_tls::ca::CaError> {
    let ca = marquee_tls::ca::CaDir::new(&args.ca.dir);
    match args.action {
        CaAction::Init { name } => {
            let cert = ca.init(&name)?;
            Ok(format!(
                "created the CA \"{name}\": trust {} to trust this deployment\n",
                cert.display()
            ))
        }
        CaAction::Issue {
            service,
            id,
            target,
        } => Ok(issued(&ca.issue(
            service,
            &id,
            &target.hosts,
            &target.out,
        )?)),
    }
}

async fn run_edge(args: EdgeArgs) -> ExitCode {
    use marquee_deploy::fleet;
    let result = match args.action {
        EdgeAction::Add { id, target } => {
            let ca = marquee_tls::ca::CaDir::new(&args.ca.dir);
            return report(
                "marquee edge",
                ca.issue(marquee_tls::Service::Edge, &id, &target.hosts, &target.out)
                    .map(|i| issued(&i)),
            );
        }
        EdgeAction::List { fleet } => fleet::list(&fleet).await,
        EdgeAction::Drain { id, fleet } => fleet::set_drained(&fleet, &id, true).await,
        EdgeAction::Restore { id, fleet } => fleet::set_drained(&fleet, &id, false).await,
    };
    match result {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("marquee edge: error: {e}");
            ExitCode::FAILURE
        }
    }
}
