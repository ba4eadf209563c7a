//! Configuration of one edge node: a TOML file (`--config`), then `MARQUEE_EDGE_<FLAG>` env vars
//! and flags over it. [`Args`] is both the command line and the file's shape (every key
//! optional); [`Args::validate`] merges them, applies defaults and checks the result into a
//! [`Config`] or a [`ConfigError`] that tells the operator what to pass.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::origins::OriginAddr;
use clap::Parser;
use marquee_proto::token::TokenVerifier;
use marquee_tls::TlsFiles;
use serde::Deserialize;

/// Largest object the cache stores; foyer's disk blocks are 16 MiB and an entry (meta + body)
/// must fit in one. Bigger responses are proxied without being stored.
pub const MAX_OBJECT_BYTES: usize = 15 * 1024 * 1024;

/// Marquee edge node: verifies playback tokens, caches media from origin in memory and on
/// disk, serves viewers HTTPS (HTTP/1.1, HTTP/2, HTTP/3), and reports its load to the
/// control-plane over mutual TLS.
#[derive(Debug, Clone, Default, Parser, Deserialize)]
#[command(name = "marquee-edge", version, about, long_about = None)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// TOML file with any of the settings below (snake_case keys, e.g. `cache_disk_mb`);
    /// env vars and flags override it.
    #[arg(long, env = "MARQUEE_EDGE_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// Address to serve viewers HTTPS on: HTTP/1.1 and HTTP/2 over TCP, HTTP/3 over UDP on the
    /// same port, e.g. 0.0.0.0:443. Needs --tls-cert, --tls-key and --tls-ca.
    #[arg(long, env = "MARQUEE_EDGE_TLS_LISTEN")]
    pub tls_listen: Option<SocketAddr>,

    /// Address to serve plain HTTP on (HTTP/1.1 and h2c), e.g. 127.0.0.1:8081: for a browser
    /// on the same machine and for health checks. Give this, --tls-listen or both.
    #[arg(long, env = "MARQUEE_EDGE_LISTEN")]
    pub listen: Option<SocketAddr>,

    /// This edge's certificate (PEM), issued by `marquee edge add`; it names the edge id.
    #[arg(long, env = "MARQUEE_EDGE_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,

    /// The certificate's private key (PEM).
    #[arg(long, env = "MARQUEE_EDGE_TLS_KEY")]
    pub tls_key: Option<PathBuf>,

    /// The deployment CA (PEM): the control-plane must hold a certificate it issued.
    #[arg(long, env = "MARQUEE_EDGE_TLS_CA")]
    pub tls_ca: Option<PathBuf>,

    /// Seconds between checks of the certificate files for a renewal, which is then served
    /// without a restart [default: 10].
    #[arg(long, env = "MARQUEE_EDGE_TLS_RELOAD_SECS")]
    pub tls_reload_secs: Option<u64>,

    /// Origin node that cache misses are fetched from: https://HOST:PORT (origin's services
    /// listener, mutual TLS with this edge's certificate; HOST must be in origin's certificate)
    /// or HOST:PORT (plain HTTP, for a loopback-only world). Repeat it (env: comma-separated)
    /// for every node of an origin cluster, nearest first: a fill goes to the first node that
    /// accepts a connection.
    #[arg(long = "origin", env = "MARQUEE_EDGE_ORIGIN", value_delimiter = ',')]
    #[serde(default)]
    pub origins: Vec<OriginAddr>,

    /// Control-plane base URL heartbeats are POSTed to (`{url}/v1/heartbeat`), over mutual
    /// TLS, e.g. https://127.0.0.1:7000. Without it the edge serves but is never steered to.
    #[arg(long, env = "MARQUEE_EDGE_CONTROL_PLANE")]
    pub control_plane: Option<String>,

    /// Stable name of this edge, reported in heartbeats; must be the id its certificate names
    /// [default: the certificate's id, else edge-1].
    #[arg(long, env = "MARQUEE_EDGE_EDGE_ID")]
    pub edge_id: Option<String>,

    /// Region this edge serves; clients in it are steered here first [default: local].
    #[arg(long, env = "MARQUEE_EDGE_REGION")]
    pub region: Option<String>,

    /// Base URL viewers reach this edge at [default: https://<tls-listen>, else
    /// http://<listen>].
    #[arg(long, env = "MARQUEE_EDGE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// HTTPS base URL viewers reach this edge at when --public-url is plain HTTP (a lab or
    /// local setup): viewers on an HTTPS page are steered here, since such a page may only
    /// fetch media over HTTPS.
    #[arg(long, env = "MARQUEE_EDGE_PUBLIC_HTTPS_URL")]
    pub public_https_url: Option<String>,

    /// Playback-token public key as KID=BASE64URL (origin prints it at start and writes it to
    /// <data-dir>/token-public-key); repeatable (env: comma-separated). With --control-plane it
    /// is optional: the control-plane's key set (origin's rotations) replaces these once fetched.
    #[arg(
        long = "token-public-key",
        env = "MARQUEE_EDGE_TOKEN_PUBLIC_KEY",
        value_delimiter = ','
    )]
    #[serde(default)]
    pub token_public_keys: Vec<String>,

    /// Directory for the disk cache tier, created if absent [default: marquee-edge-cache].
    #[arg(long, env = "MARQUEE_EDGE_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Memory cache tier size in MiB [default: 256].
    #[arg(long, env = "MARQUEE_EDGE_CACHE_MEMORY_MB")]
    pub cache_memory_mb: Option<usize>,

    /// Disk cache tier size in MiB: at least 64, rounded down to 16 MiB blocks [default: 2048].
    #[arg(long, env = "MARQUEE_EDGE_CACHE_DISK_MB")]
    pub cache_disk_mb: Option<usize>,

    /// Requests per second this edge can serve, reported to the control-plane (0 = unknown)
    /// [default: 0].
    #[arg(long, env = "MARQUEE_EDGE_CAPACITY_RPS")]
    pub capacity_rps: Option<u32>,

    /// API requests (`/api/...`, passed to origin) each client address may make per second,
    /// sustained; 0 turns the limit off [default: 20].
    #[arg(long, env = "MARQUEE_EDGE_API_RATE_PER_SEC")]
    pub api_rate_per_sec: Option<u32>,

    /// API requests a client may make at once above the sustained rate (a page load asks
    /// for a dozen things) [default: 100].
    #[arg(long, env = "MARQUEE_EDGE_API_BURST")]
    pub api_burst: Option<u32>,

    /// Seconds to keep serving after SIGTERM before stopping (SIGINT stops at once)
    /// [default: 1].
    #[arg(long, env = "MARQUEE_EDGE_GRACE_PERIOD_SECS")]
    pub grace_period_secs: Option<u64>,

    /// Worker threads for the proxy, and as many again for HTTP/3 [default: 2].
    #[arg(long, env = "MARQUEE_EDGE_THREADS")]
    pub threads: Option<usize>,
}

/// Why the edge refuses to start.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error(
        "no playback-token public key given: pass --token-public-key KID=BASE64URL \
         (origin prints `token public key: k1=...` at start) or set MARQUEE_EDGE_TOKEN_PUBLIC_KEY, \
         or pass --control-plane to take the keys from it"
    )]
    NoTokenKeys,
    #[error("{0}")]
    BadTokenKey(#[from] marquee_proto::token::KeyError),
    #[error("no origin given: pass --origin HOST:PORT (repeat it for each origin node)")]
    NoOrigins,
    #[error(
        "nothing to listen on: pass --tls-listen ADDR (HTTPS and HTTP/3), --listen ADDR (plain HTTP), or both"
    )]
    NoListener,
    #[error(
        "{0} needs the edge's certificate: pass --tls-cert, --tls-key and --tls-ca (issue them with `marquee edge add ID --host HOST`)"
    )]
    NoTls(&'static str),
    #[error("--cache-disk-mb must be at least 64 (got {0})")]
    DiskTooSmall(usize),
    #[error("--cache-memory-mb must be at least 1")]
    MemoryTooSmall,
    #[error(
        "--control-plane must be an https:// URL: heartbeats travel over mutual TLS (got {0:?})"
    )]
    BadControlPlane(String),
    #[error("--public-https-url must be an https:// URL (got {0:?})")]
    BadPublicHttpsUrl(String),
    #[error("--edge-id and --region must not be empty")]
    EmptyIdentity,
}

/// Checked configuration.
#[derive(Clone)]
pub struct Config {
    /// HTTPS (TCP) and HTTP/3 (UDP) address.
    pub tls_listen: Option<SocketAddr>,
    /// Plain HTTP address.
    pub listen: Option<SocketAddr>,
    pub tls: Option<TlsFiles>,
    pub tls_reload: std::time::Duration,
    /// Origin nodes, in order of preference (never empty).
    pub origins: Vec<OriginAddr>,
    pub control_plane: Option<String>,
    /// As configured; checked against the certificate at start.
    pub edge_id: Option<String>,
    pub region: String,
    pub public_url: Option<String>,
    pub public_https_url: Option<String>,
    pub verifier: TokenVerifier,
    pub cache_dir: PathBuf,
    pub cache_memory_bytes: usize,
    pub cache_disk_bytes: usize,
    pub capacity_rps: u32,
    /// Per-client API limit: sustained per second (0: off) and burst.
    pub api_rate_per_sec: u32,
    pub api_burst: u32,
    pub grace_period_secs: u64,
    pub threads: usize,
}

impl Config {
    /// Where viewers reach this edge, unless configured: its HTTPS address, else its plain one.
    pub fn default_public_url(&self) -> String {
        match (self.tls_listen, self.listen) {
            (Some(addr), _) => format!("https://{addr}"),
            (None, Some(addr)) => format!("http://{addr}"),
            (None, None) => String::new(),
        }
    }
}

fn read_file(path: &Path) -> Result<Args, ConfigError> {
    let err = |reason: String| ConfigError::File {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    toml::from_str(&text).map_err(|e| err(e.to_string()))
}

/// The flag's list when given, else the file's.
fn either<T>(flag: Vec<T>, file: Vec<T>) -> Vec<T> {
    if flag.is_empty() { file } else { flag }
}

impl Args {
    pub fn validate(self) -> Result<Config, ConfigError> {
        let file = match &self.config {
            Some(path) => read_file(path)?,
            None => Args::default(),
        };
        let keys = either(self.token_public_keys, file.token_public_keys);
        let keys: Vec<&String> = keys.iter().filter(|k| !k.trim().is_empty()).collect();
        // With a control-plane the keys come from it; given ones serve until they arrive.
        let has_control_plane = self.control_plane.is_some() || file.control_plane.is_some();
        if keys.is_empty() && !has_control_plane {
            return Err(ConfigError::NoTokenKeys);
        }
        let mut verifier = TokenVerifier::default();
        for key in keys {
            verifier.add_key_spec(key.trim())?;
        }
        let origins = either(self.origins, file.origins);
        if origins.is_empty() {
            return Err(ConfigError::NoOrigins);
        }
        let tls = match (
            self.tls_cert.or(file.tls_cert),
            self.tls_key.or(file.tls_key),
            self.tls_ca.or(file.tls_ca),
        ) {
            (Some(cert), Some(key), Some(ca)) => Some(TlsFiles { cert, key, ca }),
            _ => None,
        };
        let tls_listen = self.tls_listen.or(file.tls_listen);
        let listen = self.listen.or(file.listen);
        if tls_listen.is_none() && listen.is_none() {
            return Err(ConfigError::NoListener);
        }
        if tls.is_none() && tls_listen.is_some() {
            return Err(ConfigError::NoTls("--tls-listen"));
        }
        if tls.is_none() && origins.iter().any(|o| o.tls) {
            return Err(ConfigError::NoTls("an https:// --origin"));
        }
        let cache_disk_mb = self.cache_disk_mb.or(file.cache_disk_mb).unwrap_or(2048);
        if cache_disk_mb < 64 {
            return Err(ConfigError::DiskTooSmall(cache_disk_mb));
        }
        let cache_memory_mb = self.cache_memory_mb.or(file.cache_memory_mb).unwrap_or(256);
        if cache_memory_mb == 0 {
            return Err(ConfigError::MemoryTooSmall);
        }
        let edge_id = self.edge_id.or(file.edge_id);
        let region = self
            .region
            .or(file.region)
            .unwrap_or_else(|| "local".into());
        if edge_id.as_ref().is_some_and(|id| id.trim().is_empty()) || region.trim().is_empty() {
            return Err(ConfigError::EmptyIdentity);
        }
        let control_plane = match self.control_plane.or(file.control_plane) {
            Some(url) if !url.starts_with("https://") => {
                return Err(ConfigError::BadControlPlane(url));
            }
            Some(_) if tls.is_none() => return Err(ConfigError::NoTls("--control-plane")),
            Some(url) => Some(url.trim_end_matches('/').to_owned()),
            None => None,
        };
        let public_url = self
            .public_url
            .or(file.public_url)
            .map(|u| u.trim_end_matches('/').to_owned());
        let public_https_url = match self.public_https_url.or(file.public_https_url) {
            Some(url) => {
                let trimmed = url.trim_end_matches('/');
                // The control-plane refuses every heartbeat that carries a bad one: say so here.
                match trimmed.strip_prefix("https://") {
                    Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => {
                        Some(trimmed.to_owned())
                    }
                    _ => return Err(ConfigError::BadPublicHttpsUrl(url)),
                }
            }
            None => None,
        };
        Ok(Config {
            tls_listen,
            listen,
            tls,
            tls_reload: std::time::Duration::from_secs(
                self.tls_reload_secs
                    .or(file.tls_reload_secs)
                    .unwrap_or(10)
                    .max(1),
            ),
            origins,
            control_plane,
            edge_id,
            region,
            public_url,
            public_https_url,
            verifier,
            cache_dir: self
                .cache_dir
                .or(file.cache_dir)
                .unwrap_or_else(|| "marquee-edge-cache".into()),
            cache_memory_bytes: cache_memory_mb * 1024 * 1024,
            cache_disk_bytes: cache_disk_mb * 1024 * 1024,
            capacity_rps: self.capacity_rps.or(file.capacity_rps).unwrap_or(0),
            api_rate_per_sec: self
                .api_rate_per_sec
                .or(file.api_rate_per_sec)
                .unwrap_or(20),
            api_burst: self.api_burst.or(file.api_burst).unwrap_or(100).max(1),
            grace_period_secs: self
                .grace_period_secs
                .or(file.grace_period_secs)
                .unwrap_or(1),
            threads: self.threads.or(file.threads).unwrap_or(2).max(1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> Args {
        let mut v = vec![
            "marquee-edge",
            "--listen",
            "127.0.0.1:1",
            "--origin",
            "127.0.0.1:2",
        ];
        v.extend_from_slice(extra);
        Args::try_parse_from(v).expect("parse")
    }

    const KEY: &str = "k1=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const TLS: [&str; 6] = [
        "--tls-cert",
        "e.pem",
        "--tls-key",
        "e-key.pem",
        "--tls-ca",
        "ca.pem",
    ];

    #[test]
    fn refuses_to_start_without_token_keys_and_says_what_to_pass() {
        let err = args(&[]).validate().err().expect("must fail");
        assert!(matches!(err, ConfigError::NoTokenKeys));
        assert!(err.to_string().contains("--token-public-key"));
        // With a control-plane the keys come from it.
        let mut with_cp = vec!["--control-plane", "https://cp:7000"];
        with_cp.extend(TLS);
        let c = args(&with_cp)
            .validate()
            .expect("keys come from the control-plane");
        assert!(c.verifier.is_empty());
    }

    #[test]
    fn bad_key_spec_is_reported() {
        let err = args(&["--token-public-key", "k1=short"])
            .validate()
            .err()
            .expect("must fail");
        assert!(
            err.to_string().contains("KID") || err.to_string().contains("kid"),
            "{err}"
        );
    }

    #[test]
    fn defaults_fill_public_url_and_trim_slashes() {
        let flags = [
            &TLS[..],
            &[
                "--token-public-key",
                KEY,
                "--control-plane",
                "https://cp:1/",
            ],
        ];
        let c = args(&flags.concat()).validate().unwrap();
        assert_eq!(c.default_public_url(), "http://127.0.0.1:1");
        assert_eq!(c.control_plane.as_deref(), Some("https://cp:1"));
        assert_eq!(c.cache_memory_bytes, 256 * 1024 * 1024);
        let flags = [
            &TLS[..],
            &["--token-public-key", KEY, "--tls-listen", "127.0.0.1:9"],
        ];
        let c = args(&flags.concat()).validate().unwrap();
        assert_eq!(c.default_public_url(), "https://127.0.0.1:9");
        assert_eq!(c.public_https_url, None);
        let with_https = [
            &flags.concat()[..],
            &["--public-https-url", "https://localhost:9/"],
        ]
        .concat();
        let c = args(&with_https).validate().unwrap();
        assert_eq!(c.public_https_url.as_deref(), Some("https://localhost:9"));
        for bad in ["http://localhost:9", "https://", "https:// x"] {
            let with_bad = [&flags.concat()[..], &["--public-https-url", bad]].concat();
            assert!(
                matches!(
                    args(&with_bad).validate().err(),
                    Some(ConfigError::BadPublicHttpsUrl(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn tiny_disk_plain_control_plane_and_tls_without_a_certificate_are_refused() {
        let e = args(&["--token-public-key", KEY, "--cache-disk-mb", "8"])
            .validate()
            .err();
        assert!(matches!(e, Some(ConfigError::DiskTooSmall(8))));
        let e = args(&["--token-public-key", KEY, "--control-plane", "http://x"])
            .validate()
            .err();
        assert!(matches!(e, Some(ConfigError::BadControlPlane(_))));
        let e = args(&["--token-public-key", KEY, "--tls-listen", "127.0.0.1:3"])
            .validate()
            .err()
            .unwrap();
        assert!(e.to_string().contains("marquee edge add"), "{e}");
    }

    #[test]
    fn flags_override_the_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("edge.toml");
        std::fs::write(
            &file,
            format!(
                r#"
tls_listen = "0.0.0.0:8443"
origins = ["10.0.0.1:8080", "10.0.0.2:8080"]
token_public_keys = ["{KEY}"]
region = "eu-west"
cache_disk_mb = 4096
tls_cert = "/etc/marquee/edge.pem"
tls_key = "/etc/marquee/edge-key.pem"
tls_ca = "/etc/marquee/ca.pem"
"#
            ),
        )
        .unwrap();
        let path = file.to_str().unwrap();
        let c = Args::try_parse_from(["marquee-edge", "--config", path, "--region", "us-east"])
            .unwrap()
            .validate()
            .unwrap();
        assert_eq!(c.region, "us-east", "the flag wins");
        assert_eq!(c.origins.len(), 2, "the file fills the rest");
        assert_eq!(c.cache_disk_bytes, 4096 * 1024 * 1024);
        assert_eq!(c.cache_memory_bytes, 256 * 1024 * 1024, "then the default");
        assert_eq!(c.default_public_url(), "https://0.0.0.0:8443");
        std::fs::write(&file, "cache_disk = 5\n").unwrap();
        let err = Args::try_parse_from(["marquee-edge", "--config", path])
            .unwrap()
            .validate()
            .err()
            .unwrap();
        assert!(err.to_string().contains("cache_disk"), "{err}");
    }
}
