//! Marquee's own ISO BMFF (MP4) handling: just enough to read the fragmented MP4 that ffmpeg
//! writes and to write CMAF init and media segments. No ffmpeg muxer does our segmenting.

mod fragment;
mod init;
pub mod reader;
mod write;

pub use fragment::{Sample, read_samples};
pub use init::{CodecInfo, TrackInfo, TrackKind, parse_init};
pub use write::{write_init, write_media_segment};

/// What can be wrong with MP4 bytes.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Mp4Error {
    #[error("MP4 data ends inside {0}")]
    Truncated(&'static str),
    #[error("MP4 box '{kind}' has an impossible size {size}")]
    BadBoxSize { kind: String, size: u64 },
    #[error("MP4 data lacks {0}")]
    Missing(&'static str),
    #[error("MP4 data is not supported: {0}")]
    Unsupported(String),
}

/// Container boxes whose children we walk or rewrite.
pub(crate) const CONTAINERS: &[&[u8; 4]] = &[
    b"moov", b"trak", b"mdia", b"minf", b"stbl", b"mvex", b"dinf", b"edts", b"moof", b"traf",
];

#[cfg(test)]
mod tests;
