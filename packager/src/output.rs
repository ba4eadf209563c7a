//! The output folder: what may be written into it, and where scratch files go.
//!
//! Packaging again into the same folder must not leave the old package's files behind (a
//! longer video's extra segments, a rung the new ladder lacks). Files listed in an earlier
//! `package.json` are removed before the new package is written; a folder holding anything
//! else is refused, so a mistyped `-o ~` never deletes a viewer's or operator's files.

use std::path::{Component, Path, PathBuf};

use crate::error::PackageError;
use crate::package::PackageSummary;

/// Checks `dir` can take a package: missing, empty, or holding an earlier package only.
/// Returns the earlier package's files (relative), to remove with [`remove_previous`].
pub fn check(dir: &Path) -> Result<Vec<PathBuf>, PackageError> {
    let mut entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(PackageError::io(dir)(e)),
    };
    if entries.next().is_none() {
        return Ok(Vec::new());
    }
    let summary_path = dir.join("package.json");
    let earlier: Option<PackageSummary> = std::fs::read(&summary_path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let Some(earlier) = earlier else {
        return Err(PackageError::InvalidRequest(format!(
            "the output folder {} is not empty and holds no earlier package (no readable \
             package.json); choose a new or empty folder",
            dir.display()
        )));
    };
    let unsafe_path = earlier.files.iter().find(|f| !is_plain_relative(f));
    if let Some(bad) = unsafe_path {
        return Err(PackageError::InvalidRequest(format!(
            "{} lists {} outside its folder; remove the folder by hand",
            summary_path.display(),
            bad.display()
        )));
    }
    Ok(earlier.files)
}

/// Removes an earlier package's `files` from `dir`, then the folders they leave empty.
pub fn remove_previous(dir: &Path, files: &[PathBuf]) -> Result<(), PackageError> {
    let mut folders = Vec::new();
    for rel in files {
        let path = dir.join(rel);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(PackageError::io(path)(e)),
        }
        folders.extend(
            rel.ancestors()
                .skip(1)
                .filter(|a| !a.as_os_str().is_empty()),
        );
    }
    // Deepest first; a folder that still holds something is kept.
    folders.sort_by_key(|f| std::cmp::Reverse(f.components().count()));
    folders.dedup();
    for folder in folders {
        let _ = std::fs::remove_dir(dir.join(folder));
    }
    Ok(())
}

/// A scratch folder for ffmpeg's intermediate files beside `output_dir`, so a big mezzanine's
/// encodes land on the same disk as the package rather than in a RAM-backed `/tmp`.
pub fn scratch_dir(output_dir: &Path) -> Result<tempfile::TempDir, PackageError> {
    let parent = match output_dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(PackageError::io(&parent))?;
    tempfile::Builder::new()
        .prefix(".marquee-packager-scratch-")
        .tempdir_in(&parent)
        .map_err(PackageError::io(parent))
}

fn is_plain_relative(path: &Path) -> bool {
    path.components().all(|c| matches!(c, Component::Normal(_)))
        && path.components().next().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary_listing(files: &[&str]) -> String {
        let files: Vec<String> = files.iter().map(|f| format!("{f:?}")).collect();
        format!(
            r#"{{"duration_secs":6.0,"segment_seconds":2,"segment_count":3,"rungs":[],
            "audio":{{"codecs":"mp4a.40.2","bandwidth":1,"average_bandwidth":1,"sample_rate":48000,
            "channels":2,"silent":false}},"files":[{}]}}"#,
            files.join(",")
        )
    }

    #[test]
    fn a_missing_or_empty_folder_takes_a_package() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(check(&tmp.path().join("new")).unwrap().is_empty());
        assert!(check(tmp.path()).unwrap().is_empty());
    }

    #[test]
    fn a_folder_with_other_files_is_refused_and_left_alone() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("thesis.docx"), "precious").unwrap();
        let err = check(tmp.path()).unwrap_err().to_string();
        assert!(
            err.contains("not empty") && err.contains("new or empty folder"),
            "{err}"
        );
        assert!(tmp.path().join("thesis.docx").exists());
    }

    #[test]
    fn an_earlier_package_is_removed_file_by_file_keeping_anything_else() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        std::fs::create_dir_all(d.join("video/720p")).unwrap();
        std::fs::create_dir_all(d.join("notes")).unwrap();
        for f in ["video/720p/seg-9.m4s", "manifest.mpd", "notes/keep.txt"] {
            std::fs::write(d.join(f), "x").unwrap();
        }
        let listed = ["video/720p/seg-9.m4s", "manifest.mpd", "package.json"];
        std::fs::write(d.join("package.json"), summary_listing(&listed)).unwrap();
        let files = check(d).unwrap();
        assert_eq!(files.len(), 3);
        remove_previous(d, &files).unwrap();
        assert!(!d.join("video").exists(), "emptied folders go too");
        assert!(!d.join("manifest.mpd").exists() && !d.join("package.json").exists());
        assert!(d.join("notes/keep.txt").exists(), "unlisted files stay");
    }

    #[test]
    fn a_package_json_pointing_outside_its_folder_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let json = summary_listing(&["../../etc/passwd"]);
        std::fs::write(tmp.path().join("package.json"), json).unwrap();
        let err = check(tmp.path()).unwrap_err().to_string();
        assert!(err.contains("outside its folder"), "{err}");
    }

    #[test]
    fn scratch_goes_beside_the_output() {
        let tmp = tempfile::tempdir().unwrap();
        let scratch = scratch_dir(&tmp.path().join("out")).unwrap();
        assert_eq!(scratch.path().parent(), Some(tmp.path()));
    }
}
