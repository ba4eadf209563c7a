//! Timestamp normalisation and cutting samples into segments. Pure logic, no I/O.
//!
//! Why normalise: ffmpeg's MP4 puts the first *decoded* video sample at time 0, but with
//! B-frames the first *presented* frame comes later (its composition offset, e.g. 2 frames),
//! and AAC starts with 1024 priming samples. ffmpeg hides both behind edit lists. Players
//! treat edit lists differently under MSE (some ignore them, some apply only part), and a track
//! whose first frame sits after 0 leaves a gap at the playhead that the player only leaves when
//! its stall detector jumps it. We bake the edit into the samples instead: every track's first
//! presented sample is at exactly 0, and the init segment carries no edit list.

use crate::mp4::{Sample, TrackKind};
use std::ops::Range;

/// Rebase `samples` so that the first decode time is 0 and the first presented sample is at 0.
///
/// * Video: composition offsets shrink by the first frame's presentation delay (negative
///   offsets are fine: we write `trun` version 1), decode times start at 0.
/// * Audio: whole priming frames before the edit list's start are dropped (they hold no
///   programme audio), then decode times start at 0.
pub fn normalise(kind: TrackKind, samples: &mut Vec<Sample>, edit_media_time: Option<u64>) {
    let Some(first) = samples.first().copied() else {
        return;
    };
    match kind {
        TrackKind::Video => {
            // Presentation starts at the earliest composition time (the edit list says the same
            // thing when present; the samples are the ground truth).
            let earliest = samples.iter().map(Sample::pts).min().unwrap_or(0);
            let delay = earliest.saturating_sub(first.dts as i64);
            for s in samples.iter_mut() {
                s.dts = s.dts.saturating_sub(first.dts);
                s.cto = s.cto.saturating_sub(delay);
            }
        }
        TrackKind::Audio => {
            let start = first.dts.saturating_add(edit_media_time.unwrap_or(0));
            let keep_from = samples
                .iter()
                .position(|s| s.dts.saturating_add(u64::from(s.duration)) > start)
                .unwrap_or(samples.len());
            samples.drain(..keep_from);
            let base = samples.first().map_or(0, |s| s.dts);
            for s in samples.iter_mut() {
                s.dts = s.dts.saturating_sub(base);
                s.cto = 0;
            }
        }
    }
}

/// Cut a video track at sync samples: a new segment starts at the first sync sample whose
/// presentation time reaches the next multiple of `segment_seconds` (half a frame of slack for
/// rates like 29.97). Returns sample index ranges.
pub fn cut_video(samples: &[Sample], timescale: u32, segment_seconds: u32) -> Vec<Range<usize>> {
    let step = u64::from(timescale) * u64::from(segment_seconds.max(1));
    let mut ranges = Vec::new();
    let mut start = 0;
    let mut next_boundary = step;
    for (i, s) in samples.iter().enumerate().skip(1) {
        let slack = u64::from(s.duration / 2);
        let pts = s.pts().max(0) as u64;
        let reach = pts.saturating_add(slack);
        if s.is_sync() && reach >= next_boundary {
            ranges.push(start..i);
            start = i;
            // The next boundary after this keyframe (a long GOP may skip several).
            next_boundary = (reach / step).saturating_add(1).saturating_mul(step);
        }
    }
    if start < samples.len() {
        ranges.push(start..samples.len());
    }
    ranges
}

/// Cut a track (audio) so that segment k starts at the first sample at or after
/// `boundaries[k]` seconds (boundaries[0] is ignored: the first segment starts at sample 0).
/// Every segment keeps at least one sample.
pub fn cut_at_times(samples: &[Sample], timescale: u32, boundaries: &[f64]) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    for &t in boundaries.iter().skip(1) {
        let tick = (t * f64::from(timescale)).round() as i64;
        let mut i = start + 1;
        while i < samples.len()
            && samples[i]
                .pts()
                .saturating_add(i64::from(samples[i].duration / 2))
                < tick
        {
            i += 1;
        }
        if i >= samples.len() {
            break;
        }
        ranges.push(start..i);
        start = i;
    }
    if start < samples.len() {
        ranges.push(start..samples.len());
    }
    ranges
}

/// Timing of one segment on the presentation timeline, in timescale ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentTiming {
    /// Earliest presentation time (DASH `S@t`).
    pub start: u64,
    /// Until the next segment's start (the last one: until its last sample ends).
    pub duration: u64,
    /// Bytes of the segment: sample data as computed here; the packager replaces it with the
    /// written file's size (moof included) so bandwidths are what a player downloads.
    pub bytes: u64,
}

/// Start and duration of each segment. Segments are contiguous: each lasts until the next starts.
pub fn timings(samples: &[Sample], ranges: &[Range<usize>]) -> Vec<SegmentTiming> {
    let starts: Vec<u64> = ranges
        .iter()
        .map(|r| {
            samples[r.clone()]
                .iter()
                .map(Sample::pts)
                .min()
                .unwrap_or(0)
                .max(0) as u64
        })
        .collect();
    let end = samples
        .iter()
        .map(|s| s.pts().saturating_add(i64::from(s.duration)))
        .max()
        .unwrap_or(0)
        .max(0) as u64;
    ranges
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let next = starts.get(k + 1).copied().unwrap_or(end);
            SegmentTiming {
                start: starts[k],
                duration: next.saturating_sub(starts[k]),
                bytes: samples[r.clone()].iter().map(|s| u64::from(s.size)).sum(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NON_SYNC: u32 = 0x0001_0000;

    /// 30 fps at timescale 15360 (512 ticks a frame), a 2-frame presentation delay and pairs of
    /// reordered frames inside each closed GOP (`gop` a multiple of 3), as with B-frames.
    /// `frames` AAC frames of 1024 samples, 10 bytes each, back to back.
    fn aac(frames: u64) -> Vec<Sample> {
        (0..frames)
            .map(|i| Sample {
                dts: i * 1024,
                duration: 1024,
                cto: 0,
                size: 10,
                flags: 0,
                offset: i * 10,
            })
            .collect()
    }

    fn video(frames: usize, gop: usize) -> Vec<Sample> {
        (0..frames)
            .map(|i| Sample {
                dts: i as u64 * 512,
                duration: 512,
                cto: match (i % gop) % 3 {
                    0 => 1024,
                    1 => 1536,
                    _ => 512,
                },
                size: 100,
                flags: if i % gop == 0 { 0 } else { NON_SYNC },
                offset: i as u64 * 100,
            })
            .collect()
    }

    #[test]
    fn video_first_presented_frame_moves_to_zero() {
        let mut s = video(90, 60);
        assert_eq!(s.iter().map(Sample::pts).min(), Some(1024));
        normalise(TrackKind::Video, &mut s, Some(1024));
        assert_eq!(s[0].dts, 0);
        assert_eq!(s[0].pts(), 0);
        assert_eq!(s.iter().map(Sample::pts).min(), Some(0));
        assert_eq!(
            s[2].cto, -512,
            "B-frame offsets go negative, needing trun v1"
        );
        assert_eq!(s.len(), 90, "no video frame is dropped");
    }

    #[test]
    fn audio_priming_is_dropped_and_rebased() {
        let mut s = aac(10);
        normalise(TrackKind::Audio, &mut s, Some(1024));
        assert_eq!(s.len(), 9);
        assert_eq!((s[0].dts, s[0].offset), (0, 10));
        assert_eq!(s[8].dts, 8 * 1024);
    }

    #[test]
    fn audio_without_edit_list_is_untouched() {
        let mut s = vec![Sample {
            dts: 0,
            duration: 1024,
            cto: 0,
            size: 1,
            flags: 0,
            offset: 0,
        }];
        normalise(TrackKind::Audio, &mut s, None);
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn video_is_cut_at_two_second_keyframes() {
        let mut s = video(300, 60); // 10 s, keyframe every 2 s
        normalise(TrackKind::Video, &mut s, None);
        let ranges = cut_video(&s, 15360, 2);
        assert_eq!(ranges, vec![0..60, 60..120, 120..180, 180..240, 240..300]);
        let t = timings(&s, &ranges);
        assert_eq!(t[0].start, 0);
        assert!(t.iter().all(|x| x.duration == 30720), "{t:?}");
        assert_eq!(t[1].start, 30720);
        assert_eq!(t[0].bytes, 6000);
    }

    #[test]
    fn extra_keyframes_inside_a_segment_do_not_cut() {
        let mut s = video(120, 15); // keyframe every 1/2 s
        normalise(TrackKind::Video, &mut s, None);
        assert_eq!(cut_video(&s, 15360, 2), vec![0..60, 60..120]);
    }

    #[test]
    fn audio_follows_video_boundaries() {
        // 48 kHz AAC, 1024-sample frames: 2 s is 93.75 frames.
        let s = aac(470);
        let ranges = cut_at_times(&s, 48000, &[0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(ranges.len(), 5);
        assert_eq!(ranges[0], 0..94); // frame 94 starts at 2.005 s, frame 93 at 1.984 s
        let t = timings(&s, &ranges);
        assert_eq!(t[1].start, 94 * 1024);
        assert_eq!(t.iter().map(|x| x.duration).sum::<u64>(), 470 * 1024);
    }

    #[test]
    fn absurd_timestamps_do_not_panic_or_hang() {
        let mut s = vec![
            Sample {
                dts: u64::MAX - 5,
                duration: u32::MAX,
                cto: i64::MAX,
                size: 1,
                flags: 0,
                offset: 0,
            },
            Sample {
                dts: 3,
                duration: 1,
                cto: i64::MIN,
                size: 1,
                flags: 0,
                offset: 0,
            },
            Sample {
                dts: u64::MAX,
                duration: 7,
                cto: 0,
                size: 1,
                flags: 0,
                offset: 0,
            },
        ];
        for kind in [TrackKind::Video, TrackKind::Audio] {
            let mut t = s.clone();
            normalise(kind, &mut t, Some(u64::MAX));
            let ranges = cut_video(&t, 1, 1);
            let _ = timings(&t, &ranges);
            let _ = cut_at_times(&t, 90000, &[0.0, 1e300, f64::NAN]);
        }
        normalise(TrackKind::Video, &mut s, None);
        let _ = timings(&s, &cut_video(&s, u32::MAX, u32::MAX));
    }

    #[test]
    fn empty_input_gives_no_segments() {
        assert!(cut_video(&[], 90000, 2).is_empty());
        assert!(cut_at_times(&[], 48000, &[0.0, 2.0]).is_empty());
        let mut none = Vec::new();
        normalise(TrackKind::Video, &mut none, Some(3));
    }
}
