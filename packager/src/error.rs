//! The packager's error type: each variant says what the caller (origin's job runner, the CLI
//! user) can do about it.

use crate::mp4::Mp4Error;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// ffmpeg or ffprobe is not on PATH.
    #[error(
        "`{tool}` was not found on PATH: install ffmpeg (Debian/Ubuntu: `apt-get install -y ffmpeg`)"
    )]
    FfmpegMissing { tool: &'static str },
    #[error("cannot open input {path}: {source}")]
    InputMissing {
        path: PathBuf,
        source: std::io::Error,
    },
    /// ffprobe could not read the file as media.
    #[error("input {path} is not a readable media file: {detail}")]
    Unreadable { path: PathBuf, detail: String },
    #[error("input {path} has no video stream")]
    NoVideo { path: PathBuf },
    /// The request itself is wrong (segment length, ladder).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// ffmpeg ran but failed; the tail of its stderr says why.
    #[error("ffmpeg failed ({status}): {stderr_tail}")]
    Encode { status: String, stderr_tail: String },
    /// An intermediate MP4 from ffmpeg did not parse (or points outside its file).
    #[error("cannot segment {file}: {source}")]
    Mp4 { file: PathBuf, source: Mp4Error },
    /// The rungs' keyframes do not line up, so players could not switch between them.
    #[error("rung {rung} is not aligned with rung {reference}: {detail}")]
    Misaligned {
        rung: String,
        reference: String,
        detail: String,
    },
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl PackageError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}
