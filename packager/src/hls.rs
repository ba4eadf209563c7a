//! HLS master and media playlists (RFC 8216, version 7: fMP4 segments through EXT-X-MAP).

use crate::language;
use crate::manifest::{Presentation, Rendition, Subtitles, segment_name};
use std::fmt::Write;

pub const AUDIO_GROUP: &str = "audio";
pub const SUBTITLE_GROUP: &str = "subs";

/// The name a track menu shows: the language's, or "Main" for an untagged single track.
fn track_name(language: &str, index: usize) -> String {
    match (language, index) {
        (language::UNDETERMINED, 0) => "Main".into(),
        (language::UNDETERMINED, n) => format!("Track {}", n + 1),
        (tag, _) => language::name(tag),
    }
}

/// The master playlist: one EXT-X-STREAM-INF per video rung; each audio track and each
/// subtitle language an EXT-X-MEDIA of its group.
pub fn master_playlist(p: &Presentation) -> String {
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n");
    for (i, a) in p.audio.iter().enumerate() {
        let lang = a.language.as_deref().unwrap_or(language::UNDETERMINED);
        let _ = writeln!(
            out,
            "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"{AUDIO_GROUP}\",NAME=\"{}\",LANGUAGE=\"{lang}\",DEFAULT={},AUTOSELECT=YES,CHANNELS=\"{}\",URI=\"{}/playlist.m3u8\"",
            track_name(lang, i),
            if i == 0 { "YES" } else { "NO" },
            a.codec.channels,
            a.dir
        );
    }
    for s in &p.subtitles {
        let _ = writeln!(
            out,
            "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"{SUBTITLE_GROUP}\",NAME=\"{}\",LANGUAGE=\"{}\",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI=\"{}\"",
            language::name(&s.language),
            s.language,
            subtitle_playlist_path(s)
        );
    }
    let audio_codecs = p.audio.first().map_or("", |a| a.codec.codecs.as_str());
    for v in &p.video {
        let _ = write!(
            out,
            "#EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={},CODECS=\"{},{audio_codecs}\",RESOLUTION={}x{}",
            v.peak_bandwidth() + p.audio_peak_bandwidth(),
            v.average_bandwidth() + p.audio_average_bandwidth(),
            v.codec.codecs,
            v.codec.width,
            v.codec.height
        );
        if let Some(fps) = v.frame_rate_f64() {
            let _ = write!(out, ",FRAME-RATE={fps:.3}");
        }
        let _ = write!(out, ",AUDIO=\"{AUDIO_GROUP}\"");
        if !p.subtitles.is_empty() {
            let _ = write!(out, ",SUBTITLES=\"{SUBTITLE_GROUP}\"");
        }
        let _ = writeln!(out, "\n{}/playlist.m3u8", v.dir);
    }
    out
}

/// `subtitles/<language>.m3u8`, beside the WebVTT file it lists.
pub fn subtitle_playlist_path(s: &Subtitles) -> String {
    format!("subtitles/{}.m3u8", s.language)
}

/// A subtitle media playlist: the whole WebVTT file as one segment of the whole duration.
pub fn subtitle_playlist(s: &Subtitles, duration_secs: f64) -> String {
    let file = s.file.rsplit('/').next().unwrap_or(&s.file);
    format!(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:{}\n#EXT-X-MEDIA-SEQUENCE:1\n\
         #EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:{duration_secs:.5},\n{file}\n#EXT-X-ENDLIST\n",
        duration_secs.ceil().max(1.0) as u64
    )
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
    fn each_audio_track_and_subtitle_language_is_a_rendition() {
        let p = crate::manifest::fixtures::multilingual();
        let m = master_playlist(&p);
        assert!(m.contains("#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"English\",LANGUAGE=\"en\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"audio/playlist.m3u8\"\n"), "{m}");
        assert!(m.contains("#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"French\",LANGUAGE=\"fr\",DEFAULT=NO,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"audio-2/playlist.m3u8\"\n"));
        assert!(m.contains("#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"German\",LANGUAGE=\"de\",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI=\"subtitles/de.m3u8\"\n"));
        // The variant carries the bigger audio track's rate: French, 40 kB in 1.0107 s (316,623 bit/s).
        assert!(m.contains("BANDWIDTH=6316623,"), "{m}");
        assert_eq!(
            m.matches(",AUDIO=\"audio\",SUBTITLES=\"subs\"\n").count(),
            2
        );
        assert_eq!(
            subtitle_playlist(&p.subtitles[0], 5.0),
            "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:5\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:5.00000,\nen.vtt\n#EXT-X-ENDLIST\n"
        );
    }

    #[test]
    fn media_playlist_is_exact() {
        let p = presentation();
        let expected = "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1\n\
            #EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI=\"init.mp4\"\n\
            #EXTINF:2.00000,\nseg-1.m4s\n#EXTINF:2.00000,\nseg-2.m4s\n#EXTINF:1.00000,\nseg-3.m4s\n#EXT-X-ENDLIST\n";
        assert_eq!(media_playlist(&p.video[0]), expected);
        let audio = media_playlist(&p.audio[0]);
        assert!(audio.contains("#EXTINF:2.00533,\nseg-1.m4s\n"), "{audio}");
    }
}
