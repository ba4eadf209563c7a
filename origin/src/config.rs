//! Origin configuration: one struct, defaults in one place, precedence file < env < CLI.
//!
//! Every field can come from a TOML file (`--config`), an env var `MARQUEE_ORIGIN_<FLAG>`, or
//! a flag. clap merges env and CLI; the file fills whatever both left unset.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Parser;
use serde::Deserialize;

/// Command line (and env) of `marquee-origin`. Unset options fall back to the config file,
/// then to the defaults in [`Config`].
#[derive(Debug, Default, Parser)]
#[command(
    name = "marquee-origin",
    version,
    about = "Marquee origin: API, catalogue, packaging, media"
)]
pub struct Cli {
    /// TOML file with any of the settings below (snake_case keys); env and flags override it.
    #[arg(long, env = "MARQUEE_ORIGIN_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on (port 0 picks a free port) [default: 127.0.0.1:8080].
    #[arg(long, env = "MARQUEE_ORIGIN_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Directory for the replicated store, blobs and keys; created if absent [default: marquee-origin-data].
    #[arg(long, env = "MARQUEE_ORIGIN_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Control-plane base URL used to steer playback to edges, e.g. https://127.0.0.1:7000
    /// (mutual TLS: needs --tls-cert, --tls-key and --tls-ca).
    #[arg(long, env = "MARQUEE_ORIGIN_CONTROL_PLANE")]
    pub control_plane: Option<String>,
    /// This node's certificate (PEM), issued by `marquee ca issue --service origin`; origin
    /// presents it to the control-plane.
    #[arg(long, env = "MARQUEE_ORIGIN_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, env = "MARQUEE_ORIGIN_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// The deployment CA (PEM): the control-plane must hold a certificate it issued.
    #[arg(long, env = "MARQUEE_ORIGIN_TLS_CA")]
    pub tls_ca: Option<PathBuf>,
    /// Address of the services' listener: the same API and media over mutual TLS, for edges
    /// filling their caches and other Marquee services (needs --tls-cert, --tls-key, --tls-ca;
    /// port 0 picks a free port). Without it, edges fill over the public listener.
    #[arg(long, env = "MARQUEE_ORIGIN_INTERNAL_LISTEN")]
    pub internal_listen: Option<SocketAddr>,
    /// Built web app to serve, with SPA fallback to index.html [default: origin/web/dist].
    #[arg(long, env = "MARQUEE_ORIGIN_WEB_DIR")]
    pub web_dir: Option<PathBuf>,
    /// Accounts signing up with this email are admins (repeatable; env: comma-separated).
    #[arg(
        long = "admin-email",
        env = "MARQUEE_ORIGIN_ADMIN_EMAIL",
        value_delimiter = ','
    )]
    pub admin_emails: Vec<String>,
    /// Ed25519 PKCS#8 playback-token signing key; generated on first start if absent
    /// [default: <data-dir>/token-key.pk8].
    #[arg(long, env = "MARQUEE_ORIGIN_TOKEN_KEY_FILE")]
    pub token_key_file: Option<PathBuf>,
    /// Key id put in playback tokens [default: k1].
    #[arg(long, env = "MARQUEE_ORIGIN_TOKEN_KID")]
    pub token_kid: Option<String>,
    /// Lifetime of a playback token in seconds [default: 21600].
    #[arg(long, env = "MARQUEE_ORIGIN_TOKEN_TTL_SECS")]
    pub token_ttl_secs: Option<u64>,
    /// URL other nodes and edges use to reach this origin [default: http://<listen address>].
    #[arg(long, env = "MARQUEE_ORIGIN_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Raft node id of this origin (never reuse one) [default: 1].
    #[arg(long, env = "MARQUEE_ORIGIN_NODE_ID")]
    pub node_id: Option<u64>,
    /// Largest accepted video upload in bytes [default: 53687091200 (50 GiB)].
    #[arg(long, env = "MARQUEE_ORIGIN_MAX_UPLOAD_BYTES")]
    pub max_upload_bytes: Option<u64>,
    /// Seconds to let in-flight requests finish on SIGINT/SIGTERM [default: 10].
    #[arg(long, env = "MARQUEE_ORIGIN_DRAIN_TIMEOUT_SECS")]
    pub drain_timeout_secs: Option<u64>,
    /// Writes and uploads are refused (507) while less than this much disk is free on the
    /// data dir, so the Raft log and state never meet a full disk [default: 256].
    #[arg(long, env = "MARQUEE_ORIGIN_MIN_FREE_DISK_MB")]
    pub min_free_disk_mb: Option<u64>,
    /// Seconds a packaging worker's claim on a job lasts without renewal; after that another
    /// node takes the job over [default: 30].
    #[arg(long, env = "MARQUEE_ORIGIN_JOB_LEASE_SECS")]
    pub job_lease_secs: Option<u64>,
    /// Build a Raft snapshot (and compact the log behind it) after this many log entries. The
    /// state is on disk anyway; snapshots bound the log and feed new or lagging nodes
    /// [default: 100000].
    #[arg(long, env = "MARQUEE_ORIGIN_SNAPSHOT_EVERY")]
    pub snapshot_every: Option<u64>,
    /// Longest a follower waits without hearing from the leader before it stands for election
    /// (same on every node). Failover takes about 2-4 times this. Lower it only on dedicated
    /// hosts: a node that stalls this long causes an election [default: 200].
    #[arg(long, env = "MARQUEE_ORIGIN_ELECTION_TIMEOUT_MS")]
    pub election_timeout_ms: Option<u64>,
    /// Threads running the node's async work. Lower it when several nodes share a host's cores
    /// (a test bed, the benchmarks): idle threads woken for each message cost more than they
    /// bring [default: one per core].
    #[arg(long, env = "MARQUEE_ORIGIN_WORKER_THREADS")]
    pub worker_threads: Option<usize>,
    /// How long playback progress reports wait to be written together as one Raft entry (the
    /// latest per viewer and video wins). 0 writes each report as a command of its own, the
    /// benchmarks' baseline [default: 5].
    #[arg(long, env = "MARQUEE_ORIGIN_PROGRESS_WINDOW_MS")]
    pub progress_window_ms: Option<u64>,
    /// Retrain recommendations at most this often, when anything changed [default: 60].
    #[arg(long, env = "MARQUEE_ORIGIN_RECOMMEND_EVERY_SECS")]
    pub recommend_every_secs: Option<u64>,
    /// Send notification emails through this SMTP server: smtp://host:port (plain, for a
    /// local relay), smtp://host:587?tls=required (STARTTLS) or smtps://host:465, with the
    /// user name in the URL (smtp://user@host) and the password in --smtp-password-file.
    /// Without it, notifications stay in the app.
    #[arg(long, env = "MARQUEE_ORIGIN_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// File holding the SMTP password (a file, so it never shows in `ps`).
    #[arg(long, env = "MARQUEE_ORIGIN_SMTP_PASSWORD_FILE")]
    pub smtp_password_file: Option<PathBuf>,
    /// Who notification emails come from [default: Marquee <no-reply@marquee.local>].
    #[arg(long, env = "MARQUEE_ORIGIN_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// The address viewers open the web app at, for links in emails
    /// [default: --public-url].
    #[arg(long, env = "MARQUEE_ORIGIN_VIEWER_URL")]
    pub viewer_url: Option<String>,
    /// TOML file mapping client address prefixes to countries ("203.0.113.0/24" = "NZ"; the
    /// longest prefix wins), for "Top 10 in <country> today". Without it charts are global.
    #[arg(long, env = "MARQUEE_ORIGIN_COUNTRY_PREFIXES")]
    pub country_prefixes: Option<PathBuf>,
    /// How often each profile gets its picks digest [default: 604800, a week].
    #[arg(long, env = "MARQUEE_ORIGIN_DIGEST_EVERY_SECS")]
    pub digest_every_secs: Option<u64>,
    /// Keep blobs (uploads, posters, packages) in this S3 bucket instead of <data-dir>/blobs;
    /// every node of a cluster then shares them.
    #[arg(long, env = "MARQUEE_ORIGIN_S3_BUCKET")]
    pub s3_bucket: Option<String>,
    /// S3-compatible endpoint, e.g. https://s3.eu-west-1.amazonaws.com or http://127.0.0.1:9000
    /// [default: AWS for --s3-region].
    #[arg(long, env = "MARQUEE_ORIGIN_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// S3 region [default: us-east-1].
    #[arg(long, env = "MARQUEE_ORIGIN_S3_REGION")]
    pub s3_region: Option<String>,
    /// S3 access key id.
    #[arg(long, env = "MARQUEE_ORIGIN_S3_ACCESS_KEY_ID")]
    pub s3_access_key_id: Option<String>,
    /// File holding the S3 secret access key (a file, so it never shows in `ps`).
    #[arg(long, env = "MARQUEE_ORIGIN_S3_SECRET_KEY_FILE")]
    pub s3_secret_key_file: Option<PathBuf>,
    /// Broken on purpose, for the fault tests only: serve guarded reads from local state.
    #[arg(long, hide = true)]
    pub unsafe_local_reads: bool,
    /// Run as a member of a multi-node cluster: the address of this node's Raft RPC listener,
    /// kept apart from the public one (port 0 picks a free port). Without it the node is a
    /// cluster of one.
    #[arg(long, env = "MARQUEE_ORIGIN_CLUSTER_LISTEN")]
    pub cluster_listen: Option<SocketAddr>,
    /// Address other members use to reach this node's Raft RPC listener; with --tls-cert the
    /// members speak mutual TLS and a bare HOST:PORT means https
    /// [default: http(s)://<cluster listen address>].
    #[arg(long, env = "MARQUEE_ORIGIN_CLUSTER_ADVERTISE")]
    pub cluster_advertise: Option<String>,
    /// File holding the cluster secret (at least 16 characters) every member shares; needed
    /// with --cluster-listen. A file, so the secret never shows in `ps` or shell history.
    #[arg(long, env = "MARQUEE_ORIGIN_CLUSTER_SECRET_FILE")]
    pub cluster_secret_file: Option<PathBuf>,
    /// Form a new cluster with this node as its first member (once, on an empty data dir).
    #[arg(long, env = "MARQUEE_ORIGIN_BOOTSTRAP")]
    pub bootstrap: bool,
    /// Join the cluster that the member at this Raft RPC address belongs to (on an empty data
    /// dir; a node that is already a member ignores it).
    #[arg(long, env = "MARQUEE_ORIGIN_JOIN")]
    pub join: Option<String>,
    /// Let admins move the billing clock forward (POST /api/v1/admin/billing/clock): for test
    /// deployments only, never with real money.
    #[arg(long, env = "MARQUEE_ORIGIN_BILLING_TEST_CLOCK")]
    pub billing_test_clock: bool,
    /// Where payments go: `sandbox` (test cards only; the default) or `stripe`.
    #[arg(long, env = "MARQUEE_ORIGIN_BILLING_GATEWAY")]
    pub billing_gateway: Option<String>,
    /// Stripe's API address (default https://api.stripe.com).
    #[arg(long, env = "MARQUEE_ORIGIN_STRIPE_API_URL")]
    pub stripe_api_url: Option<String>,
    /// File holding the Stripe secret key (`sk_…`).
    #[arg(long, env = "MARQUEE_ORIGIN_STRIPE_SECRET_KEY_FILE")]
    pub stripe_secret_key_file: Option<PathBuf>,
    /// File holding the Stripe webhook endpoint's signing secret (`whsec_…`).
    #[arg(long, env = "MARQUEE_ORIGIN_STRIPE_WEBHOOK_SECRET_FILE")]
    pub stripe_webhook_secret_file: Option<PathBuf>,
    /// Play without a subscription (a private or demo deployment); by default playback needs
    /// an active plan.
    #[arg(long, env = "MARQUEE_ORIGIN_PLAYBACK_WITHOUT_SUBSCRIPTION")]
    pub playback_without_subscription: bool,
}

/// The `--config` file: the same settings, all optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub control_plane: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub tls_ca: Option<PathBuf>,
    pub internal_listen: Option<SocketAddr>,
    pub web_dir: Option<PathBuf>,
    pub admin_emails: Option<Vec<String>>,
    pub token_key_file: Option<PathBuf>,
    pub token_kid: Option<String>,
    pub token_ttl_secs: Option<u64>,
    pub public_url: Option<String>,
    pub node_id: Option<u64>,
    pub max_upload_bytes: Option<u64>,
    pub drain_timeout_secs: Option<u64>,
    pub job_lease_secs: Option<u64>,
    pub snapshot_every: Option<u64>,
    pub election_timeout_ms: Option<u64>,
    pub worker_threads: Option<usize>,
    pub progress_window_ms: Option<u64>,
    pub recommend_every_secs: Option<u64>,
    pub min_free_disk_mb: Option<u64>,
    pub smtp_url: Option<String>,
    pub smtp_password_file: Option<PathBuf>,
    pub mail_from: Option<String>,
    pub viewer_url: Option<String>,
    pub digest_every_secs: Option<u64>,
    pub country_prefixes: Option<PathBuf>,
    pub cluster: Option<FileCluster>,
    pub s3: Option<FileS3>,
    pub billing: Option<FileBilling>,
}

/// The `[billing]` table of the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileBilling {
    /// `sandbox` (the default, test cards only) or `stripe`.
    pub gateway: Option<String>,
    pub test_clock: Option<bool>,
    pub require_subscription: Option<bool>,
    pub stripe: Option<FileStripe>,
}

/// The `[billing.stripe]` table of the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileStripe {
    pub api_url: Option<String>,
    pub secret_key_file: Option<PathBuf>,
    pub webhook_secret_file: Option<PathBuf>,
}

/// How viewers pay.
#[derive(Debug, Clone, PartialEq)]
pub struct BillingConfig {
    pub gateway: GatewayKind,
    /// Admins may move the billing clock (tests).
    pub test_clock: bool,
    /// Playback needs an active subscription (admins excepted).
    pub require_subscription: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayKind {
    Sandbox,
    Stripe(StripeConfig),
}

/// Stripe's address and where its two secrets are (read at start, never printed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeConfig {
    pub api_url: String,
    pub secret_key_file: PathBuf,
    pub webhook_secret_file: PathBuf,
}

/// The `[cluster]` table of the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileCluster {
    pub listen: Option<SocketAddr>,
    pub advertise: Option<String>,
    pub secret_file: Option<PathBuf>,
    #[serde(default)]
    pub bootstrap: bool,
    pub join: Option<String>,
}

/// The `[s3]` table of the config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileS3 {
    pub bucket: Option<String>,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_key_file: Option<PathBuf>,
}

/// Where blobs live when not on the local disk.
#[derive(Debug, Clone, PartialEq)]
pub struct S3Config {
    pub bucket: String,
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: String,
    pub secret_key_file: PathBuf,
}

/// How this node takes part in a multi-node cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterConfig {
    pub listen: SocketAddr,
    pub advertise: Option<String>,
    pub secret_file: PathBuf,
    pub bootstrap: bool,
    pub join: Option<String>,
}

/// The resolved settings the origin runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub control_plane: Option<String>,
    /// This node's certificate, key and the deployment CA (for the control-plane).
    pub tls: Option<marquee_tls::TlsFiles>,
    /// The mutual-TLS listener for edges and other services.
    pub internal_listen: Option<SocketAddr>,
    pub web_dir: PathBuf,
    /// Normalised (lowercase) admin emails.
    pub admin_emails: Vec<String>,
    pub token_key_file: PathBuf,
    pub token_kid: String,
    pub token_ttl_secs: u64,
    pub public_url: Option<String>,
    pub node_id: u64,
    pub max_upload_bytes: u64,
    pub drain_timeout_secs: u64,
    pub job_lease_secs: u64,
    pub snapshot_every: u64,
    pub election_timeout_ms: u64,
    /// `None`: one per core.
    pub worker_threads: Option<usize>,
    /// Group commit's window for progress reports; 0 writes each on its own.
    pub progress_window_ms: u64,
    /// Shortest time between two trainings of the recommendations.
    pub recommend_every_secs: u64,
    pub min_free_disk_mb: u64,
    pub unsafe_local_reads: bool,
    /// `None`: blobs on the local disk under `<data-dir>/blobs`.
    pub s3: Option<S3Config>,
    /// `None`: no email, notifications stay in the app.
    pub mail: Option<MailConfig>,
    /// Where links in emails lead (the web app's address).
    pub viewer_url: Option<String>,
    pub digest_every_secs: u64,
    /// Address prefixes → countries (`None`: every viewer is in no known country).
    pub country_prefixes: Option<PathBuf>,
    /// `None`: a cluster of one (the embedded default).
    pub cluster: Option<ClusterConfig>,
    pub billing: BillingConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    /// Resolves CLI/env over the config file over the defaults, then validates.
    pub fn resolve(cli: Cli) -> Result<Self, ConfigError> {
        let file = match &cli.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let cluster = resolve_cluster(&cli, file.cluster.unwrap_or_default())?;
        let s3 = resolve_s3(&cli, file.s3.unwrap_or_default())?;
        let billing = resolve_billing(&cli, file.billing.unwrap_or_default())?;
        let mail = MailConfig::resolve(
            cli.smtp_url.clone().or(file.smtp_url),
            cli.smtp_password_file.clone().or(file.smtp_password_file),
            cli.mail_from.clone().or(file.mail_from),
        )?;
        let viewer_url = (cli.viewer_url.clone().or(file.viewer_url))
            .or_else(|| cli.public_url.clone())
            .or_else(|| file.public_url.clone())
            .map(|u| u.trim_end_matches('/').to_owned());
        let data_dir = cli
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| "marquee-origin-data".into());
        let admin = if cli.admin_emails.is_empty() {
            file.admin_emails.unwrap_or_default()
        } else {
            cli.admin_emails
        };
        let config = Self {
            cluster,
            s3,
            billing,
            mail,
            viewer_url,
            country_prefixes: cli.country_prefixes.clone().or(file.country_prefixes),
            digest_every_secs: cli
                .digest_every_secs
                .or(file.digest_every_secs)
                .unwrap_or(604_800)
                .max(1),
            unsafe_local_reads: cli.unsafe_local_reads,
            job_lease_secs: cli.job_lease_secs.or(file.job_lease_secs).unwrap_or(30),
            snapshot_every: cli
                .snapshot_every
                .or(file.snapshot_every)
                .unwrap_or(crate::raft::Options::default().snapshot_every),
            election_timeout_ms: cli
                .election_timeout_ms
                .or(file.election_timeout_ms)
                .unwrap_or(crate::raft::Options::default().election_timeout_ms),
            worker_threads: cli.worker_threads.or(file.worker_threads),
            progress_window_ms: cli
                .progress_window_ms
                .or(file.progress_window_ms)
                .unwrap_or(crate::raft::group_commit::DEFAULT_WINDOW.as_millis() as u64),
            recommend_every_secs: cli
                .recommend_every_secs
                .or(file.recommend_every_secs)
                .unwrap_or(60)
                .max(1),
            min_free_disk_mb: cli
                .min_free_disk_mb
                .or(file.min_free_disk_mb)
                .unwrap_or(256),
            listen: cli
                .listen
                .or(file.listen)
                .unwrap_or_else(|| ([127, 0, 0, 1], 8080).into()),
            token_key_file: cli
                .token_key_file
                .or(file.token_key_file)
                .unwrap_or_else(|| data_dir.join("token-key.pk8")),
            data_dir,
            control_plane: cli
                .control_plane
                .or(file.control_plane)
                .map(|u| u.trim_end_matches('/').to_owned()),
            tls: match (
                cli.tls_cert.or(file.tls_cert),
                cli.tls_key.or(file.tls_key),
                cli.tls_ca.or(file.tls_ca),
            ) {
                (Some(cert), Some(key), Some(ca)) => Some(marquee_tls::TlsFiles { cert, key, ca }),
                (None, None, None) => None,
                _ => {
                    return Err(ConfigError::Invalid(
                        "--tls-cert, --tls-key and --tls-ca go together: give all three".into(),
                    ));
                }
            },
            internal_listen: cli.internal_listen.or(file.internal_listen),
            web_dir: cli
                .web_dir
                .or(file.web_dir)
                .unwrap_or_else(|| "origin/web/dist".into()),
            admin_emails: admin
                .iter()
                .map(|e| e.trim().to_lowercase())
                .filter(|e| !e.is_empty())
                .collect(),
            token_kid: cli
                .token_kid
                .or(file.token_kid)
                .unwrap_or_else(|| "k1".into()),
            token_ttl_secs: cli.token_ttl_secs.or(file.token_ttl_secs).unwrap_or(21_600),
            public_url: cli
                .public_url
                .or(file.public_url)
                .map(|u| u.trim_end_matches('/').to_owned()),
            node_id: cli.node_id.or(file.node_id).unwrap_or(1),
            max_upload_bytes: cli
                .max_upload_bytes
                .or(file.max_upload_bytes)
                .unwrap_or(50 << 30),
            drain_timeout_secs: cli
                .drain_timeout_secs
                .or(file.drain_timeout_secs)
                .unwrap_or(10),
        };
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        if self.token_kid.is_empty() || self.token_kid.contains('=') {
            return bad("--token-kid must be non-empty and contain no '='");
        }
        if self.token_ttl_secs == 0 {
            return bad("--token-ttl-secs must be positive");
        }
        if self.node_id == 0 {
            return bad("--node-id must be positive");
        }
        if self.job_lease_secs < 3 {
            return bad("--job-lease-secs must be at least 3");
        }
        if self.snapshot_every < 10 {
            return bad("--snapshot-every must be at least 10");
        }
        if !(40..=60_000).contains(&self.election_timeout_ms) {
            return bad("--election-timeout-ms must be between 40 and 60000");
        }
        if self
            .worker_threads
            .is_some_and(|n| !(1..=1024).contains(&n))
        {
            return bad("--worker-threads must be between 1 and 1024");
        }
        if self.max_upload_bytes == 0 {
            return bad("--max-upload-bytes must be positive");
        }
        if self.internal_listen.is_some() && self.tls.is_none() {
            return bad(
                "--internal-listen serves mutual TLS: pass --tls-cert, --tls-key and --tls-ca too",
            );
        }
        if let Some(cp) = &self.control_plane {
            if !cp.starts_with("https://") {
                return bad(
                    "--control-plane must be an https:// URL: the control-plane speaks mutual TLS only",
                );
            }
            if self.tls.is_none() {
                return bad(
                    "--control-plane needs this node's certificate: pass --tls-cert, --tls-key and --tls-ca (issue them with `marquee ca issue --service origin --id ID --host HOST`)",
                );
            }
        }
        if let Some(e) = self
            .admin_emails
            .iter()
            .find(|e| crate::accounts::auth::normalise_email(e).is_err())
        {
            return Err(ConfigError::Invalid(format!(
                "--admin-email {e:?} is not an email address"
            )));
        }
        Ok(())
    }

    pub fn blob_dir(&self) -> PathBuf {
        self.data_dir.join("blobs")
    }

    pub fn raft_dir(&self) -> PathBuf {
        self.data_dir.join("raft")
    }

    pub fn work_dir(&self) -> PathBuf {
        self.data_dir.join("work")
    }

    pub fn public_key_file(&self) -> PathBuf {
        self.data_dir.join("token-public-key")
    }
}

fn resolve_billing(cli: &Cli, file: FileBilling) -> Result<BillingConfig, ConfigError> {
    let stripe = file.stripe.unwrap_or_default();
    let chosen = cli.billing_gateway.clone().or(file.gateway);
    let gateway = match chosen.as_deref().unwrap_or("sandbox") {
        "sandbox" => GatewayKind::Sandbox,
        "stripe" => {
            let need = |value: Option<PathBuf>, flag: &str| {
                value.ok_or_else(|| {
                    ConfigError::Invalid(format!(
                        "the stripe gateway needs {flag} (or [billing.stripe] in the config file)"
                    ))
                })
            };
            GatewayKind::Stripe(StripeConfig {
                api_url: cli
                    .stripe_api_url
                    .clone()
                    .or(stripe.api_url)
                    .unwrap_or_else(|| crate::billing::stripe::API_URL.to_owned()),
                secret_key_file: need(
                    cli.stripe_secret_key_file
                        .clone()
                        .or(stripe.secret_key_file),
                    "--stripe-secret-key-file",
                )?,
                webhook_secret_file: need(
                    cli.stripe_webhook_secret_file
                        .clone()
                        .or(stripe.webhook_secret_file),
                    "--stripe-webhook-secret-file",
                )?,
            })
        }
        other => {
            return Err(ConfigError::Invalid(format!(
                "--billing-gateway {other:?} is not one Marquee knows; use sandbox or stripe"
            )));
        }
    };
    let test_clock = cli.billing_test_clock || file.test_clock.unwrap_or(false);
    if test_clock && matches!(gateway, GatewayKind::Stripe(_)) {
        return Err(ConfigError::Invalid(
            "--billing-test-clock moves the time money is charged at: use it with the sandbox gateway only"
                .into(),
        ));
    }
    Ok(BillingConfig {
        gateway,
        test_clock,
        require_subscription: !cli.playback_without_subscription
            && file.require_subscription.unwrap_or(true),
    })
}

/// How origin sends email. The password is read from its file at start and never printed.
#[derive(Clone, PartialEq)]
pub struct MailConfig {
    pub smtp_url: String,
    pub password: Option<String>,
    pub from: String,
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp_url", &self.smtp_url)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .finish()
    }
}

impl MailConfig {
    fn resolve(
        url: Option<String>,
        password_file: Option<PathBuf>,
        from: Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        let Some(url) = url else {
            return Ok(None);
        };
        let bad = |m: String| Err(ConfigError::Invalid(m));
        let parsed = match url::Url::parse(&url) {
            Ok(u) if ["smtp", "smtps"].contains(&u.scheme()) && u.host_str().is_some() => u,
            _ => {
                // The URL is not repeated: it might hold a password.
                return bad(
                    "--smtp-url must look like smtp://host:port or smtps://host:465".to_owned(),
                );
            }
        };
        if parsed.password().is_some() {
            return bad(
                "--smtp-url must not hold the password: put it in --smtp-password-file".into(),
            );
        }
        let password = match password_file {
            Some(path) => Some(
                std::fs::read_to_string(&path)
                    .map_err(|source| ConfigError::Read { path, source })?
                    .trim()
                    .to_owned(),
            ),
            None => None,
        };
        let from = from.unwrap_or_else(|| "Marquee <no-reply@marquee.local>".into());
        if from.parse::<lettre::message::Mailbox>().is_err() {
            return bad(format!(
                "--mail-from {from:?} is not an address such as \"Marquee <no-reply@example.com>\""
            ));
        }
        Ok(Some(Self {
            smtp_url: url,
            password,
            from,
        }))
    }
}

/// The S3 settings from flags over the `[s3]` table; `None` without a bucket.
fn resolve_s3(cli: &Cli, file: FileS3) -> Result<Option<S3Config>, ConfigError> {
    let bad = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
    let Some(bucket) = cli.s3_bucket.clone().or(file.bucket) else {
        return Ok(None);
    };
    let endpoint = cli
        .s3_endpoint
        .clone()
        .or(file.endpoint)
        .map(|e| e.trim_end_matches('/').to_owned());
    if endpoint
        .as_ref()
        .is_some_and(|e| !(e.starts_with("http://") || e.starts_with("https://")))
    {
        return bad("--s3-endpoint must be an http:// or https:// URL");
    }
    let Some(access_key_id) = cli.s3_access_key_id.clone().or(file.access_key_id) else {
        return bad("--s3-bucket needs --s3-access-key-id");
    };
    let Some(secret_key_file) = cli.s3_secret_key_file.clone().or(file.secret_key_file) else {
        return bad("--s3-bucket needs --s3-secret-key-file");
    };
    Ok(Some(S3Config {
        bucket,
        endpoint,
        region: cli
            .s3_region
            .clone()
            .or(file.region)
            .unwrap_or_else(|| "us-east-1".into()),
        access_key_id,
        secret_key_file,
    }))
}

/// The cluster settings from flags over the `[cluster]` table; `None` without a listener.
fn resolve_cluster(cli: &Cli, file: FileCluster) -> Result<Option<ClusterConfig>, ConfigError> {
    let bad = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
    let bootstrap = cli.bootstrap || file.bootstrap;
    let join = cli.join.clone().or(file.join);
    let Some(listen) = cli.cluster_listen.or(file.listen) else {
        if bootstrap || join.is_some() {
            return bad("--bootstrap and --join need --cluster-listen (the Raft RPC address)");
        }
        return Ok(None);
    };
    let Some(secret_file) = cli.cluster_secret_file.clone().or(file.secret_file) else {
        return bad(
            "--cluster-listen needs --cluster-secret-file (the secret every member shares)",
        );
    };
    if bootstrap && join.is_some() {
        return bad("--bootstrap forms a new cluster and --join enters an existing one: pick one");
    }
    Ok(Some(ClusterConfig {
        listen,
        advertise: cli
            .cluster_advertise
            .clone()
            .or(file.advertise)
            .map(|a| a.trim_end_matches('/').to_owned()),
        secret_file,
        bootstrap,
        join,
    }))
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_owned(),
        source: Box::new(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("marquee-origin").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn defaults_apply_with_no_config() {
        let c = Config::resolve(parse(&["--data-dir", "/d"])).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.token_key_file, PathBuf::from("/d/token-key.pk8"));
        assert_eq!(
            (c.token_kid.as_str(), c.token_ttl_secs, c.node_id),
            ("k1", 21_600, 1)
        );
    }

    #[test]
    fn cli_overrides_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("origin.toml");
        std::fs::write(
            &file,
            "token_kid = \"k9\"\nlisten = \"127.0.0.1:9000\"\nadmin_emails = [\"Boss@X.io\"]\nworker_threads = 1\n",
        )
        .unwrap();
        let file = file.to_str().unwrap();
        let c = Config::resolve(parse(&["--config", file, "--listen", "127.0.0.1:0"])).unwrap();
        assert_eq!(c.listen.port(), 0);
        assert_eq!(c.token_kid, "k9");
        assert_eq!(c.admin_emails, ["boss@x.io"]);
        assert_eq!(c.worker_threads, Some(1));
    }

    #[test]
    fn a_cluster_comes_from_flags_or_the_cluster_table() {
        let c = Config::resolve(parse(&[])).unwrap();
        assert_eq!(c.cluster, None, "one node by default");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("origin.toml");
        std::fs::write(
            &file,
            "node_id = 2\n[cluster]\nlisten = \"127.0.0.1:9102\"\nsecret_file = \"/s\"\njoin = \"10.0.0.1:9101\"\n",
        )
        .unwrap();
        let c = Config::resolve(parse(&["--config", file.to_str().unwrap()])).unwrap();
        let cluster = c.cluster.unwrap();
        assert_eq!(cluster.listen.port(), 9102);
        assert_eq!(cluster.join.as_deref(), Some("10.0.0.1:9101"));
        assert!(!cluster.bootstrap);
        let err = Config::resolve(parse(&["--bootstrap"])).unwrap_err();
        assert!(err.to_string().contains("--cluster-listen"), "{err}");
        let err = Config::resolve(parse(&["--cluster-listen", "127.0.0.1:0"])).unwrap_err();
        assert!(err.to_string().contains("--cluster-secret-file"), "{err}");
        let both = [
            "--cluster-listen",
            "127.0.0.1:0",
            "--cluster-secret-file",
            "/s",
            "--bootstrap",
            "--join",
            "x:1",
        ];
        let err = Config::resolve(parse(&both)).unwrap_err();
        assert!(err.to_string().contains("pick one"), "{err}");
    }

    #[test]
    fn s3_needs_credentials_and_a_url_endpoint() {
        let c = Config::resolve(parse(&[])).unwrap();
        assert_eq!(c.s3, None, "local disk by default");
        let err = Config::resolve(parse(&["--s3-bucket", "b"])).unwrap_err();
        assert!(err.to_string().contains("--s3-access-key-id"), "{err}");
        let args = [
            "--s3-bucket",
            "b",
            "--s3-access-key-id",
            "k",
            "--s3-secret-key-file",
            "/s",
            "--s3-endpoint",
            "minio:9000",
        ];
        let err = Config::resolve(parse(&args)).unwrap_err();
        assert!(err.to_string().contains("--s3-endpoint"), "{err}");
        let ok = Config::resolve(parse(&args[..6])).unwrap().s3.unwrap();
        assert_eq!((ok.bucket.as_str(), ok.region.as_str()), ("b", "us-east-1"));
    }

    #[test]
    fn invalid_settings_say_what_is_wrong() {
        let err = Config::resolve(parse(&["--admin-email", "nope"])).unwrap_err();
        assert!(err.to_string().contains("--admin-email"), "{err}");
        let err = Config::resolve(parse(&["--control-plane", "127.0.0.1:1"])).unwrap_err();
        assert!(err.to_string().contains("--control-plane"), "{err}");
        for (flag, bad) in [
            ("--snapshot-every", "5"),
            ("--election-timeout-ms", "10"),
            ("--election-timeout-ms", "600000"),
            ("--worker-threads", "0"),
        ] {
            let err = Config::resolve(parse(&[flag, bad])).unwrap_err();
            assert!(err.to_string().contains(flag), "{flag} {bad}: {err}");
        }
        let ok = Config::resolve(parse(&["--election-timeout-ms", "120"])).unwrap();
        assert_eq!((ok.election_timeout_ms, ok.snapshot_every), (120, 100_000));
        assert_eq!(ok.worker_threads, None, "one per core unless set");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "nonsense = 1\n").unwrap();
        let err = Config::resolve(parse(&["--config", file.to_str().unwrap()])).unwrap_err();
        assert!(matches!(err, ConfigError::Parse { .. }), "{err}");
    }
}
