//! The state directory `marquee up` keeps between runs:
//!
//! ```text
//! <state>/admin-password          the admin's generated password (0600)
//! <state>/origin/                 origin's data dir (redb, blobs, token key, token-public-key)
//! <state>/edges/<edge-id>/        each edge's disk cache
//! <state>/media-cache/<slug>.mp4  generated demo clips
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
    #[error("{path} is empty; delete it to generate a new admin password")]
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

    pub fn token_public_key_file(&self) -> PathBuf {
        self.origin_dir().join("token-public-key")
    }

    pub fn edge_cache_dir(&self, edge_id: &str) -> PathBuf {
        self.root.join("edges").join(edge_id)
    }

    pub fn media_cache_dir(&self) -> PathBuf {
        self.root.join("media-cache")
    }

    pub fn admin_password_file(&self) -> PathBuf {
        self.root.join("admin-password")
    }

    /// The admin password: read from `admin-password`, or generated and stored there (mode
    /// 0600, created exclusively) on first run. Returns the password and whether it is new.
    pub fn admin_password(&self) -> Result<(String, bool), StateError> {
        let path = self.admin_password_file();
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
