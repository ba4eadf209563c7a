//! The playback-token signing key: loaded from `--token-key-file`, generated on first start.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use marquee_proto::token::{KeyError, TokenSigner};

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read or write the token key file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("token key file {path}: {source}")]
    Key { path: String, source: KeyError },
}

/// Loads the PKCS#8 key at `path`, or generates one and saves it readable by the owner only.
pub fn load_or_generate(path: &Path, kid: &str) -> Result<TokenSigner, KeyFileError> {
    let shown = path.display().to_string();
    let io = |source| KeyFileError::Io {
        path: shown.clone(),
        source,
    };
    let key = |source| KeyFileError::Key {
        path: shown.clone(),
        source,
    };
    let pkcs8 = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let fresh = TokenSigner::generate_pkcs8().map_err(key)?;
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(io)?;
            }
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(io)?;
            f.write_all(&fresh)
                .and_then(|()| f.sync_all())
                .map_err(io)?;
            tracing::info!(path = %shown, "generated a new playback-token signing key");
            fresh
        }
        Err(e) => return Err(io(e)),
    };
    TokenSigner::from_pkcs8(kid, &pkcs8).map_err(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn key_is_generated_once_with_owner_only_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/token.pk8");
        let a = load_or_generate(&path, "k1").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let b = load_or_generate(&path, "k1").unwrap();
        assert_eq!(a.public_key_spec(), b.public_key_spec());
        assert!(a.public_key_spec().starts_with("k1="));
    }

    #[test]
    fn garbage_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.pk8");
        std::fs::write(&path, b"not a key").unwrap();
        assert!(matches!(
            load_or_generate(&path, "k1"),
            Err(KeyFileError::Key { .. })
        ));
    }
}
