//! Command line and environment configuration of one edge node.
//!
//! Every flag also reads `MARQUEE_EDGE_<FLAG>`; [`Args::validate`] turns the raw flags into a
//! checked [`Config`] or a [`ConfigError`] that tells the operator what to pass.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use marquee_proto::token::TokenVerifier;

/// Largest object the cache stores; foyer's disk blocks are 16 MiB and an entry (meta + body)
/// must fit in one. Bigger responses are proxied without being stored.
pub const MAX_OBJECT_BYTES: usize = 15 * 1024 * 1024;

/// Marquee edge node: verifies playback tokens, caches media from origin in memory and on
/// disk, and reports its load to the control-plane.
#[derive(Debug, Clone, Parser)]
#[command(name = "marquee-edge", version, about, long_about = None)]
pub struct Args {
    /// Address to serve viewers on (HTTP/1.1 and h2c), e.g. 127.0.0.1:8081.
    #[arg(long, env = "MARQUEE_EDGE_LISTEN")]
    pub listen: SocketAddr,

    /// Origin node (plain HTTP/1.1) that cache misses are fetched from, e.g. 127.0.0.1:8080.
    /// Repeat it (env: comma-separated) for every node of an origin cluster, nearest first: a
    /// fill goes to the first node that accepts a connection.
    #[arg(
        long = "origin",
        env = "MARQUEE_EDGE_ORIGIN",
        value_delimiter = ',',
        required = true
    )]
    pub origins: Vec<SocketAddr>,

    /// Control-plane base URL heartbeats are POSTed to (`{url}/v1/heartbeat`). Without it the
    /// edge serves but is never steered to.
    #[arg(long, env = "MARQUEE_EDGE_CONTROL_PLANE")]
    pub control_plane: Option<String>,

    /// Stable name of this edge, reported in heartbeats.
    #[arg(long, env = "MARQUEE_EDGE_EDGE_ID", default_value = "edge-1")]
    pub edge_id: String,

    /// Region this edge serves; clients in it are steered here first.
    #[arg(long, env = "MARQUEE_EDGE_REGION", default_value = "local")]
    pub region: String,

    /// Base URL viewers reach this edge at (default: http://<listen>).
    #[arg(long, env = "MARQUEE_EDGE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Playback-token public key as KID=BASE64URL (origin prints it at start and writes it to
    /// <data-dir>/token-public-key). Repeat the flag to accept several keys during rotation;
    /// in the env var separate keys with commas.
    #[arg(
        long = "token-public-key",
        env = "MARQUEE_EDGE_TOKEN_PUBLIC_KEY",
        value_delimiter = ','
    )]
    pub token_public_keys: Vec<String>,

    /// Directory for the disk cache tier (created if absent).
    #[arg(
        long,
        env = "MARQUEE_EDGE_CACHE_DIR",
        default_value = "marquee-edge-cache"
    )]
    pub cache_dir: PathBuf,

    /// Memory cache tier size in MiB.
    #[arg(long, env = "MARQUEE_EDGE_CACHE_MEMORY_MB", default_value_t = 256)]
    pub cache_memory_mb: usize,

    /// Disk cache tier size in MiB (at least 64; rounded down to 16 MiB blocks).
    #[arg(long, env = "MARQUEE_EDGE_CACHE_DISK_MB", default_value_t = 2048)]
    pub cache_disk_mb: usize,

    /// Requests per second this edge can serve, reported to the control-plane (0 = unknown).
    #[arg(long, env = "MARQUEE_EDGE_CAPACITY_RPS", default_value_t = 0)]
    pub capacity_rps: u32,

    /// Seconds to keep serving after SIGTERM before stopping (SIGINT stops at once).
    #[arg(long, env = "MARQUEE_EDGE_GRACE_PERIOD_SECS", default_value_t = 1)]
    pub grace_period_secs: u64,

    /// Worker threads for the proxy.
    #[arg(long, env = "MARQUEE_EDGE_THREADS", default_value_t = 2)]
    pub threads: usize,
}

/// Why the edge refuses to start.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no playback-token public key given: pass --token-public-key KID=BASE64URL \
         (origin prints `token public key: k1=...` at start) or set MARQUEE_EDGE_TOKEN_PUBLIC_KEY"
    )]
    NoTokenKeys,
    #[error("{0}")]
    BadTokenKey(#[from] marquee_proto::token::KeyError),
    #[error("--cache-disk-mb must be at least 64 (got {0})")]
    DiskTooSmall(usize),
    #[error("--cache-memory-mb must be at least 1")]
    MemoryTooSmall,
    #[error("--control-plane must be an http:// URL (got {0:?})")]
    BadControlPlane(String),
    #[error("--edge-id and --region must not be empty")]
    EmptyIdentity,
}

/// Checked configuration.
#[derive(Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// Origin nodes, in order of preference (never empty).
    pub origins: Vec<SocketAddr>,
    pub control_plane: Option<String>,
    pub edge_id: String,
    pub region: String,
    pub public_url: String,
    pub verifier: TokenVerifier,
    pub cache_dir: PathBuf,
    pub cache_memory_bytes: usize,
    pub cache_disk_bytes: usize,
    pub capacity_rps: u32,
    pub grace_period_secs: u64,
    pub threads: usize,
}

impl Args {
    pub fn validate(self) -> Result<Config, ConfigError> {
        let keys: Vec<&String> = self
            .token_public_keys
            .iter()
            .filter(|k| !k.trim().is_empty())
            .collect();
        if keys.is_empty() {
            return Err(ConfigError::NoTokenKeys);
        }
        let mut verifier = TokenVerifier::default();
        for key in keys {
            verifier.add_key_spec(key.trim())?;
        }
        if self.cache_disk_mb < 64 {
            return Err(ConfigError::DiskTooSmall(self.cache_disk_mb));
        }
        if self.cache_memory_mb == 0 {
            return Err(ConfigError::MemoryTooSmall);
        }
        if self.edge_id.trim().is_empty() || self.region.trim().is_empty() {
            return Err(ConfigError::EmptyIdentity);
        }
        let control_plane = match self.control_plane {
            Some(url) if !url.starts_with("http://") => {
                return Err(ConfigError::BadControlPlane(url));
            }
            Some(url) => Some(url.trim_end_matches('/').to_owned()),
            None => None,
        };
        let public_url = self
            .public_url
            .unwrap_or_else(|| format!("http://{}", self.listen))
            .trim_end_matches('/')
            .to_owned();
        Ok(Config {
            listen: self.listen,
            origins: self.origins,
            control_plane,
            edge_id: self.edge_id,
            region: self.region,
            public_url,
            verifier,
            cache_dir: self.cache_dir,
            cache_memory_bytes: self.cache_memory_mb * 1024 * 1024,
            cache_disk_bytes: self.cache_disk_mb * 1024 * 1024,
            capacity_rps: self.capacity_rps,
            grace_period_secs: self.grace_period_secs,
            threads: self.threads.max(1),
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

    #[test]
    fn refuses_to_start_without_token_keys_and_says_what_to_pass() {
        let err = args(&[]).validate().err().expect("must fail");
        assert!(matches!(err, ConfigError::NoTokenKeys));
        assert!(err.to_string().contains("--token-public-key"));
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
        let c = args(&["--token-public-key", KEY, "--control-plane", "http://cp:1/"])
            .validate()
            .unwrap();
        assert_eq!(c.public_url, "http://127.0.0.1:1");
        assert_eq!(c.control_plane.as_deref(), Some("http://cp:1"));
        assert_eq!(c.cache_memory_bytes, 256 * 1024 * 1024);
    }

    #[test]
    fn tiny_disk_and_https_control_plane_are_refused() {
        let e = args(&["--token-public-key", KEY, "--cache-disk-mb", "8"])
            .validate()
            .err();
        assert!(matches!(e, Some(ConfigError::DiskTooSmall(8))));
        let e = args(&["--token-public-key", KEY, "--control-plane", "https://x"])
            .validate()
            .err();
        assert!(matches!(e, Some(ConfigError::BadControlPlane(_))));
    }
}
