//! Reading ffmpeg's fragmented MP4 files from disk: the `moov`, every sample's timing and where
//! its bytes are. Boxes are read one by one; `mdat` payloads stay on disk until a segment is cut.

use crate::error::PackageError;
use crate::mp4::{self, Mp4Error, Sample, TrackInfo, reader::parse_header};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Largest `moov`/`moof` we load into memory; real ones are kilobytes.
const MAX_META_BOX: u64 = 64 << 20;

/// One track read from an intermediate file.
pub struct SourceTrack {
    pub path: PathBuf,
    pub file: File,
    pub moov_body: Vec<u8>,
    pub info: TrackInfo,
    pub samples: Vec<Sample>,
}

pub fn read_track(path: &Path) -> Result<SourceTrack, PackageError> {
    let file = File::open(path).map_err(PackageError::io(path))?;
    let len = file.metadata().map_err(PackageError::io(path))?.len();
    let mp4_err = |source: Mp4Error| PackageError::Mp4 {
        file: path.into(),
        source,
    };
    let mut pos = 0u64;
    let mut moov: Option<(Vec<u8>, TrackInfo)> = None;
    let mut samples = Vec::new();
    let mut next_dts = 0u64;
    while pos < len {
        let mut head = [0u8; 16];
        let n = (len - pos).min(16) as usize;
        file.read_exact_at(&mut head[..n], pos)
            .map_err(PackageError::io(path))?;
        let (kind, header_len, total) = parse_header(&head[..n]).map_err(mp4_err)?;
        let total = total.unwrap_or(len - pos);
        if total > len - pos {
            return Err(mp4_err(Mp4Error::BadBoxSize {
                kind: mp4::reader::fourcc_str(&kind),
                size: total,
            }));
        }
        if &kind == b"moov" || &kind == b"moof" {
            if total > MAX_META_BOX {
                return Err(mp4_err(Mp4Error::Unsupported(format!(
                    "a {total}-byte metadata box"
                ))));
            }
            let mut buf = vec![0u8; total as usize];
            file.read_exact_at(&mut buf, pos)
                .map_err(PackageError::io(path))?;
            if &kind == b"moov" {
                let body = buf[header_len..].to_vec();
                let info = mp4::parse_init(&body).map_err(mp4_err)?;
                moov = Some((body, info));
            } else {
                let (_, info) = moov
                    .as_ref()
                    .ok_or_else(|| mp4_err(Mp4Error::Missing("a moov before the first moof")))?;
                mp4::read_samples(&buf, pos, info, &mut next_dts, &mut samples).map_err(mp4_err)?;
            }
        }
        pos += total;
    }
    let (moov_body, info) = moov.ok_or_else(|| mp4_err(Mp4Error::Missing("a moov box")))?;
    if let Some(bad) = samples
        .iter()
        .find(|s| s.offset.saturating_add(u64::from(s.size)) > len)
    {
        return Err(mp4_err(Mp4Error::Unsupported(format!(
            "sample data at {} runs past the end of the file",
            bad.offset
        ))));
    }
    if samples.is_empty() {
        return Err(mp4_err(Mp4Error::Missing("any samples")));
    }
    Ok(SourceTrack {
        path: path.into(),
        file,
        moov_body,
        info,
        samples,
    })
}

impl SourceTrack {
    /// The bytes of `samples`, concatenated (they were bounds-checked against the file).
    pub fn sample_data(&self, samples: &[Sample]) -> Result<Vec<u8>, PackageError> {
        let total: u64 = samples.iter().map(|s| u64::from(s.size)).sum();
        let mut data = vec![0u8; total as usize];
        let mut at = 0usize;
        for s in samples {
            let end = at + s.size as usize;
            self.file
                .read_exact_at(&mut data[at..end], s.offset)
                .map_err(PackageError::io(&self.path))?;
            at = end;
        }
        Ok(data)
    }
}
