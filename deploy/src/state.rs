//! The state directory `marquee up` keeps between runs:
//!
//! ```text
//! <state>/admin-password          the admin's generated password (0600)
//! <state>/origin/                 origin's data dir (redb, blobs, token key, token-public-key);
//!                                 node 1 of a cluster
//! <state>/origin-<n>/             node n of a cluster (`--origin-nodes`)
//! <state>/cluster-secret          the secret the origin nodes share (0600)
//! <state>/cluster-ports           each origin node's Raft RPC port, kept so a restarted
//!                                 cluster finds itself
//! <state>/edges/<edge-id>/        each edge's disk cache
//! <state>/media-cache/<slug>.mp4  generated demo clips
//! <state>/ca/                     the local deployment's CA (ca.pem; ca-key.pem is 0600)
//! <state>/certs/                  every service's certificate, reissued at each start
//! <state>/control-plane/          the control-plane's saved decisions (drained edges)
//! <state>/control-plane-url       where `marquee edge list|drain` find the control-plane
//! ```

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};

pub const ADMIN_EMAIL: &str = "admin@marquee.local";

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is empty; delete it and a new secret is generated")]
    EmptyPassword { path: PathBuf },
    #[error("the system random number generator failed")]
    Random,
}

#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
}

impl StateDir {
    /// Creates the directory tree if absent.
    pub fn open(root: &Path) -> Result<Self, StateError> {
        let state = StateDir {
            root: root.to_path_buf(),
        };
        for dir in [
            state.origin_dir(),
            state.media_cache_dir(),
            root.join("edges"),
        ] {
            std::fs::create_dir_all(&dir).map_err(|source| StateError::Io { path: dir, source })?;
        }
        Ok(state)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn origin_dir(&self) -> PathBuf {
        self.root.join("origin")
    }

    /// Data dir of origin node `n` (1-based); node 1 is the single node's dir.
    pub fn origin_node_dir(&self, n: u32) -> PathBuf {
        if n <= 1 {
            self.origin_dir()
        } else {
            self.root.join(format!("origin-{n}"))
        }
    }

    pub fn cluster_secret_file(&self) -> PathBuf {
        self.root.join("cluster-secret")
    }

    /// The origin cluster's secret file, generated (0600) on first use.
    pub fn cluster_secret(&self) -> Result<PathBuf, StateError> {
        let path = self.cluster_secret_file();
        read_or_generate(&path)?;
        Ok(path)
    }

    /// The Raft RPC port of each of `nodes` origin nodes: as kept from an earlier run, new ones
    /// picked free and kept. A cluster whose members moved ports could not find itself again.
    pub fn cluster_ports(&self, nodes: u32) -> Result<Vec<u16>, StateError> {
        let path = self.root.join("cluster-ports");
        let io = |source| StateError::Io {
            path: path.clone(),
            source,
        };
        let mut ports: Vec<u16> = match std::fs::read_to_string(&path) {
            Ok(text) => text.lines().filter_map(|l| l.trim().parse().ok()).collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io(e)),
        };
        if ports.len() < nodes as usize {
            while ports.len() < nodes as usize {
                ports.push(crate::ports::free_port().map_err(io)?);
            }
            let text: String = ports.iter().map(|p| format!("{p}\n")).collect();
            std::fs::write(&path, text).map_err(io)?;
        }
        ports.truncate(nodes as usize);
        Ok(ports)
    }

    pub fn control_plane_url_file(&self) -> PathBuf {
        self.root.join("control-plane-url")
    }

    pub fn token_public_key_file(&self) -> PathBuf {
        self.origin_dir().join("token-public-key")
    }

    pub fn edge_cache_dir(&self, edge_id: &str) -> PathBuf {
        self.root.join("edges").join(edge_id)
    }

    pub fn media_cache_dir(&self) -> PathBuf {
        self.root.join("media-cache")
    }

    /// Origin's table of address prefixes → countries: written on first run with the local
    /// world's addresses in Ireland (the `eu-west` region the control-plane puts them in), then
    /// the operator's to edit.
    pub fn country_prefixes(&self) -> Result<PathBuf, StateError> {
        let path = self.root.join("countries.toml");
        if !path.exists() {
            let text = "# Client address prefix = ISO 3166-1 country code; the longest prefix wins.\n\
                        # Origin names \"Top 10 in <country> today\" by it. Edit and restart.\n\
                        \"127.0.0.0/8\" = \"IE\"\n\"::1/128\" = \"IE\"\n";
            std::fs::write(&path, text).map_err(|source| StateError::Io {
                path: path.clone(),
                source,
            })?;
        }
        Ok(path)
    }

    pub fn admin_password_file(&self) -> PathBuf {
        self.root.join("admin-password")
    }

    /// The admin password: read from `admin-password`, or generated and stored there (mode
    /// 0600, created exclusively) on first run. Returns the password and whether it is new.
    pub fn admin_password(&self) -> Result<(String, bool), StateError> {
        read_or_generate(&self.admin_password_file())
    }
}

/// A secret kept in `path`: read, or generated and stored there (mode 0600, created
/// exclusively). Returns it and whether it is new.
fn read_or_generate(path: &Path) -> Result<(String, bool), StateError> {
    let path = path.to_path_buf();
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let password = text.trim().to_string();
            if password.is_empty() {
                return Err(StateError::EmptyPassword { path });
            }
            Ok((password, false))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let password = generate_password()?;
            let io = |source| StateError::Io {
                path: path.clone(),
                source,
            };
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(io)?;
            writeln!(file, "{password}").map_err(io)?;
            Ok((password, true))
        }
        Err(source) => Err(StateError::Io { path, source }),
    }
}

/// 24 URL-safe characters from 18 random bytes (144 bits).
fn generate_password() -> Result<String, StateError> {
    let mut bytes = [0u8; 18];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| StateError::Random)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn password_is_generated_once_private_and_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = StateDir::open(&dir.path().join("s")).expect("open");
        assert!(state.origin_dir().is_dir() && state.media_cache_dir().is_dir());
        let (first, new) = state.admin_password().expect("password");
        assert!(new);
        assert_eq!(first.len(), 24);
        let mode = std::fs::metadata(state.admin_password_file())
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let (second, new) = state.admin_password().expect("password");
        assert!(!new);
        assert_eq!(first, second);
    }

    #[test]
    fn passwords_differ_between_state_dirs() {
        let a = tempfile::tempdir().expect("tempdir");
        let b = tempfile::tempdir().expect("tempdir");
        let pa = StateDir::open(a.path())
            .and_then(|s| s.admin_password())
            .expect("a");
        let pb = StateDir::open(b.path())
            .and_then(|s| s.admin_password())
            .expect("b");
        assert_ne!(pa.0, pb.0);
    }

    #[test]
    fn empty_password_file_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = StateDir::open(dir.path()).expect("open");
        std::fs::write(state.admin_password_file(), "\n").expect("write");
        let err = state.admin_password().expect_err("empty");
        assert!(err.to_string().contains("admin-password"), "{err}");
    }
}
