//! The packaged presentation as the manifest writers see it: renditions and their segments.

use crate::mp4::{CodecInfo, TrackKind};
use crate::segment::SegmentTiming;

/// One packaged track (a video rung or the audio) with its segments.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendition {
    /// `720p`, … or `audio`; the DASH Representation id.
    pub id: String,
    /// Folder relative to the package root: `video/720p` or `audio`.
    pub dir: String,
    pub kind: TrackKind,
    pub codec: CodecInfo,
    pub timescale: u32,
    /// Video frame rate as `num/den` (`30/1`, `30000/1001`); `None` for audio.
    pub frame_rate: Option<(u32, u32)>,
    /// An audio track's language (BCP 47, `und` when unknown); `None` for video.
    pub language: Option<String>,
    pub segments: Vec<SegmentTiming>,
}

impl Rendition {
    pub fn segment_secs(&self, k: usize) -> f64 {
        self.segments
            .get(k)
            .map_or(0.0, |s| s.duration as f64 / f64::from(self.timescale))
    }

    pub fn duration_secs(&self) -> f64 {
        let ticks: u64 = self.segments.iter().map(|s| s.duration).sum();
        ticks as f64 / f64::from(self.timescale)
    }

    /// Highest bitrate of any one segment, bits per second (HLS BANDWIDTH, DASH @bandwidth).
    pub fn peak_bandwidth(&self) -> u64 {
        (0..self.segments.len())
            .filter(|&k| self.segment_secs(k) > 0.0)
            .map(|k| (self.segments[k].bytes as f64 * 8.0 / self.segment_secs(k)).ceil() as u64)
            .max()
            .unwrap_or(0)
    }

    /// Bits per second over the whole track (HLS AVERAGE-BANDWIDTH).
    pub fn average_bandwidth(&self) -> u64 {
        let secs = self.duration_secs();
        if secs <= 0.0 {
            return 0;
        }
        let bytes: u64 = self.segments.iter().map(|s| s.bytes).sum();
        (bytes as f64 * 8.0 / secs).ceil() as u64
    }

    pub fn frame_rate_f64(&self) -> Option<f64> {
        self.frame_rate
            .filter(|&(_, d)| d > 0)
            .map(|(n, d)| f64::from(n) / f64::from(d))
    }
}

/// A WebVTT subtitle track: one file covering the whole presentation.
#[derive(Debug, Clone, PartialEq)]
pub struct Subtitles {
    /// BCP 47 language tag.
    pub language: String,
    /// `subtitles/<language>.vtt`, relative to the package root.
    pub file: String,
}

/// All renditions of one title.
#[derive(Debug, Clone, PartialEq)]
pub struct Presentation {
    /// Video rungs, highest first.
    pub video: Vec<Rendition>,
    /// Audio tracks, the default first.
    pub audio: Vec<Rendition>,
    pub subtitles: Vec<Subtitles>,
}

impl Presentation {
    pub fn duration_secs(&self) -> f64 {
        self.video
            .iter()
            .chain(&self.audio)
            .map(Rendition::duration_secs)
            .fold(0.0, f64::max)
    }

    /// The highest peak bitrate of any audio track (what a variant adds for its audio).
    pub fn audio_peak_bandwidth(&self) -> u64 {
        self.audio
            .iter()
            .map(Rendition::peak_bandwidth)
            .max()
            .unwrap_or(0)
    }

    /// The highest average bitrate of any audio track.
    pub fn audio_average_bandwidth(&self) -> u64 {
        self.audio
            .iter()
            .map(Rendition::average_bandwidth)
            .max()
            .unwrap_or(0)
    }
}

/// Segment file name, numbered from 1.
pub fn segment_name(k: usize) -> String {
    format!("seg-{}.m4s", k + 1)
}

#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    pub fn video(id: &str, height: u32, durations: &[u64], bytes: u64) -> Rendition {
        let mut start = 0;
        let segments = durations
            .iter()
            .map(|&d| {
                let s = SegmentTiming {
                    start,
                    duration: d,
                    bytes,
                };
                start += d;
                s
            })
            .collect();
        Rendition {
            id: id.into(),
            dir: format!("video/{id}"),
            kind: TrackKind::Video,
            codec: CodecInfo {
                codecs: "avc1.64001f".into(),
                width: height * 16 / 9,
                height,
                sample_rate: 0,
                channels: 0,
            },
            timescale: 15360,
            frame_rate: Some((30, 1)),
            language: None,
            segments,
        }
    }

    pub fn audio(durations: &[u64], bytes: u64) -> Rendition {
        let mut r = video("audio", 0, durations, bytes);
        r.dir = "audio".into();
        r.kind = TrackKind::Audio;
        r.codec = CodecInfo {
            codecs: "mp4a.40.2".into(),
            width: 0,
            height: 0,
            sample_rate: 48000,
            channels: 2,
        };
        r.timescale = 48000;
        r.frame_rate = None;
        r.language = Some("und".into());
        r
    }

    /// Two video rungs and audio, 3 segments of 2 s, 2 s and 1 s.
    pub fn presentation() -> Presentation {
        Presentation {
            video: vec![
                video("720p", 720, &[30720, 30720, 15360], 750_000),
                video("360p", 360, &[30720, 30720, 15360], 200_000),
            ],
            audio: vec![audio(&[96256, 95232, 48512], 32_000)],
            subtitles: Vec::new(),
        }
    }

    /// The same with a second (French) audio track and English and German subtitles.
    pub fn multilingual() -> Presentation {
        let mut p = presentation();
        p.audio[0].language = Some("en".into());
        let mut fr = audio(&[96256, 95232, 48512], 40_000);
        fr.id = "audio-2".into();
        fr.dir = "audio-2".into();
        fr.language = Some("fr".into());
        p.audio.push(fr);
        p.subtitles = ["en", "de"]
            .map(|l| Subtitles {
                language: l.into(),
                file: format!("subtitles/{l}.vtt"),
            })
            .to_vec();
        p
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;

    #[test]
    fn bandwidth_is_peak_and_average_of_segments() {
        let r = video("720p", 720, &[30720, 15360], 500_000);
        // 500 kB in 2 s = 2 Mbit/s; in 1 s = 4 Mbit/s.
        assert_eq!(r.peak_bandwidth(), 4_000_000);
        assert_eq!(r.average_bandwidth(), 2_666_667);
        assert_eq!(r.duration_secs(), 3.0);
    }
}
