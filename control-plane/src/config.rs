//! Configuration: a TOML file (`--config`), then `MARQUEE_CONTROL_PLANE_<FLAG>` env vars and
//! flags over it. [`Args`] is both the command line and the file's shape (every key optional);
//! [`Args::resolve`] merges them, applies the defaults and checks the result into a [`Config`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use marquee_tls::TlsFiles;
use serde::Deserialize;

use crate::cidr::{RegionMap, RegionPrefix};

/// Marquee control-plane: the edge registry and client steering service. Every service talks
/// to it over mutual TLS with a certificate from the deployment CA (`marquee ca issue`).
#[derive(Debug, Clone, Default, Parser, Deserialize)]
#[command(name = "marquee-control-plane", version, about, long_about = None)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// TOML file with any of the settings below (snake_case keys, e.g. `edge_timeout_ms`);
    /// env vars and flags override it.
    #[arg(long, env = "MARQUEE_CONTROL_PLANE_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// Address to listen on; port 0 picks a free port, printed on stdout [default: 127.0.0.1:0].
    #[arg(long, env = "MARQUEE_CONTROL_PLANE_LISTEN")]
    pub listen: Option<SocketAddr>,

    /// This control-plane's certificate (PEM), issued by `marquee ca issue --service control-plane`.
    #[arg(long, env = "MARQUEE_CONTROL_PLANE_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,

    /// The certificate's private key (PEM).
    #[arg(long, env = "MARQUEE_CONTROL_PLANE_TLS_KEY")]
    pub tls_key: Option<PathBuf>,

    /// The deployment CA (PEM): only clients with a certificate it issued are served.
    #[arg(long, env = "MARQUEE_CONTROL_PLANE_TLS_CA")]
    pub tls_ca: Option<PathBuf>,

    /// Directory for what operators decide (drained edges), kept across restarts; without it
    /// those decisions last until the process stops.
    #[arg(long, env = "MARQUEE_CONTROL_PLANE_STATE_DIR")]
    pub state_dir: Option<PathBuf>,

    /// Client prefix to region mapping, `CIDR=REGION` (repeatable; IPv4 or IPv6; the longest
    /// matching prefix wins). In the env var, separate entries with commas.
    #[arg(
        long = "region-prefix",
        env = "MARQUEE_CONTROL_PLANE_REGION_PREFIX",
        value_delimiter = ','
    )]
    #[serde(default)]
    pub region_prefixes: Vec<RegionPrefix>,

    /// Region for clients whose address matches no `--region-prefix` and who give no region
    /// [default: default].
    #[arg(long, env = "MARQUEE_CONTROL_PLANE_DEFAULT_REGION")]
    pub default_region: Option<String>,

    /// An edge not heard from for this long is taken out of steering and forgotten
    /// [default: 6000].
    #[arg(long, env = "MARQUEE_CONTROL_PLANE_EDGE_TIMEOUT_MS")]
    pub edge_timeout_ms: Option<u32>,

    /// Heartbeat interval edges are told to use, in every heartbeat answer [default: 2000].
    #[arg(long, env = "MARQUEE_CONTROL_PLANE_HEARTBEAT_INTERVAL_MS")]
    pub heartbeat_interval_ms: Option<u32>,

    /// How long players keep a steering answer before asking again, in seconds
    /// [default: 30]. Shorter than a player's 60 s ban of a failed edge, so a dead edge has
    /// left the answer before the ban ends.
    #[arg(long, env = "MARQUEE_CONTROL_PLANE_STEERING_TTL_SECS")]
    pub steering_ttl_secs: Option<u32>,
}

/// The checked configuration the service runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub tls: TlsFiles,
    pub state_dir: Option<PathBuf>,
    pub region_prefixes: Vec<RegionPrefix>,
    pub default_region: String,
    pub edge_timeout_ms: u32,
    pub heartbeat_interval_ms: u32,
    pub steering_ttl_secs: u32,
}

/// A configuration that cannot work, found before the service starts.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error(
        "no TLS certificate: pass --tls-cert, --tls-key and --tls-ca (issue them with `marquee ca issue --service control-plane --id ID --host HOST`)"
    )]
    NoTls,
    #[error("--edge-timeout-ms must be greater than 0")]
    ZeroTimeout,
    #[error("--heartbeat-interval-ms must be greater than 0")]
    ZeroInterval,
    #[error(
        "--heartbeat-interval-ms ({interval}) must be shorter than --edge-timeout-ms ({timeout}), or healthy edges would expire between heartbeats"
    )]
    IntervalNotShorterThanTimeout { interval: u32, timeout: u32 },
    #[error("--steering-ttl-secs must be between 1 and 86400, not {0}")]
    BadSteeringTtl(u32),
    #[error("--default-region must not be empty")]
    EmptyDefaultRegion,
}

fn read_file(path: &Path) -> Result<Args, ConfigError> {
    let err = |reason: String| ConfigError::File {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    toml::from_str(&text).map_err(|e| err(e.to_string()))
}

impl Args {
    /// Flags and env over the `--config` file over the defaults, checked.
    pub fn resolve(self) -> Result<Config, ConfigError> {
        let file = match &self.config {
            Some(path) => read_file(path)?,
            None => Args::default(),
        };
        let region_prefixes = if self.region_prefixes.is_empty() {
            file.region_prefixes
        } else {
            self.region_prefixes
        };
        let tls = match (
            self.tls_cert.or(file.tls_cert),
            self.tls_key.or(file.tls_key),
            self.tls_ca.or(file.tls_ca),
        ) {
            (Some(cert), Some(key), Some(ca)) => TlsFiles { cert, key, ca },
            _ => return Err(ConfigError::NoTls),
        };
        let config = Config {
            listen: self
                .listen
                .or(file.listen)
                .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0))),
            tls,
            state_dir: self.state_dir.or(file.state_dir),
            region_prefixes,
            default_region: self
                .default_region
                .or(file.default_region)
                .unwrap_or_else(|| "default".to_owned())
                .trim()
                .to_owned(),
            edge_timeout_ms: self
                .edge_timeout_ms
                .or(file.edge_timeout_ms)
                .unwrap_or(6000),
            heartbeat_interval_ms: self
                .heartbeat_interval_ms
                .or(file.heartbeat_interval_ms)
                .unwrap_or(2000),
            steering_ttl_secs: self
                .steering_ttl_secs
                .or(file.steering_ttl_secs)
                .unwrap_or(30),
        };
        config.validate()?;
        Ok(config)
    }
}

impl Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.edge_timeout_ms == 0 {
            return Err(ConfigError::ZeroTimeout);
        }
        if self.heartbeat_interval_ms == 0 {
            return Err(ConfigError::ZeroInterval);
        }
        if self.heartbeat_interval_ms >= self.edge_timeout_ms {
            return Err(ConfigError::IntervalNotShorterThanTimeout {
                interval: self.heartbeat_interval_ms,
                timeout: self.edge_timeout_ms,
            });
        }
        if !(1..=86_400).contains(&self.steering_ttl_secs) {
            return Err(ConfigError::BadSteeringTtl(self.steering_ttl_secs));
        }
        if self.default_region.is_empty() {
            return Err(ConfigError::EmptyDefaultRegion);
        }
        Ok(())
    }

    pub fn edge_timeout(&self) -> Duration {
        Duration::from_millis(self.edge_timeout_ms.into())
    }

    pub fn region_map(&self) -> RegionMap {
        RegionMap::new(self.region_prefixes.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TLS: [&str; 6] = [
        "--tls-cert",
        "c.pem",
        "--tls-key",
        "k.pem",
        "--tls-ca",
        "ca.pem",
    ];

    fn parse(args: &[&str]) -> Args {
        Args::try_parse_from(std::iter::once("marquee-control-plane").chain(args.iter().copied()))
            .expect("flags parse")
    }

    fn with_tls(args: &[&str]) -> Args {
        parse(&[&TLS[..], args].concat())
    }

    #[test]
    fn defaults_are_valid_once_tls_is_given() {
        let c = with_tls(&[]).resolve().unwrap();
        assert_eq!(c.edge_timeout_ms, 6000);
        assert_eq!(c.heartbeat_interval_ms, 2000);
        assert_eq!(c.default_region, "default");
        let err = parse(&[]).resolve().unwrap_err();
        assert!(err.to_string().contains("marquee ca issue"), "{err}");
    }

    #[test]
    fn flags_override_the_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("control-plane.toml");
        std::fs::write(
            &file,
            r#"
listen = "127.0.0.1:7000"
tls_cert = "/etc/marquee/cp.pem"
tls_key = "/etc/marquee/cp-key.pem"
tls_ca = "/etc/marquee/ca.pem"
region_prefixes = ["10.0.0.0/8=eu-west", "2001:db8::/32=us-east"]
default_region = "eu-west"
edge_timeout_ms = 9000
"#,
        )
        .unwrap();
        let path = file.to_str().unwrap();
        let c = parse(&["--config", path, "--edge-timeout-ms", "7000"])
            .resolve()
            .unwrap();
        assert_eq!(c.listen, "127.0.0.1:7000".parse().unwrap());
        assert_eq!(c.edge_timeout_ms, 7000, "the flag wins");
        assert_eq!(c.default_region, "eu-west", "the file fills the rest");
        assert_eq!(c.heartbeat_interval_ms, 2000, "then the default");
        assert_eq!(c.tls.ca, PathBuf::from("/etc/marquee/ca.pem"));
        let regions: Vec<_> = c
            .region_prefixes
            .iter()
            .map(|p| p.region.as_str())
            .collect();
        assert_eq!(regions, ["eu-west", "us-east"]);
    }

    #[test]
    fn a_bad_file_names_the_file_and_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cp.toml");
        std::fs::write(&file, "edge_timeout = 5\n").unwrap();
        let err = parse(&["--config", file.to_str().unwrap()])
            .resolve()
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("cp.toml") && text.contains("edge_timeout"),
            "{text}"
        );
        std::fs::write(&file, "region_prefixes = [\"10.0.0.0/40=eu\"]\n").unwrap();
        let err = parse(&["--config", file.to_str().unwrap()])
            .resolve()
            .unwrap_err();
        assert!(err.to_string().contains("32 bits"), "{err}");
    }

    #[test]
    fn repeated_region_prefixes_are_kept_in_order() {
        let c = with_tls(&[
            "--region-prefix",
            "10.0.0.0/8=eu-west",
            "--region-prefix",
            "2001:db8::/32=us-east",
        ])
        .resolve()
        .unwrap();
        let regions: Vec<_> = c
            .region_prefixes
            .iter()
            .map(|p| p.region.as_str())
            .collect();
        assert_eq!(regions, ["eu-west", "us-east"]);
    }

    #[test]
    fn bad_region_prefix_is_a_parse_error() {
        let err = Args::try_parse_from(["x", "--region-prefix", "10.0.0.0/40=eu"])
            .expect_err("must fail");
        assert!(err.to_string().contains("longer than the 32 bits"), "{err}");
    }

    #[test]
    fn interval_must_be_shorter_than_timeout() {
        let err = with_tls(&["--edge-timeout-ms", "800", "--heartbeat-interval-ms", "800"])
            .resolve()
            .unwrap_err();
        assert!(matches!(
            err,
            ConfigError::IntervalNotShorterThanTimeout {
                interval: 800,
                timeout: 800
            }
        ));
    }
}
