//! `marquee edge list|drain|restore`: the operator's view of the fleet, from the
//! control-plane over mutual TLS with the operator's certificate.

use std::path::{Path, PathBuf};

use marquee_tls::TlsFiles;
use serde::Deserialize;

use crate::cli::FleetArgs;
use crate::pki::{OPERATOR_ID, PkiError, control_plane_client};

#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error(
        "no control-plane URL: pass --control-plane https://HOST:PORT (a running `marquee up` writes it to {0})"
    )]
    NoControlPlane(PathBuf),
    #[error("{0}")]
    Pki(#[from] PkiError),
    #[error("the control-plane at {url} cannot be reached: {source}")]
    Unreachable { url: String, source: reqwest::Error },
    #[error("the control-plane refused: {0}")]
    Refused(String),
}

/// One row of `GET /v1/edges` (the control-plane's `EdgeView`).
#[derive(Debug, Clone, Deserialize)]
pub struct EdgeRow {
    pub edge_id: String,
    pub region: String,
    pub public_url: String,
    pub last_seen_ms_ago: u64,
    pub healthy: bool,
    pub draining: bool,
    pub load: Option<f64>,
    pub active_requests: u32,
    #[serde(default)]
    pub drained: bool,
}

struct Fleet {
    http: reqwest::Client,
    base: String,
}

impl Fleet {
    fn open(args: &FleetArgs) -> Result<Self, FleetError> {
        let base = match &args.control_plane {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => read_url(&args.state_dir)?,
        };
        let files = TlsFiles {
            cert: args.tls_cert.clone().unwrap_or_else(|| {
                args.state_dir
                    .join("certs")
                    .join(format!("operator-{OPERATOR_ID}.pem"))
            }),
            key: args.tls_key.clone().unwrap_or_else(|| {
                args.state_dir
                    .join("certs")
                    .join(format!("operator-{OPERATOR_ID}-key.pem"))
            }),
            ca: args
                .tls_ca
                .clone()
                .unwrap_or_else(|| args.state_dir.join("ca").join("ca.pem")),
        };
        Ok(Self {
            http: control_plane_client(&files)?,
            base,
        })
    }

    async fn call(&self, req: reqwest::RequestBuilder) -> Result<String, FleetError> {
        let resp = req.send().await.map_err(|source| FleetError::Unreachable {
            url: self.base.clone(),
            source,
        })?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            let reason = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
                .unwrap_or(text);
            return Err(FleetError::Refused(format!("{status}: {reason}")));
        }
        Ok(text)
    }
}

fn read_url(state: &Path) -> Result<String, FleetError> {
    let file = state.join("control-plane-url");
    std::fs::read_to_string(&file)
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .ok_or(FleetError::NoControlPlane(file))
}

/// `marquee edge list`: a table, one edge a row.
pub async fn list(args: &FleetArgs) -> Result<String, FleetError> {
    let fleet = Fleet::open(args)?;
    let text = fleet
        .call(fleet.http.get(format!("{}/v1/edges", fleet.base)))
        .await?;
    let rows: Vec<EdgeRow> = serde_json::from_str(&text)
        .map_err(|e| FleetError::Refused(format!("unexpected answer: {e}")))?;
    Ok(table(&rows))
}

/// `marquee edge drain ID` (`drained = true`) or `marquee edge restore ID`.
pub async fn set_drained(args: &FleetArgs, id: &str, drained: bool) -> Result<String, FleetError> {
    let fleet = Fleet::open(args)?;
    let action = if drained { "drain" } else { "restore" };
    let text = fleet
        .call(
            fleet
                .http
                .post(format!("{}/v1/edges/{id}/{action}", fleet.base)),
        )
        .await?;
    let changed = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["changed"].as_bool())
        .unwrap_or(true);
    Ok(match (drained, changed) {
        (true, true) => format!(
            "{id} drained: viewers are no longer steered to it (players already on it move at their next steering request)\n"
        ),
        (true, false) => format!("{id} was already drained\n"),
        (false, true) => format!("{id} restored: it is steered to again while healthy\n"),
        (false, false) => format!("{id} was not drained\n"),
    })
}

/// What an operator reads first: who is serving, who is not and why.
fn state_of(row: &EdgeRow) -> &'static str {
    match (row.healthy, row.drained, row.draining) {
        (false, _, _) => "unhealthy",
        (true, true, _) => "drained",
        (true, false, true) => "stopping",
        (true, false, false) => "serving",
    }
}

pub fn table(rows: &[EdgeRow]) -> String {
    if rows.is_empty() {
        return "no edges have reported to the control-plane\n".into();
    }
    let header = ["EDGE", "REGION", "STATE", "LOAD", "ACTIVE", "SEEN", "URL"];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.edge_id.clone(),
                r.region.clone(),
                state_of(r).to_owned(),
                r.load.map_or("-".into(), |l| format!("{:.0}%", l * 100.0)),
                r.active_requests.to_string(),
                format!("{:.1}s ago", r.last_seen_ms_ago as f64 / 1000.0),
                r.public_url.clone(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cols: Vec<&str>| {
        let mut out = String::new();
        for (i, (cell, w)) in cols.iter().zip(widths).enumerate() {
            if i + 1 == cols.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.push('\n');
        out
    };
    let mut out = line(header.to_vec());
    for row in &cells {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, healthy: bool, drained: bool, load: Option<f64>) -> EdgeRow {
        EdgeRow {
            edge_id: id.into(),
            region: "eu-west".into(),
            public_url: format!("https://{id}.example"),
            last_seen_ms_ago: 1500,
            healthy,
            draining: false,
            load,
            active_requests: 3,
            drained,
        }
    }

    #[test]
    fn the_table_lines_up_and_says_why_an_edge_is_not_serving() {
        let text = table(&[
            row("edge-eu-west-1", true, false, Some(0.25)),
            row("e2", true, true, None),
            row("e3", false, false, None),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(
            lines[0].starts_with("EDGE            REGION   STATE"),
            "{text}"
        );
        assert!(
            lines[1].contains("serving") && lines[1].contains("25%"),
            "{text}"
        );
        assert!(lines[2].contains("drained"), "{text}");
        assert!(lines[3].contains("unhealthy"), "{text}");
        let url_column = lines[0].find("URL").unwrap();
        assert_eq!(lines[1].find("https://").unwrap(), url_column, "{text}");
        assert!(table(&[]).contains("no edges"));
    }
}
