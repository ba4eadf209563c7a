//! HLS master and media playlists (RFC 8216, version 7: fMP4 segments through EXT-X-MAP).

use crate::manifest::{Presentation, Rendition, segment_name};
use std::fmt::Write;

pub const AUDIO_GROUP: &str = "audio";

/// The master playlist: one EXT-X-STREAM-INF per video rung, audio as one EXT-X-MEDIA group.
pub fn master_playlist(p: &Presentation) -> String {
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    let a = &p.audio;
    let _ = writeln!(
        out,
        "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"{AUDIO_GROUP}\",NAME=\"Main\",LANGUAGE=\"und\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"{}\",URI=\"{}/playlist.m3u8\"",
        a.codec.channels, a.dir
    );
    for v in &p.video {
        let _ = write!(
            out,
            "#EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={},CODECS=\"{},{}\",RESOLUTION={}x{}",
            v.peak_bandwidth() + a.peak_bandwidth(),
            v.average_bandwidth() + a.average_bandwidth(),
            v.codec.codecs,
            a.codec.codecs,
            v.codec.width,
            v.codec.height
        );
        if let Some(fps) = v.frame_rate_f64() {
            let _ = write!(out, ",FRAME-RATE={fps:.3}");
        }
        let _ = writeln!(out, ",AUDIO=\"{AUDIO_GROUP}\"\n{}/playlist.m3u8", v.dir);
    }
    out
}

/// A media playlist; its URIs are relative to its own folder.
pub fn media_playlist(r: &Rendition) -> String {
    // EXT-X-TARGETDURATION: every EXTINF rounded to the nearest integer must not exceed it.
    let target = (0..r.segments.len())
        .map(|k| r.segment_secs(k).round() as u64)
        .max()
        .unwrap_or(0)
        .max(1);
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:7\n");
    let _ = writeln!(out, "#EXT-X-TARGETDURATION:{target}");
    out.push_str(
        "#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n",
    );
    out.push_str("#EXT-X-MAP:URI=\"init.mp4\"\n");
    for k in 0..r.segments.len() {
        let _ = writeln!(
            out,
            "#EXTINF:{:.5},\n{}",
            r.segment_secs(k),
            segment_name(k)
        );
    }
    out.push_str("#EXT-X-ENDLIST\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::fixtures::presentation;

    #[test]
    fn master_lists_rungs_and_the_audio_group() {
        let m = master_playlist(&presentation());
        let lines: Vec<&str> = m.lines().collect();
        assert_eq!(
            lines[0..3],
            ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
        );
        assert_eq!(
            lines[3],
            "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"Main\",LANGUAGE=\"und\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"audio/playlist.m3u8\""
        );
        // 720p: 750 kB in 1 s peak = 6 Mbit/s; audio 32 kB in 1.0107 s ≈ 253,299 bit/s peak.
        assert_eq!(
            lines[4],
            "#EXT-X-STREAM-INF:BANDWIDTH=6253299,AVERAGE-BANDWIDTH=3753600,CODECS=\"avc1.64001f,mp4a.40.2\",RESOLUTION=1280x720,FRAME-RATE=30.000,AUDIO=\"audio\""
        );
        assert_eq!(lines[5], "video/720p/playlist.m3u8");
        assert!(lines[6].contains("RESOLUTION=640x360"));
        assert_eq!(lines[7], "video/360p/playlist.m3u8");
        assert_eq!(lines.len(), 8);
    }

    #[test]
    fn media_playlist_is_exact() {
        let p = presentation();
        let expected = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1\n\
            #EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI=\"init.mp4\"\n\
            #EXTINF:2.00000,\nseg-1.m4s\n#EXTINF:2.00000,\nseg-2.m4s\n#EXTINF:1.00000,\nseg-3.m4s\n#EXT-X-ENDLIST\n";
        assert_eq!(media_playlist(&p.video[0]), expected);
        let audio = media_playlist(&p.audio);
        assert!(audio.contains("#EXTINF:2.00533,\nseg-1.m4s\n"), "{audio}");
    }
}
