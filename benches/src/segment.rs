//! A real 2-second video segment, made with ffmpeg: 1280x720 testsrc2, H.264 at a constant
//! 3 Mbit/s, cut as a CMAF/fMP4 HLS segment (`styp`/`sidx`/`moof`/`mdat`), ≈ 800 KB.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};

/// Writes `seg-1.m4s` (and its `init.mp4`) into `dir` and returns the segment's path.
pub async fn make_segment(ffmpeg: &Path, dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let out = tokio::process::Command::new(ffmpeg)
        .current_dir(dir)
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args([
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=30",
            "-t",
            "2",
        ])
        .args([
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
        ])
        // Constant bitrate with filler, so the segment has a realistic size for 3 Mbit/s
        // rather than what a synthetic picture compresses to.
        .args([
            "-b:v", "3M", "-minrate", "3M", "-maxrate", "3M", "-bufsize", "3M",
        ])
        .args(["-x264-params", "nal-hrd=cbr"])
        .args(["-g", "60", "-keyint_min", "60", "-sc_threshold", "0"])
        .args(["-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod"])
        .args([
            "-hls_segment_type",
            "fmp4",
            "-hls_fmp4_init_filename",
            "init.mp4",
        ])
        .args(["-start_number", "1", "-hls_segment_filename", "seg-%d.m4s"])
        .arg("playlist.m3u8")
        .kill_on_drop(true)
        .output()
        .await
        .context("running ffmpeg")?;
    if !out.status.success() {
        bail!(
            "ffmpeg failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let seg = dir.join("seg-1.m4s");
    let bytes = std::fs::read(&seg).with_context(|| format!("reading {}", seg.display()))?;
    ensure!(
        (300_000..3_000_000).contains(&bytes.len()),
        "segment is {} bytes; expected roughly 700 KB–1 MB",
        bytes.len()
    );
    ensure!(
        has_box(&bytes, b"moof") && has_box(&bytes, b"mdat"),
        "segment has no moof/mdat boxes"
    );
    Ok(seg)
}

/// True when a top-level ISO-BMFF box of type `kind` exists.
fn has_box(mut bytes: &[u8], kind: &[u8; 4]) -> bool {
    while bytes.len() >= 8 {
        let size = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        if &bytes[4..8] == kind {
            return true;
        }
        if size < 8 || size > bytes.len() {
            return false;
        }
        bytes = &bytes[size..];
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_top_level_boxes() {
        let mut data = Vec::new();
        data.extend_from_slice(&[0, 0, 0, 8]);
        data.extend_from_slice(b"styp");
        data.extend_from_slice(&[0, 0, 0, 12]);
        data.extend_from_slice(b"moof");
        data.extend_from_slice(&[1, 2, 3, 4]);
        data.extend_from_slice(&[0, 0, 0, 8]);
        data.extend_from_slice(b"mdat");
        assert!(has_box(&data, b"moof"));
        assert!(has_box(&data, b"mdat"));
        assert!(!has_box(&data, b"moov"));
        assert!(!has_box(&data[..10], b"mdat"));
    }
}
