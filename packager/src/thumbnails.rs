//! Trick-play thumbnails: small frames every few seconds, tiled into JPEG sprite sheets by the
//! same ffmpeg run that encodes the ladder (one decode), with a WebVTT index that maps each
//! stretch of the timeline to its tile (`sprite-1.jpg#xywh=x,y,w,h`), the form players'
//! seek-bar previews read.

use std::fmt::Write;

/// Thumbnail width in pixels; the height follows the picture's aspect.
pub const WIDTH: u32 = 160;
/// Tiles per sprite sheet: 10 × 10.
pub const COLUMNS: u32 = 10;
pub const ROWS: u32 = 10;
/// Folder of the sprites and the index in a package.
pub const DIR: &str = "thumbnails";
/// The index file, in [`DIR`].
pub const INDEX: &str = "thumbnails.vtt";

/// The thumbnails of one package.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    /// Seconds between thumbnails: 2 for short videos, up to 10, about 300 thumbnails at most.
    pub interval_secs: u32,
    pub width: u32,
    pub height: u32,
    /// How many thumbnails the video gets.
    pub count: u32,
}

impl Plan {
    pub fn new(duration_secs: f64, display_aspect: f64) -> Self {
        let interval_secs = ((duration_secs / 300.0).ceil() as u32).clamp(2, 10);
        let height = ((f64::from(WIDTH) / display_aspect.max(0.1) / 2.0).round() as u32 * 2).max(2);
        let count = ((duration_secs / f64::from(interval_secs)).ceil() as u32).max(1);
        Self {
            interval_secs,
            width: WIDTH,
            height,
            count,
        }
    }

    /// Sprite sheets needed.
    pub fn sheets(&self) -> u32 {
        self.count.div_ceil(COLUMNS * ROWS)
    }

    /// The filter after a `split` branch: one frame per interval, scaled, tiled.
    pub fn filter(&self) -> String {
        format!(
            "fps=1/{},scale={}:{},setsar=1,tile={COLUMNS}x{ROWS}",
            self.interval_secs, self.width, self.height
        )
    }

    /// The WebVTT index: one cue per thumbnail, the last ending at `duration_secs`.
    pub fn index(&self, duration_secs: f64) -> String {
        let mut out = String::from("WEBVTT\n");
        let per_sheet = COLUMNS * ROWS;
        for k in 0..self.count {
            let start = f64::from(k * self.interval_secs);
            let end = (f64::from((k + 1) * self.interval_secs)).min(duration_secs);
            if end <= start {
                break;
            }
            let (sheet, tile) = (k / per_sheet, k % per_sheet);
            let (x, y) = (
                (tile % COLUMNS) * self.width,
                (tile / COLUMNS) * self.height,
            );
            let _ = write!(
                out,
                "\n{} --> {}\n{}#xywh={x},{y},{},{}\n",
                timestamp(start),
                timestamp(end),
                sheet_name(sheet as usize),
                self.width,
                self.height
            );
        }
        out
    }
}

/// Sprite sheet file name, numbered from 1 (ffmpeg's `%d`).
pub fn sheet_name(k: usize) -> String {
    format!("sprite-{}.jpg", k + 1)
}

/// `HH:MM:SS.mmm`.
fn timestamp(secs: f64) -> String {
    let ms = (secs * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_videos_get_a_thumbnail_every_two_seconds_long_ones_fewer() {
        let short = Plan::new(65.0, 16.0 / 9.0);
        assert_eq!(
            (short.interval_secs, short.count, short.height),
            (2, 33, 90)
        );
        assert_eq!(short.sheets(), 1);
        let film = Plan::new(2.0 * 3600.0, 2.39);
        assert_eq!((film.interval_secs, film.count, film.height), (10, 720, 66));
        assert_eq!(film.sheets(), 8);
        assert_eq!(short.filter(), "fps=1/2,scale=160:90,setsar=1,tile=10x10");
    }

    #[test]
    fn the_index_points_each_stretch_at_its_tile() {
        let plan = Plan::new(205.0, 16.0 / 9.0);
        let vtt = plan.index(205.0);
        assert!(vtt.starts_with(
            "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nsprite-1.jpg#xywh=0,0,160,90\n"
        ));
        assert!(vtt.contains("\n00:00:20.000 --> 00:00:22.000\nsprite-1.jpg#xywh=0,90,160,90\n"));
        // Thumbnail 101 is the first tile of the second sheet.
        assert!(vtt.contains("\n00:03:20.000 --> 00:03:22.000\nsprite-2.jpg#xywh=0,0,160,90\n"));
        assert!(vtt.ends_with("00:03:24.000 --> 00:03:25.000\nsprite-2.jpg#xywh=320,0,160,90\n"));
    }
}
