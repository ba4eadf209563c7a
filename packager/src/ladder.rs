//! The ABR ladder: which H.264 rungs to encode for a source.
//!
//! Default: 720p at 3000 kbit/s, 480p at 1400, 360p at 800 — the top three rungs of
//! [`CATALOGUE`] that are not taller than the source (a 1080p source gets 720/480/360; a 480p
//! source gets 480/360/240). We never upscale: a source shorter than 360 lines (too small for
//! three catalogue rungs) gets three rungs of its own at full, 2/3 and 1/2 of its height, with
//! bitrates scaled by pixel count.

use crate::error::PackageError;
use serde::{Deserialize, Serialize};

/// One rung of the ladder. `name` is the folder under `video/` and the DASH Representation id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rung {
    pub name: String,
    pub height: u32,
    /// Target video bitrate in kbit/s.
    pub video_kbps: u32,
}

impl Rung {
    pub fn new(height: u32, video_kbps: u32) -> Self {
        Self {
            name: format!("{height}p"),
            height,
            video_kbps,
        }
    }

    /// Width for this rung keeping the source's display aspect ratio, rounded to even.
    pub fn width_for(&self, display_aspect: f64) -> u32 {
        let w = (f64::from(self.height) * display_aspect / 2.0).round() as u32 * 2;
        w.max(2)
    }
}

/// Heights and bitrates (kbit/s) Marquee knows, highest first.
pub const CATALOGUE: &[(u32, u32)] = &[
    (1080, 5000),
    (720, 3000),
    (480, 1400),
    (360, 800),
    (240, 400),
    (144, 200),
];

/// The height the default ladder starts at (1080p is opt-in through `--ladder`).
pub const DEFAULT_TOP: u32 = 720;

/// Smallest rung height we encode.
pub const MIN_HEIGHT: u32 = 32;

/// Bitrate for a height outside the catalogue: 360p's 800 kbit/s scaled by pixel count.
pub fn default_kbps(height: u32) -> u32 {
    if let Some(&(_, kbps)) = CATALOGUE.iter().find(|(h, _)| *h == height) {
        return kbps;
    }
    let scale = f64::from(height) / 360.0;
    ((800.0 * scale * scale).round() as u32).max(100)
}

/// The ladder to encode for a source `source_height` lines tall.
pub fn choose(source_height: u32, requested: Option<&[Rung]>) -> Result<Vec<Rung>, PackageError> {
    if source_height < MIN_HEIGHT {
        return Err(PackageError::InvalidRequest(format!(
            "the source is {source_height} lines tall; at least {MIN_HEIGHT} are needed"
        )));
    }
    let mut rungs: Vec<Rung> = match requested {
        Some(req) => {
            let fitting: Vec<Rung> = req
                .iter()
                .filter(|r| r.height <= source_height)
                .cloned()
                .collect();
            for r in req.iter().filter(|r| r.height > source_height) {
                tracing::warn!(rung = %r.name, source_height, "skipping a rung taller than the source");
            }
            if fitting.is_empty() {
                return Err(PackageError::InvalidRequest(format!(
                    "every requested rung is taller than the {source_height}-line source"
                )));
            }
            fitting
        }
        None => {
            let fit: Vec<Rung> = CATALOGUE
                .iter()
                .filter(|(h, _)| *h <= DEFAULT_TOP && *h <= source_height)
                .take(3)
                .map(|&(h, k)| Rung::new(h, k))
                .collect();
            if fit.len() == 3 {
                fit
            } else {
                let h = source_height & !1;
                [h, (h * 2 / 3) & !1, (h / 2) & !1]
                    .into_iter()
                    .map(|h| Rung::new(h, default_kbps(h)))
                    .collect()
            }
        }
    };
    rungs.sort_by_key(|r| std::cmp::Reverse(r.height));
    rungs.dedup_by(|a, b| a.name == b.name);
    Ok(rungs)
}

/// Parse `--ladder 720p,480p=1200,360p` (height, optional kbit/s).
pub fn parse_ladder(spec: &str) -> Result<Vec<Rung>, PackageError> {
    let bad = |item: &str| {
        PackageError::InvalidRequest(format!(
            "ladder entry '{item}' is not like 720p or 720p=3000 (kbit/s)"
        ))
    };
    let mut rungs = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, kbps) = match item.split_once('=') {
            Some((n, k)) => (
                n,
                Some(
                    k.trim_end_matches('k')
                        .parse::<u32>()
                        .map_err(|_| bad(item))?,
                ),
            ),
            None => (item, None),
        };
        let height: u32 = name
            .strip_suffix('p')
            .and_then(|h| h.parse().ok())
            .ok_or_else(|| bad(item))?;
        if !(MIN_HEIGHT..=4320).contains(&height) || !height.is_multiple_of(2) || kbps == Some(0) {
            return Err(bad(item));
        }
        rungs.push(Rung::new(
            height,
            kbps.unwrap_or_else(|| default_kbps(height)),
        ));
    }
    if rungs.is_empty() {
        return Err(PackageError::InvalidRequest("the ladder is empty".into()));
    }
    Ok(rungs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(r: &[Rung]) -> Vec<&str> {
        r.iter().map(|r| r.name.as_str()).collect()
    }

    #[test]
    fn default_ladder_never_upscales() {
        assert_eq!(
            names(&choose(2160, None).expect("ok")),
            ["720p", "480p", "360p"]
        );
        assert_eq!(
            names(&choose(720, None).expect("ok")),
            ["720p", "480p", "360p"]
        );
        assert_eq!(
            names(&choose(540, None).expect("ok")),
            ["480p", "360p", "240p"]
        );
        assert_eq!(
            names(&choose(360, None).expect("ok")),
            ["360p", "240p", "144p"]
        );
        let small = choose(180, None).expect("ok");
        assert_eq!(names(&small), ["180p", "120p", "90p"]);
        assert_eq!(small[0].video_kbps, 200);
        assert!(choose(20, None).is_err());
    }

    #[test]
    fn requested_ladder_drops_taller_rungs() {
        let req = parse_ladder("1080p,720p=2500,480p").expect("ok");
        let got = choose(720, Some(&req)).expect("ok");
        assert_eq!(got, vec![Rung::new(720, 2500), Rung::new(480, 1400)]);
        assert!(choose(240, Some(&req)).is_err());
    }

    #[test]
    fn bad_ladder_specs_are_rejected() {
        for spec in ["", "720", "p", "720p=abc", "721p", "720p=0", "99999p"] {
            assert!(parse_ladder(spec).is_err(), "{spec}");
        }
        assert_eq!(
            parse_ladder("360p=800k").expect("ok"),
            vec![Rung::new(360, 800)]
        );
    }

    #[test]
    fn width_keeps_aspect_and_is_even() {
        assert_eq!(Rung::new(360, 800).width_for(16.0 / 9.0), 640);
        assert_eq!(Rung::new(480, 1400).width_for(16.0 / 9.0), 854);
        assert_eq!(Rung::new(90, 100).width_for(16.0 / 9.0), 160);
    }
}
