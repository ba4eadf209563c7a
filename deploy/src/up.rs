//! `marquee up`: start control-plane, origin and two edges, seed the demo catalogue, print the
//! URL, then supervise until Ctrl-C or until a service dies.

use std::ffi::OsString;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};

use crate::api::{Api, ApiError};
use crate::binaries::{self, Binaries, MissingBinaries};
use crate::catalogue::DEMO_TITLES;
use crate::children::{ChildError, ExitEvents, ServiceSpec, Supervisor, Verbosity};
use crate::cli::UpArgs;
use crate::pki::{LocalPki, OPERATOR_ID, PkiError, control_plane_client, tls_flags};
use crate::ports::{free_port, free_port_on};
use crate::seed::{self, SeedError, SeedReport};
use crate::state::{ADMIN_EMAIL, StateDir, StateError};
use crate::video::CLIP_SECONDS;
use marquee_tls::Service;

/// The two edges of the local world: one per region, so steering has a choice to make.
/// The local edges: id, region and the loopback address viewers reach it on. Each has an
/// address of its own because players set a failed edge aside by host name (not port): two
/// edges on 127.0.0.1 would fail together in the player's eyes.
pub const EDGES: [(&str, &str, Ipv4Addr); 2] = [
    ("edge-eu-west-1", "eu-west", Ipv4Addr::new(127, 0, 0, 1)),
    ("edge-us-east-1", "us-east", Ipv4Addr::new(127, 0, 0, 2)),
];
const HEALTH_TIMEOUT: Duration = Duration::from_secs(90);
const STOP_GRACE: Duration = Duration::from_secs(15);

#[derive(Debug, thiserror::Error)]
pub enum UpError {
    #[error(transparent)]
    Binaries(#[from] MissingBinaries),
    #[error("cannot tell where the marquee executable is; pass --bin-dir")]
    NoBinDir,
    #[error("state directory: {0}")]
    State(#[from] StateError),
    #[error(transparent)]
    Child(#[from] ChildError),
    #[error("{name} did not answer GET {url}/healthz with 200 within {} s", HEALTH_TIMEOUT.as_secs())]
    Unhealthy { name: String, url: String },
    #[error("{name} exited unexpectedly ({status})")]
    ChildDied { name: String, status: String },
    #[error("origin did not write its token public key to {path}")]
    NoPublicKey { path: PathBuf },
    #[error(
        "{email} exists in origin but the password in {path} does not match; \
         reset the state directory (see deploy/README.md)"
    )]
    AdminPasswordMismatch { email: String, path: PathBuf },
    #[error("origin did not make {email} an admin (is --admin-email supported?)")]
    NotAdmin { email: String },
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("seeding the demo catalogue: {0}")]
    Seed(#[from] SeedError),
    #[error("cannot listen for signals: {0}")]
    Signals(std::io::Error),
    #[error("the mail server: {0}")]
    Mail(String),
    #[error("cannot pick a free port: {0}")]
    Port(std::io::Error),
    #[error("the local world's certificates: {0}")]
    Pki(#[from] PkiError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What is running, for the summary.
#[derive(Debug, Clone)]
pub struct World {
    pub origin_url: String,
    /// Each origin node's own URL when origin runs as a cluster (the front door is `origin_url`).
    pub origin_nodes: Vec<String>,
    pub control_plane_url: String,
    pub edges: Vec<RunningEdge>,
    pub seeded: Option<SeedReport>,
    /// The web inbox notification emails land in, when MailDev runs.
    pub inbox: Option<String>,
}

/// An edge of the local world.
#[derive(Debug, Clone)]
pub struct RunningEdge {
    pub id: String,
    pub region: String,
    /// Plain HTTP on loopback: what viewers on this machine are steered to.
    pub url: String,
    /// HTTPS with HTTP/1.1 and HTTP/2, and HTTP/3 on the same port.
    pub https_url: String,
}

/// Runs `marquee up` until stopped. `Ok` after a clean stop on SIGINT/SIGTERM.
pub async fn run(args: UpArgs) -> Result<(), UpError> {
    let bin_dir = match &args.bin_dir {
        Some(dir) => dir.clone(),
        None => binaries::own_dir().ok_or(UpError::NoBinDir)?,
    };
    let bins = binaries::find(&bin_dir)?;
    let state = StateDir::open(&args.state_dir)?;
    let mut sigint = signal(SignalKind::interrupt()).map_err(UpError::Signals)?;
    let mut sigterm = signal(SignalKind::terminate()).map_err(UpError::Signals)?;
    let verbosity = if args.verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Quiet
    };
    let (mut sup, mut exits) = Supervisor::new(verbosity);

    let started = tokio::select! {
        world = bring_up(&mut sup, &bins, &state, &args) => world.map(Some),
        _ = sigint.recv() => Ok(None),
        _ = sigterm.recv() => Ok(None),
        exit = exits.recv() => Err(died(exit)),
    };
    let outcome = match started {
        Ok(Some(world)) => {
            print_summary(&world, &state);
            loop {
                tokio::select! {
                    _ = sigint.recv() => break Ok(()),
                    _ = sigterm.recv() => break Ok(()),
                    exit = exits.recv() => match exit {
                        // A cluster goes on without one node: report it, keep the world up.
                        Some(exit) if exit.name.starts_with("origin-") => {
                            eprintln!(
                                "{} exited; the origin cluster goes on with the other nodes",
                                exit.name
                            );
                        }
                        // Viewers are steered to the other edge, as a real fleet would do.
                        Some(exit) if EDGES.iter().any(|(id, ..)| *id == exit.name) => {
                            eprintln!(
                                "{} exited; viewers are steered to the other edges",
                                exit.name
                            );
                        }
                        other => break Err(died(other)),
                    },
                }
            }
        }
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    };
    stop(&sup, &mut exits).await;
    outcome
}

async fn stop(sup: &Supervisor, exits: &mut ExitEvents) {
    eprintln!("stopping services…");
    let killed = sup.shutdown(exits, STOP_GRACE).await;
    if !killed.is_empty() {
        eprintln!(
            "killed after {} s without stopping: {}",
            STOP_GRACE.as_secs(),
            killed.join(", ")
        );
    }
}

fn died(exit: Option<crate::children::Exit>) -> UpError {
    match exit {
        Some(exit) => UpError::ChildDied {
            name: exit.name,
            status: match exit.status {
                Ok(status) => status.to_string(),
                Err(e) => format!("wait failed: {e}"),
            },
        },
        None => UpError::ChildDied {
            name: "a service".into(),
            status: "unknown".into(),
        },
    }
}

async fn bring_up(
    sup: &mut Supervisor,
    bins: &Binaries,
    state: &StateDir,
    args: &UpArgs,
) -> Result<World, UpError> {
    let http = reqwest::Client::new();
    let pki = LocalPki::prepare(state)?;
    let operator = pki.issue(Service::Operator, OPERATOR_ID)?;
    let cp_http = control_plane_client(&operator)?;
    let mut cp_args = os_args(&[
        "--listen",
        "127.0.0.1:0",
        "--region-prefix",
        "127.0.0.0/8=eu-west",
        "--default-region",
        "eu-west",
        "--state-dir",
    ]);
    cp_args.push(state.root().join("control-plane").into_os_string());
    cp_args.extend(tls_flags(&pki.issue(Service::ControlPlane, "local")?));
    let cp = sup
        .spawn(ServiceSpec {
            name: "control-plane".into(),
            program: bins.control_plane.clone(),
            args: cp_args,
            handshake: Some(binaries::CONTROL_PLANE.into()),
        })
        .await?;
    let cp_url = cp.url.unwrap_or_default();
    wait_healthy(&cp_http, "control-plane", &cp_url).await?;
    // `marquee edge list|drain` find the local world's control-plane here.
    let url_file = state.control_plane_url_file();
    std::fs::write(&url_file, format!("{cp_url}\n")).map_err(|source| UpError::Write {
        path: url_file,
        source,
    })?;

    let inbox = match crate::mail::find_maildev() {
        Some(bin) => Some(crate::mail::start(sup, bin, &state.root().join("mail")).await?),
        None => {
            eprintln!(
                "warning: MailDev is not installed (deploy/mail); notifications stay in the app. \
                 Install it with: npm ci --prefix deploy/mail"
            );
            None
        }
    };
    let mail = inbox.as_ref().map(|i| i.smtp_url.as_str());

    let (origin_url, origin_nodes, services) = if args.origin_nodes > 1 {
        let started = start_origin_cluster(sup, bins, state, &pki, args, &cp_url, mail).await?;
        let (nodes, services): (Vec<String>, Vec<String>) = started.into_iter().unzip();
        for (i, url) in nodes.iter().enumerate() {
            wait_healthy(&http, &format!("origin-{}", i + 1), url).await?;
        }
        let listen = SocketAddr::from(([127, 0, 0, 1], args.port));
        let front = crate::front::start(listen, nodes.clone())
            .await
            .map_err(UpError::Port)?;
        (front, nodes, services)
    } else {
        let (url, services) = start_origin(sup, bins, state, &pki, args, &cp_url, mail).await?;
        wait_healthy(&http, "origin", &url).await?;
        (url.clone(), vec![url], vec![services])
    };
    let public_key = read_public_key(state).await?;

    let mut edges = Vec::new();
    for (id, region, address) in EDGES {
        let edge = start_edge(
            sup,
            bins,
            state,
            &pki,
            (id, region, address),
            &services,
            &cp_url,
            &public_key,
        )
        .await?;
        wait_healthy(&http, id, &edge.url).await?;
        edges.push(edge);
    }

    let api = Api::new(&origin_url)?;
    ensure_admin(&api, state).await?;
    let seeded = if args.no_seed {
        None
    } else {
        println!("seeding the demo catalogue ({} titles)…", DEMO_TITLES.len());
        Some(seed::seed(&api, state, DEMO_TITLES, CLIP_SECONDS).await?)
    };
    Ok(World {
        origin_url,
        origin_nodes: if args.origin_nodes > 1 {
            origin_nodes
        } else {
            Vec::new()
        },
        control_plane_url: cp_url,
        edges,
        seeded,
        inbox: inbox.map(|i| i.web_url),
    })
}

async fn start_origin(
    sup: &mut Supervisor,
    bins: &Binaries,
    state: &StateDir,
    pki: &LocalPki,
    args: &UpArgs,
    cp_url: &str,
    mail: Option<&str>,
) -> Result<(String, String), UpError> {
    let mut argv = origin_args(args, cp_url, args.port, &state.origin_dir(), mail);
    argv.extend(tls_flags(&pki.issue(Service::Origin, "origin-1")?));
    let services = services_listener(&mut argv)?;
    argv.push("--country-prefixes".into());
    argv.push(state.country_prefixes()?.into_os_string());
    let origin = sup
        .spawn(ServiceSpec {
            name: "origin".into(),
            program: bins.origin.clone(),
            args: argv,
            handshake: Some(binaries::ORIGIN.into()),
        })
        .await?;
    Ok((origin.url.unwrap_or_default(), services))
}

/// Adds `--internal-listen` on a free loopback port: the mutual-TLS listener edges fill from.
/// Returns its URL as edges' `--origin` takes it.
fn services_listener(argv: &mut Vec<OsString>) -> Result<String, UpError> {
    let port = free_port().map_err(UpError::Port)?;
    argv.extend(os_args(&[
        "--internal-listen",
        &format!("127.0.0.1:{port}"),
    ]));
    Ok(format!("https://127.0.0.1:{port}"))
}

/// Starts `--origin-nodes` origin nodes as one cluster: node 1 forms it (on a fresh state),
/// the others join it; every node signs playback tokens with node 1's key. Returns each node's
/// API URL and services URL. On a restart the nodes find each other on the Raft ports kept in the state dir.
async fn start_origin_cluster(
    sup: &mut Supervisor,
    bins: &Binaries,
    state: &StateDir,
    pki: &LocalPki,
    args: &UpArgs,
    cp_url: &str,
    mail: Option<&str>,
) -> Result<Vec<(String, String)>, UpError> {
    let secret = state.cluster_secret()?;
    let raft_ports = state.cluster_ports(args.origin_nodes)?;
    let first_raft = format!("127.0.0.1:{}", raft_ports[0]);
    let mut urls = Vec::new();
    for (i, raft_port) in raft_ports.iter().enumerate() {
        let n = i as u32 + 1;
        let dir = state.origin_node_dir(n);
        let mut argv = origin_args(args, cp_url, 0, &dir, mail);
        argv.extend(tls_flags(
            &pki.issue(Service::Origin, &format!("origin-{n}"))?,
        ));
        argv.push("--country-prefixes".into());
        argv.push(state.country_prefixes()?.into_os_string());
        let services = services_listener(&mut argv)?;
        argv.extend(os_args(&[
            "--node-id",
            &n.to_string(),
            "--cluster-listen",
            &format!("127.0.0.1:{raft_port}"),
            "--cluster-secret-file",
        ]));
        argv.push(secret.clone().into_os_string());
        if n == 1 {
            argv.push("--bootstrap".into());
        } else {
            argv.extend(os_args(&["--join", &first_raft, "--token-key-file"]));
            argv.push(state.origin_dir().join("token-key.pk8").into_os_string());
        }
        let node = sup
            .spawn(ServiceSpec {
                name: format!("origin-{n}"),
                program: bins.origin.clone(),
                args: argv,
                handshake: Some(binaries::ORIGIN.into()),
            })
            .await?;
        urls.push((node.url.unwrap_or_default(), services));
    }
    Ok(urls)
}

/// Flags every origin node gets: where it listens, its data dir, the control-plane, the admin,
/// the web app, the token lifetime, and the mail server with the address links in emails use.
fn origin_args(
    args: &UpArgs,
    cp_url: &str,
    port: u16,
    data_dir: &std::path::Path,
    mail: Option<&str>,
) -> Vec<OsString> {
    let mut argv = os_args(&["--listen", &format!("127.0.0.1:{port}")]);
    argv.extend(os_args(&["--data-dir"]));
    argv.push(data_dir.as_os_str().to_owned());
    argv.extend(os_args(&[
        "--control-plane",
        cp_url,
        "--admin-email",
        ADMIN_EMAIL,
        // The local world's money is the sandbox's (test cards only), and its billing clock may
        // move: tests live through renewals in seconds.
        "--billing-test-clock",
    ]));
    match binaries::find_web_dir(args.web_dir.as_deref()) {
        Some(dir) => {
            argv.push("--web-dir".into());
            argv.push(dir.into_os_string());
        }
        None => eprintln!(
            "warning: the web app is not built (origin/web/dist); origin serves the API only. \
             Build it with: npm ci --prefix origin/web && npm run build --prefix origin/web"
        ),
    }
    if let Some(ttl) = args.token_ttl_secs {
        argv.extend(os_args(&["--token-ttl-secs", &ttl.to_string()]));
    }
    if let Some(smtp) = mail {
        argv.extend(os_args(&["--smtp-url", smtp]));
        // With a fixed port the viewer's address is known now; with port 0, origin's own is it.
        if args.port != 0 {
            argv.extend(os_args(&[
                "--viewer-url",
                &format!("http://127.0.0.1:{}", args.port),
            ]));
        }
    }
    argv
}

#[allow(clippy::too_many_arguments)]
async fn start_edge(
    sup: &mut Supervisor,
    bins: &Binaries,
    state: &StateDir,
    pki: &LocalPki,
    (id, region, address): (&str, &str, Ipv4Addr),
    origin_services: &[String],
    cp_url: &str,
    public_key: &str,
) -> Result<RunningEdge, UpError> {
    let port = free_port_on(address).map_err(UpError::Port)?;
    let tls_port = free_port().map_err(UpError::Port)?;
    let listen = format!("{address}:{port}");
    let tls_listen = format!("127.0.0.1:{tls_port}");
    let url = format!("http://{listen}");
    // An address, not `localhost`: Chromium tries QUIC on the first address a name resolves to
    // (::1 here), where nothing listens, and gives up rather than trying 127.0.0.1.
    let https_url = format!("https://{tls_listen}");
    let mut argv = os_args(&[
        "--listen",
        &listen,
        "--tls-listen",
        &tls_listen,
        "--origin",
        &origin_services.join(","),
        "--control-plane",
        cp_url,
        "--edge-id",
        id,
        "--region",
        region,
        "--public-url",
        &url,
        "--public-https-url",
        &https_url,
        "--token-public-key",
        public_key,
        // A laptop-sized cache: the demo catalogue is a few hundred MB at most.
        "--cache-memory-mb",
        "128",
        "--cache-disk-mb",
        "512",
        "--cache-dir",
    ]);
    argv.push(state.edge_cache_dir(id).into_os_string());
    argv.extend(tls_flags(&pki.issue(Service::Edge, id)?));
    sup.spawn(ServiceSpec {
        name: id.into(),
        program: bins.edge.clone(),
        args: argv,
        handshake: None,
    })
    .await?;
    Ok(RunningEdge {
        id: id.into(),
        region: region.into(),
        url,
        https_url,
    })
}

/// Polls `GET {url}/healthz` until it answers 200.
async fn wait_healthy(http: &reqwest::Client, name: &str, url: &str) -> Result<(), UpError> {
    let deadline = tokio::time::Instant::now() + HEALTH_TIMEOUT;
    let health = format!("{url}/healthz");
    while tokio::time::Instant::now() < deadline {
        let answer = http
            .get(&health)
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        if answer.is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    Err(UpError::Unhealthy {
        name: name.into(),
        url: url.into(),
    })
}

/// Origin writes `<data-dir>/token-public-key` (`kid=base64url`) at start.
async fn read_public_key(state: &StateDir) -> Result<String, UpError> {
    let path = state.token_public_key_file();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(text) = tokio::fs::read_to_string(&path).await {
            let key = text.trim();
            if key.contains('=') {
                return Ok(key.to_string());
            }
        }
        if tokio::time::Instant::now() > deadline {
            return Err(UpError::NoPublicKey { path });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Signs the admin in, creating the account on first run.
async fn ensure_admin(api: &Api, state: &StateDir) -> Result<(), UpError> {
    let (password, _) = state.admin_password()?;
    let account = match api.sign_in(ADMIN_EMAIL, &password).await {
        Ok(account) => account,
        Err(e) if e.status().is_some_and(|s| s.as_u16() == 401) => {
            match api.register(ADMIN_EMAIL, &password).await {
                Ok(account) => account,
                Err(e) if e.status().is_some_and(|s| s.as_u16() == 409) => {
                    return Err(UpError::AdminPasswordMismatch {
                        email: ADMIN_EMAIL.into(),
                        path: state.admin_password_file(),
                    });
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => return Err(e.into()),
    };
    if !account.is_admin {
        return Err(UpError::NotAdmin {
            email: account.email,
        });
    }
    Ok(())
}

fn print_summary(world: &World, state: &StateDir) {
    if let Some(report) = world.seeded {
        println!(
            "demo catalogue: {} created, {} uploaded, {} already ready",
            report.created, report.uploaded, report.already_ready
        );
    }
    println!("Marquee is up: {}", world.origin_url);
    for (i, url) in world.origin_nodes.iter().enumerate() {
        println!("  origin node {}: {url}", i + 1);
    }
    println!(
        "  admin: {ADMIN_EMAIL} (password in {})",
        state.admin_password_file().display()
    );
    if let Some(inbox) = &world.inbox {
        println!("  inbox: {inbox} (notification emails)");
    }
    println!("  control-plane: {}", world.control_plane_url);
    for edge in &world.edges {
        println!(
            "  edge {} ({}): {} (HTTPS and HTTP/3: {}; the app and API through it too)",
            edge.id, edge.region, edge.url, edge.https_url
        );
    }
    println!(
        "  CA: {} (trust it to use the HTTPS addresses; see the README)",
        state.root().join("ca").join("ca.pem").display()
    );
    println!("  state: {}", state.root().display());
    println!("Press Ctrl-C to stop.");
}

fn os_args(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}
