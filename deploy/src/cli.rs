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
    /// Show or change the origin cluster: its members, their roles and progress.
    ///
    /// Signs in to an origin node as the admin (any node will do: it answers for the whole
    /// cluster). New nodes usually join by themselves (`marquee-origin --join`); `add` is for
    /// a node started without it.
    Cluster(ClusterArgs),
    /// The deployment's certificate authority: every service's certificate is issued by it.
    ///
    /// `marquee ca init` makes it once (an ECDSA key and a 10-year certificate that may sign
    /// service certificates only); `marquee ca issue` gives a service its certificate, named by
    /// a URI `spiffe://marquee/<service>/<id>` and valid for the hosts it serves (90 days;
    /// issue again to renew). Trust `ca.pem` to trust the deployment.
    Ca(CaArgs),
    /// Edges of the fleet: `add` issues an edge's certificate from the deployment's CA;
    /// `list`, `drain` and `restore` ask the control-plane with the operator's certificate.
    Edge(EdgeArgs),
}

#[derive(Debug, Clone, Args)]
pub struct CaArgs {
    #[command(flatten)]
    pub ca: CaDirArg,
    #[command(subcommand)]
    pub action: CaAction,
}

/// Where the CA's certificate (ca.pem) and key (ca-key.pem, mode 0600) live.
#[derive(Debug, Clone, Args)]
pub struct CaDirArg {
    #[arg(
        long = "ca-dir",
        global = true,
        env = "MARQUEE_CA_DIR",
        default_value = ".marquee/ca"
    )]
    pub dir: PathBuf,
}

/// What a certificate is issued for, and where it is written.
#[derive(Debug, Clone, Args)]
pub struct IssueArgs {
    /// A DNS name or IP address the service is reached at (repeatable; at least one).
    #[arg(long = "host", required = true)]
    pub hosts: Vec<String>,
    /// Directory for `<service>-<id>.pem` and `<service>-<id>-key.pem`.
    #[arg(long, default_value = ".marquee/certs")]
    pub out: PathBuf,
}

#[derive(Debug, Clone, Subcommand)]
pub enum CaAction {
    /// Create the CA (refuses to replace one: it signs every certificate of the deployment).
    Init {
        /// The CA's name, as certificates show their issuer.
        #[arg(long, default_value = "Marquee deployment CA")]
        name: String,
    },
    /// Issue (or renew) a service's certificate and key into --out.
    Issue {
        /// edge, origin, control-plane or operator (a person's tool, e.g. `marquee edge drain`).
        #[arg(long)]
        service: marquee_tls::Service,
        /// The service's id: lowercase letters, digits and '-' (an edge id, an origin node).
        #[arg(long)]
        id: String,
        #[command(flatten)]
        target: IssueArgs,
    },
}

#[derive(Debug, Clone, Args)]
pub struct EdgeArgs {
    #[command(flatten)]
    pub ca: CaDirArg,
    #[command(subcommand)]
    pub action: EdgeAction,
}

#[derive(Debug, Clone, Subcommand)]
pub enum EdgeAction {
    /// Issue the certificate an edge proves its id with (to viewers over HTTPS, and to the
    /// control-plane and origin over mutual TLS).
    Add {
        /// The edge's id, e.g. edge-eu-west-1.
        id: String,
        #[command(flatten)]
        target: IssueArgs,
    },
    /// List the edges the control-plane knows: region, state, load, last heartbeat.
    List {
        #[command(flatten)]
        fleet: FleetArgs,
    },
    /// Stop steering viewers to an edge (maintenance, a bad node). Kept across control-plane
    /// restarts until `marquee edge restore`.
    Drain {
        /// The edge's id.
        id: String,
        #[command(flatten)]
        fleet: FleetArgs,
    },
    /// Steer viewers to a drained edge again.
    Restore {
        /// The edge's id.
        id: String,
        #[command(flatten)]
        fleet: FleetArgs,
    },
}

/// How the operator reaches the control-plane: its URL and the operator's certificate. The
/// defaults are the local world's (`marquee up` writes them into the state directory).
#[derive(Debug, Clone, Args)]
pub struct FleetArgs {
    /// The control-plane's URL [default: the one in <state-dir>/control-plane-url].
    #[arg(long, env = "MARQUEE_CONTROL_PLANE")]
    pub control_plane: Option<String>,
    /// The local world's state directory, where the defaults below are found.
    #[arg(long, env = "MARQUEE_STATE_DIR", default_value = ".marquee")]
    pub state_dir: PathBuf,
    /// An operator certificate (`marquee ca issue --service operator`)
    /// [default: <state-dir>/certs/operator-marquee.pem].
    #[arg(long)]
    pub tls_cert: Option<PathBuf>,
    /// Its key [default: <state-dir>/certs/operator-marquee-key.pem].
    #[arg(long)]
    pub tls_key: Option<PathBuf>,
    /// The deployment CA [default: <state-dir>/ca/ca.pem].
    #[arg(long)]
    pub tls_ca: Option<PathBuf>,
}

/// 1, 3 or 5: an even count tolerates no more failures than one node fewer.
fn origin_nodes(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(n @ (1 | 3 | 5)) => Ok(n),
        Ok(n) => Err(format!(
            "{n} nodes: use 1, 3 or 5 (a cluster of n survives (n-1)/2 failures, so even sizes \
             add a node without adding safety)"
        )),
        Err(_) => Err("a number of nodes: 1, 3 or 5".into()),
    }
}

#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// Any origin node's public URL.
    #[arg(long, env = "MARQUEE_ORIGIN", default_value = "http://127.0.0.1:8080")]
    pub origin: String,
    /// The admin's email.
    #[arg(long, env = "MARQUEE_ADMIN_EMAIL", default_value = crate::state::ADMIN_EMAIL)]
    pub admin_email: String,
    /// File holding the admin's password (as `marquee up` writes it).
    #[arg(
        long,
        env = "MARQUEE_ADMIN_PASSWORD_FILE",
        default_value = ".marquee/admin-password"
    )]
    pub admin_password_file: PathBuf,
    #[command(subcommand)]
    pub action: ClusterAction,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ClusterAction {
    /// List every member: node id, role (leader, follower, learner), API and Raft addresses,
    /// last applied log index.
    Status,
    /// Add a running node: it catches up as a learner, then becomes a voter.
    Add {
        /// The new node's id; never one used before in this cluster.
        #[arg(long)]
        node_id: u64,
        /// Its Raft RPC address, e.g. http://10.0.0.3:9101.
        #[arg(long)]
        raft_addr: String,
        /// Its public API URL, e.g. http://10.0.0.3:8080.
        #[arg(long)]
        api_addr: String,
    },
    /// Remove a node for good; its id is never accepted again.
    Remove {
        /// The node's id.
        node_id: u64,
    },
}

#[derive(Debug, Clone, Args)]
pub struct UpArgs {
    /// Directory holding all state: origin data, edge caches, generated clips, admin password.
    #[arg(long, env = "MARQUEE_STATE_DIR", default_value = ".marquee")]
    pub state_dir: PathBuf,

    /// Origin's port on 127.0.0.1, where the web app and API are served (0 = any free port).
    #[arg(long, env = "MARQUEE_PORT", default_value_t = 8080)]
    pub port: u16,

    /// Origin nodes to run as one Raft cluster: 1 (the default), 3 or 5. With several, the URL
    /// printed is a front door that relays to a healthy node, so the world stays up when any
    /// one node dies; edges fill from every node.
    #[arg(long, env = "MARQUEE_ORIGIN_NODES", default_value_t = 1, value_parser = origin_nodes)]
    pub origin_nodes: u32,

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
        let Command::Up(args) = cli.command else {
            panic!("not up")
        };
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
        let Command::Up(args) = cli.command else {
            panic!("not up")
        };
        assert_eq!(args.port, 0);
        assert!(args.no_seed && args.verbose);
        assert_eq!(args.token_ttl_secs, Some(60));
    }

    #[test]
    fn cluster_commands_parse() {
        let cli = Cli::try_parse_from(["marquee", "cluster", "status"]).expect("parse");
        let Command::Cluster(args) = cli.command else {
            panic!("not cluster")
        };
        assert_eq!(args.origin, "http://127.0.0.1:8080");
        assert!(matches!(args.action, ClusterAction::Status));
        let cli = Cli::try_parse_from(["marquee", "cluster", "remove", "3"]).expect("parse");
        let Command::Cluster(args) = cli.command else {
            panic!("not cluster")
        };
        assert!(matches!(args.action, ClusterAction::Remove { node_id: 3 }));
        assert!(Cli::try_parse_from(["marquee", "cluster", "add", "--node-id", "4"]).is_err());
    }

    #[test]
    fn bad_values_are_rejected() {
        assert!(Cli::try_parse_from(["marquee", "up", "--port", "70000"]).is_err());
        assert!(Cli::try_parse_from(["marquee", "up", "--token-ttl-secs", "0"]).is_err());
        let even = Cli::try_parse_from(["marquee", "up", "--origin-nodes", "2"]).unwrap_err();
        assert!(even.to_string().contains("use 1, 3 or 5"), "{even}");
        assert!(Cli::try_parse_from(["marquee", "down"]).is_err());
    }
}
