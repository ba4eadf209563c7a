//! `marquee cluster status|add|remove`: the origin cluster through its admin API.

use std::fmt::Write as _;

use crate::api::{Api, ApiError, ClusterView};
use crate::cli::{ClusterAction, ClusterArgs};

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "cannot read the admin password from {path}: {source} \
         (pass --admin-password-file, or run from the directory where `marquee up` keeps .marquee)"
    )]
    Password {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Api(#[from] ApiError),
}

/// Runs one cluster command and returns what to print.
pub async fn run(args: ClusterArgs) -> Result<String, ClusterError> {
    let password = std::fs::read_to_string(&args.admin_password_file).map_err(|source| {
        ClusterError::Password {
            path: args.admin_password_file.display().to_string(),
            source,
        }
    })?;
    let api = Api::new(&args.origin)?;
    api.sign_in(&args.admin_email, password.trim()).await?;
    match args.action {
        ClusterAction::Status => Ok(render(&api.cluster().await?)),
        ClusterAction::Add {
            node_id,
            raft_addr,
            api_addr,
        } => {
            api.add_member(node_id, &raft_addr, &api_addr).await?;
            Ok(format!(
                "node {node_id} is a voter now\n{}",
                render(&api.cluster().await?)
            ))
        }
        ClusterAction::Remove { node_id } => {
            api.remove_member(node_id).await?;
            Ok(format!(
                "node {node_id} removed\n{}",
                render(&api.cluster().await?)
            ))
        }
    }
}

/// The members as a table, one line each.
pub fn render(view: &ClusterView) -> String {
    let mut out = String::new();
    let leader = view
        .leader_id
        .map_or("none".to_owned(), |l| format!("node {l}"));
    let _ = writeln!(out, "term {}, leader {leader}", view.term);
    let rows: Vec<[String; 5]> = view
        .members
        .iter()
        .map(|m| {
            let applied = match (&m.last_applied_index, &m.error) {
                (Some(i), _) => i.to_string(),
                (None, Some(e)) => format!("unreachable: {e}"),
                (None, None) => "-".to_owned(),
            };
            [
                m.node_id.to_string(),
                m.role.clone(),
                m.api_addr.clone(),
                m.raft_addr.clone(),
                applied,
            ]
        })
        .collect();
    let header = ["NODE", "ROLE", "API", "RAFT", "APPLIED"].map(str::to_owned);
    let widths: Vec<usize> = (0..5)
        .map(|c| {
            std::iter::once(&header)
                .chain(&rows)
                .map(|r| r[c].len())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Member;

    #[test]
    fn status_is_a_table_with_every_member() {
        let member = |id, role: &str, applied, error: Option<&str>| Member {
            node_id: id,
            role: role.into(),
            api_addr: format!("http://127.0.0.1:808{id}"),
            raft_addr: format!("http://127.0.0.1:910{id}"),
            last_applied_index: applied,
            error: error.map(Into::into),
        };
        let view = ClusterView {
            node_id: 2,
            leader_id: Some(1),
            term: 3,
            members: vec![
                member(1, "leader", Some(42), None),
                member(2, "follower", Some(41), None),
                member(3, "follower", None, Some("connection refused")),
            ],
        };
        let table = render(&view);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[0], "term 3, leader node 1");
        assert_eq!(
            lines[1],
            "NODE  ROLE      API                    RAFT                   APPLIED"
        );
        assert_eq!(
            lines[2],
            "1     leader    http://127.0.0.1:8081  http://127.0.0.1:9101  42"
        );
        assert!(
            lines[4].ends_with("unreachable: connection refused"),
            "{table}"
        );
    }
}
