//! Command-line / environment configuration. Every flag also reads
//! `MARQUEE_CONTROL_PLANE_<FLAG>`; the defaults run a usable control-plane with no flags.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

use crate::cidr::{RegionMap, RegionPrefix};

/// Marquee control-plane: the edge registry and client steering service.
#[derive(Debug, Clone, Parser)]
#[command(name = "marquee-control-plane", version, about, long_about = None)]
pub struct Config {
    /// Address to listen on (port 0 picks a free port; the chosen address is printed on stdout).
    #[arg(
        long,
        env = "MARQUEE_CONTROL_PLANE_LISTEN",
        default_value = "127.0.0.1:0"
    )]
    pub listen: SocketAddr,

    /// Client prefix to region mapping, `CIDR=REGION` (repeatable; IPv4 or IPv6; the longest
    /// matching prefix wins). In the env var, separate entries with commas.
    #[arg(
        long = "region-prefix",
        env = "MARQUEE_CONTROL_PLANE_REGION_PREFIX",
        value_delimiter = ','
    )]
    pub region_prefixes: Vec<RegionPrefix>,

    /// Region for clients whose address matches no `--region-prefix` and who give no region.
    #[arg(
        long,
        env = "MARQUEE_CONTROL_PLANE_DEFAULT_REGION",
        default_value = "default"
    )]
    pub default_region: String,

    /// An edge not heard from for this long is taken out of steering and forgotten.
    #[arg(
        long,
        env = "MARQUEE_CONTROL_PLANE_EDGE_TIMEOUT_MS",
        default_value_t = 6000
    )]
    pub edge_timeout_ms: u32,

    /// Heartbeat interval edges are told to use (in every heartbeat answer).
    #[arg(
        long,
        env = "MARQUEE_CONTROL_PLANE_HEARTBEAT_INTERVAL_MS",
        default_value_t = 2000
    )]
    pub heartbeat_interval_ms: u32,
}

/// A configuration that cannot work, found before the service starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("--edge-timeout-ms must be greater than 0")]
    ZeroTimeout,
    #[error("--heartbeat-interval-ms must be greater than 0")]
    ZeroInterval,
    #[error(
        "--heartbeat-interval-ms ({interval}) must be shorter than --edge-timeout-ms ({timeout}), or healthy edges would expire between heartbeats"
    )]
    IntervalNotShorterThanTimeout { interval: u32, timeout: u32 },
    #[error("--default-region must not be empty")]
    EmptyDefaultRegion,
}

impl Config {
    pub fn validate(&self) -> Result<(), ConfigError> {
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
        if self.default_region.trim().is_empty() {
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

    fn parse(args: &[&str]) -> Config {
        Config::try_parse_from(std::iter::once("marquee-control-plane").chain(args.iter().copied()))
            .expect("flags parse")
    }

    #[test]
    fn defaults_are_valid() {
        let c = parse(&[]);
        assert_eq!(c.edge_timeout_ms, 6000);
        assert_eq!(c.heartbeat_interval_ms, 2000);
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn repeated_region_prefixes_are_kept_in_order() {
        let c = parse(&[
            "--region-prefix",
            "10.0.0.0/8=eu-west",
            "--region-prefix",
            "2001:db8::/32=us-east",
        ]);
        let regions: Vec<_> = c
            .region_prefixes
            .iter()
            .map(|p| p.region.as_str())
            .collect();
        assert_eq!(regions, ["eu-west", "us-east"]);
    }

    #[test]
    fn bad_region_prefix_is_a_parse_error() {
        let err = Config::try_parse_from(["x", "--region-prefix", "10.0.0.0/40=eu"])
            .expect_err("must fail");
        assert!(err.to_string().contains("longer than the 32 bits"), "{err}");
    }

    #[test]
    fn interval_must_be_shorter_than_timeout() {
        let c = parse(&["--edge-timeout-ms", "800", "--heartbeat-interval-ms", "800"]);
        assert_eq!(
            c.validate(),
            Err(ConfigError::IntervalNotShorterThanTimeout {
                interval: 800,
                timeout: 800
            })
        );
    }
}
