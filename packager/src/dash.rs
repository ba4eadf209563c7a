//! One static DASH MPD (ISO 23009-1, live profile) over the same CMAF segments as HLS:
//! SegmentTemplate + SegmentTimeline per Representation.

use crate::language;
use crate::manifest::{Presentation, Rendition};
use crate::segment::SegmentTiming;
use std::fmt::Write;

/// ISO 8601 duration with millisecond precision, e.g. `PT10.010S`.
pub fn iso_duration(secs: f64) -> String {
    format!("PT{:.3}S", secs.max(0.0))
}

pub fn mpd(p: &Presentation) -> String {
    let max_seg = p
        .video
        .iter()
        .chain(&p.audio)
        .flat_map(|r| (0..r.segments.len()).map(move |k| r.segment_secs(k)))
        .fold(0.0, f64::max);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" type=\"static\" mediaPresentationDuration=\"{}\" maxSegmentDuration=\"{}\" minBufferTime=\"PT2.000S\">",
        iso_duration(p.duration_secs()),
        iso_duration(max_seg)
    );
    out.push_str("  <Period id=\"0\" start=\"PT0S\">\n");
    let max_w = p.video.iter().map(|v| v.codec.width).max().unwrap_or(0);
    let max_h = p.video.iter().map(|v| v.codec.height).max().unwrap_or(0);
    let _ = write!(
        out,
        "    <AdaptationSet id=\"0\" contentType=\"video\" mimeType=\"video/mp4\" segmentAlignment=\"true\" startWithSAP=\"1\" maxWidth=\"{max_w}\" maxHeight=\"{max_h}\""
    );
    if let Some((n, d)) = p.video.first().and_then(|v| v.frame_rate) {
        let _ = write!(
            out,
            " frameRate=\"{}\"",
            if d == 1 {
                n.to_string()
            } else {
                format!("{n}/{d}")
            }
        );
    }
    out.push_str(">\n");
    for v in &p.video {
        let _ = writeln!(
            out,
            "      <Representation id=\"{}\" codecs=\"{}\" bandwidth=\"{}\" width=\"{}\" height=\"{}\" sar=\"1:1\">",
            v.id,
            v.codec.codecs,
            v.peak_bandwidth(),
            v.codec.width,
            v.codec.height
        );
        segment_template(&mut out, v);
        out.push_str("      </Representation>\n");
    }
    out.push_str("    </AdaptationSet>\n");
    let mut id = 1;
    for (i, a) in p.audio.iter().enumerate() {
        let lang = a.language.as_deref().unwrap_or(language::UNDETERMINED);
        let _ = writeln!(
            out,
            "    <AdaptationSet id=\"{id}\" contentType=\"audio\" mimeType=\"audio/mp4\" lang=\"{lang}\" segmentAlignment=\"true\" startWithSAP=\"1\">"
        );
        id += 1;
        // The first track is the one to play when the viewer's language has none.
        let role = if i == 0 { "main" } else { "dub" };
        let _ = writeln!(
            out,
            "      <Role schemeIdUri=\"urn:mpeg:dash:role:2011\" value=\"{role}\"/>"
        );
        let _ = writeln!(
            out,
            "      <Representation id=\"{}\" codecs=\"{}\" bandwidth=\"{}\" audioSamplingRate=\"{}\">",
            a.id,
            a.codec.codecs,
            a.peak_bandwidth(),
            a.codec.sample_rate
        );
        let _ = writeln!(
            out,
            "        <AudioChannelConfiguration schemeIdUri=\"urn:mpeg:dash:23003:3:audio_channel_configuration:2011\" value=\"{}\"/>",
            a.codec.channels
        );
        segment_template(&mut out, a);
        out.push_str("      </Representation>\n    </AdaptationSet>\n");
    }
    for s in &p.subtitles {
        let _ = writeln!(
            out,
            "    <AdaptationSet id=\"{id}\" contentType=\"text\" mimeType=\"text/vtt\" lang=\"{}\">",
            s.language
        );
        id += 1;
        out.push_str("      <Role schemeIdUri=\"urn:mpeg:dash:role:2011\" value=\"subtitle\"/>\n");
        let _ = writeln!(
            out,
            "      <Representation id=\"subtitles-{}\" bandwidth=\"256\">\n        <BaseURL>{}</BaseURL>\n      </Representation>\n    </AdaptationSet>",
            s.language, s.file
        );
    }
    out.push_str("  </Period>\n</MPD>\n");
    out
}

fn segment_template(out: &mut String, r: &Rendition) {
    let _ = writeln!(
        out,
        "        <SegmentTemplate timescale=\"{}\" initialization=\"{dir}/init.mp4\" media=\"{dir}/seg-$Number$.m4s\" startNumber=\"1\">",
        r.timescale,
        dir = r.dir
    );
    out.push_str("          <SegmentTimeline>\n");
    for line in timeline(&r.segments) {
        let _ = writeln!(out, "            {line}");
    }
    out.push_str("          </SegmentTimeline>\n        </SegmentTemplate>\n");
}

/// `<S>` elements: runs of equal durations fold into `r`; `t` only where the timeline starts
/// (segments are contiguous).
fn timeline(segments: &[SegmentTiming]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut k = 0;
    while k < segments.len() {
        let d = segments[k].duration;
        let run = segments[k..].iter().take_while(|s| s.duration == d).count();
        let t = if k == 0 {
            format!("t=\"{}\" ", segments[0].start)
        } else {
            String::new()
        };
        let r = if run > 1 {
            format!(" r=\"{}\"", run - 1)
        } else {
            String::new()
        };
        lines.push(format!("<S {t}d=\"{d}\"{r}/>"));
        k += run;
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::fixtures::presentation;

    #[test]
    fn timeline_folds_repeats() {
        let p = presentation();
        assert_eq!(
            timeline(&p.video[0].segments),
            ["<S t=\"0\" d=\"30720\" r=\"1\"/>", "<S d=\"15360\"/>"]
        );
        assert_eq!(
            timeline(&p.audio[0].segments),
            [
                "<S t=\"0\" d=\"96256\"/>",
                "<S d=\"95232\"/>",
                "<S d=\"48512\"/>"
            ]
        );
    }

    #[test]
    fn mpd_has_exact_attributes() {
        let m = mpd(&presentation());
        let lines: Vec<&str> = m.lines().map(str::trim).collect();
        assert_eq!(
            lines[1],
            "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" type=\"static\" mediaPresentationDuration=\"PT5.000S\" maxSegmentDuration=\"PT2.005S\" minBufferTime=\"PT2.000S\">"
        );
        assert!(lines.contains(
            &"<AdaptationSet id=\"0\" contentType=\"video\" mimeType=\"video/mp4\" segmentAlignment=\"true\" startWithSAP=\"1\" maxWidth=\"1280\" maxHeight=\"720\" frameRate=\"30\">"
        ));
        assert!(lines.contains(
            &"<Representation id=\"720p\" codecs=\"avc1.64001f\" bandwidth=\"6000000\" width=\"1280\" height=\"720\" sar=\"1:1\">"
        ));
        assert!(lines.contains(
            &"<SegmentTemplate timescale=\"15360\" initialization=\"video/360p/init.mp4\" media=\"video/360p/seg-$Number$.m4s\" startNumber=\"1\">"
        ));
        assert!(lines.contains(&"<Representation id=\"audio\" codecs=\"mp4a.40.2\" bandwidth=\"253299\" audioSamplingRate=\"48000\">"));
        assert!(lines.contains(
            &"<AudioChannelConfiguration schemeIdUri=\"urn:mpeg:dash:23003:3:audio_channel_configuration:2011\" value=\"2\"/>"
        ));
        assert_eq!(m.matches("<Representation ").count(), 3);
        assert_eq!(m.matches("<Period ").count(), 1);
        assert!(m.ends_with("</MPD>\n"));
    }

    #[test]
    fn each_audio_track_and_subtitle_language_is_an_adaptation_set() {
        let m = mpd(&crate::manifest::fixtures::multilingual());
        let lines: Vec<&str> = m.lines().map(str::trim).collect();
        assert!(lines.contains(&"<AdaptationSet id=\"1\" contentType=\"audio\" mimeType=\"audio/mp4\" lang=\"en\" segmentAlignment=\"true\" startWithSAP=\"1\">"));
        assert!(lines.contains(&"<AdaptationSet id=\"2\" contentType=\"audio\" mimeType=\"audio/mp4\" lang=\"fr\" segmentAlignment=\"true\" startWithSAP=\"1\">"));
        assert!(lines.contains(
            &"<AdaptationSet id=\"4\" contentType=\"text\" mimeType=\"text/vtt\" lang=\"de\">"
        ));
        assert!(lines.contains(&"<BaseURL>subtitles/de.vtt</BaseURL>"));
        assert_eq!(m.matches("value=\"subtitle\"").count(), 2);
        assert_eq!(m.matches("value=\"main\"").count(), 1);
    }

    #[test]
    fn durations_are_iso8601() {
        assert_eq!(iso_duration(10.0104), "PT10.010S");
        assert_eq!(iso_duration(-1.0), "PT0.000S");
    }
}
