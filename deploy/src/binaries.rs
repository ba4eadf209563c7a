//! Where the service binaries and the built web app are.

use std::path::{Path, PathBuf};

pub const ORIGIN: &str = "marquee-origin";
pub const CONTROL_PLANE: &str = "marquee-control-plane";
pub const EDGE: &str = "marquee-edge";

#[derive(Debug, thiserror::Error)]
#[error(
    "missing {} in {}: build them with `cargo build --release --bins` \
     (or point --bin-dir / MARQUEE_BIN_DIR at a directory that has them)",
    missing.join(", "), dir.display()
)]
pub struct MissingBinaries {
    pub dir: PathBuf,
    pub missing: Vec<&'static str>,
}

#[derive(Debug, Clone)]
pub struct Binaries {
    pub origin: PathBuf,
    pub control_plane: PathBuf,
    pub edge: PathBuf,
}

/// The directory of the running `marquee` executable: cargo puts the sibling binaries there.
pub fn own_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    exe.parent().map(Path::to_path_buf)
}

/// Finds all three service binaries in `dir`, or names every one that is missing.
pub fn find(dir: &Path) -> Result<Binaries, MissingBinaries> {
    let missing: Vec<&'static str> = [ORIGIN, CONTROL_PLANE, EDGE]
        .into_iter()
        .filter(|name| !dir.join(name).is_file())
        .collect();
    if !missing.is_empty() {
        return Err(MissingBinaries {
            dir: dir.to_path_buf(),
            missing,
        });
    }
    Ok(Binaries {
        origin: dir.join(ORIGIN),
        control_plane: dir.join(CONTROL_PLANE),
        edge: dir.join(EDGE),
    })
}

/// The built web app (`origin/web/dist` with an `index.html`): the explicit directory if
/// given, else the first match walking up from the working directory, then from this
/// executable's directory, then the source tree this binary was built from.
pub fn find_web_dir(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(dir) = explicit {
        return Some(dir.to_path_buf());
    }
    find_above(web_dir_in)
}

/// `dir/origin/web/dist` when it holds a built app.
fn web_dir_in(dir: &Path) -> Option<PathBuf> {
    let dist = dir.join("origin").join("web").join("dist");
    dist.join("index.html").is_file().then_some(dist)
}

#[cfg(test)]
fn web_dir_above(start: &Path) -> Option<PathBuf> {
    start.ancestors().find_map(web_dir_in)
}

/// The first directory `found` accepts, walking up from the working directory, then from this
/// executable's directory, then from the source tree this binary was built from.
pub fn find_above(found: impl Fn(&Path) -> Option<PathBuf>) -> Option<PathBuf> {
    let mut starts: Vec<PathBuf> = Vec::new();
    starts.extend(std::env::current_dir().ok());
    starts.extend(own_dir());
    starts.extend(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(Path::to_path_buf),
    );
    starts
        .iter()
        .find_map(|start| start.ancestors().find_map(&found))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_missing_binary_and_how_to_build() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(EDGE), b"").expect("write");
        let err = find(dir.path()).expect_err("missing");
        assert_eq!(err.missing, vec![ORIGIN, CONTROL_PLANE]);
        let msg = err.to_string();
        assert!(
            msg.contains("marquee-origin, marquee-control-plane"),
            "{msg}"
        );
        assert!(msg.contains("cargo build --release --bins"), "{msg}");
    }

    #[test]
    fn finds_all_three() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in [ORIGIN, CONTROL_PLANE, EDGE] {
            std::fs::write(dir.path().join(name), b"").expect("write");
        }
        let bins = find(dir.path()).expect("found");
        assert_eq!(bins.edge, dir.path().join(EDGE));
    }

    #[test]
    fn web_dir_is_found_above_a_nested_directory() {
        let repo = tempfile::tempdir().expect("tempdir");
        let dist = repo.path().join("origin/web/dist");
        std::fs::create_dir_all(&dist).expect("mkdir");
        let nested = repo.path().join("target/release");
        std::fs::create_dir_all(&nested).expect("mkdir");
        assert_eq!(web_dir_above(&nested), None, "no index.html yet");
        std::fs::write(dist.join("index.html"), b"<!doctype html>").expect("write");
        assert_eq!(web_dir_above(&nested), Some(dist));
    }
}
