//! Reading samples out of `moof` boxes: `tfhd` defaults, `tfdt` decode time, `trun` entries.

use super::Mp4Error;
use super::init::TrackInfo;
use super::reader::{BoxRef, Reader, boxes};

/// One coded sample (frame) with its timing on the media timeline and where its bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Decode time in timescale ticks.
    pub dts: u64,
    pub duration: u32,
    /// Composition (presentation) offset from `dts`; negative after normalisation.
    pub cto: i64,
    pub size: u32,
    /// ISO BMFF sample flags (bit 16 set = not a sync sample).
    pub flags: u32,
    /// Absolute byte offset of the sample data in its source file.
    pub offset: u64,
}

impl Sample {
    pub fn pts(&self) -> i64 {
        (self.dts as i64).saturating_add(self.cto)
    }

    pub fn is_sync(&self) -> bool {
        self.flags & 0x0001_0000 == 0
    }
}

const TFHD_BASE_DATA_OFFSET: u32 = 0x1;
const TFHD_SAMPLE_DESCRIPTION: u32 = 0x2;
const TFHD_DURATION: u32 = 0x8;
const TFHD_SIZE: u32 = 0x10;
const TFHD_FLAGS: u32 = 0x20;

const TRUN_DATA_OFFSET: u32 = 0x1;
const TRUN_FIRST_FLAGS: u32 = 0x4;
const TRUN_DURATION: u32 = 0x100;
const TRUN_SIZE: u32 = 0x200;
const TRUN_FLAGS: u32 = 0x400;
const TRUN_CTO: u32 = 0x800;

/// Append the samples of `info`'s track found in one `moof` box (`moof` is the whole box,
/// header included, and started at byte `moof_offset` of its file). `next_dts` carries the
/// decode time across fragments that lack a `tfdt`.
pub fn read_samples(
    moof: &[u8],
    moof_offset: u64,
    info: &TrackInfo,
    next_dts: &mut u64,
    out: &mut Vec<Sample>,
) -> Result<(), Mp4Error> {
    let moof_box = boxes(moof).next().ok_or(Mp4Error::Truncated("moof"))??;
    if !moof_box.is(b"moof") {
        return Err(Mp4Error::Missing("a moof box"));
    }
    for traf in boxes(moof_box.body) {
        let traf = traf?;
        if traf.is(b"traf") {
            read_traf(traf, moof_offset, info, next_dts, out)?;
        }
    }
    Ok(())
}

struct Defaults {
    base: u64,
    duration: u32,
    size: u32,
    flags: u32,
}

fn read_traf(
    traf: BoxRef<'_>,
    moof_offset: u64,
    info: &TrackInfo,
    next_dts: &mut u64,
    out: &mut Vec<Sample>,
) -> Result<(), Mp4Error> {
    let tfhd = super::reader::require(traf.body, b"tfhd", "a tfhd box")?;
    let (track_id, defaults) = read_tfhd(tfhd.body, moof_offset, info)?;
    if track_id != info.track_id {
        return Ok(());
    }
    if let Some(tfdt) = super::reader::find(traf.body, b"tfdt")? {
        let mut r = Reader::new(tfdt.body, "tfdt");
        let (version, _) = r.full_header()?;
        *next_dts = if version == 1 {
            r.u64()?
        } else {
            u64::from(r.u32()?)
        };
    }
    // A trun without a data offset continues where the previous one's data ended.
    let mut data_pos = defaults.base;
    for b in boxes(traf.body) {
        let b = b?;
        if b.is(b"trun") {
            data_pos = read_trun(b.body, &defaults, data_pos, next_dts, out)?;
        }
    }
    Ok(())
}

fn read_tfhd(body: &[u8], moof_offset: u64, info: &TrackInfo) -> Result<(u32, Defaults), Mp4Error> {
    let mut r = Reader::new(body, "tfhd");
    let (_, flags) = r.full_header()?;
    let track_id = r.u32()?;
    // Without an explicit base, data offsets count from the moof (default-base-is-moof, or the
    // first traf of a moof, which is all we read).
    let base = if flags & TFHD_BASE_DATA_OFFSET != 0 {
        r.u64()?
    } else {
        moof_offset
    };
    if flags & TFHD_SAMPLE_DESCRIPTION != 0 {
        r.u32()?;
    }
    let mut d = Defaults {
        base,
        duration: info.trex.duration,
        size: info.trex.size,
        flags: info.trex.flags,
    };
    if flags & TFHD_DURATION != 0 {
        d.duration = r.u32()?;
    }
    if flags & TFHD_SIZE != 0 {
        d.size = r.u32()?;
    }
    if flags & TFHD_FLAGS != 0 {
        d.flags = r.u32()?;
    }
    Ok((track_id, d))
}

fn read_trun(
    body: &[u8],
    d: &Defaults,
    data_pos: u64,
    next_dts: &mut u64,
    out: &mut Vec<Sample>,
) -> Result<u64, Mp4Error> {
    let mut r = Reader::new(body, "trun");
    let (version, flags) = r.full_header()?;
    let count = r.u32()?;
    let mut pos = if flags & TRUN_DATA_OFFSET != 0 {
        d.base
            .checked_add_signed(i64::from(r.i32()?))
            .ok_or(Mp4Error::Unsupported("negative data offset".into()))?
    } else {
        data_pos
    };
    let first_flags = if flags & TRUN_FIRST_FLAGS != 0 {
        Some(r.u32()?)
    } else {
        None
    };
    // Each entry is at least 0 bytes, so bound the count by what is left before allocating.
    let per_entry = [TRUN_DURATION, TRUN_SIZE, TRUN_FLAGS, TRUN_CTO]
        .iter()
        .filter(|f| flags & **f != 0)
        .count()
        * 4;
    if per_entry > 0 && (count as usize) > r.remaining() / per_entry {
        return Err(Mp4Error::Truncated("trun"));
    }
    for i in 0..count {
        let duration = if flags & TRUN_DURATION != 0 {
            r.u32()?
        } else {
            d.duration
        };
        let size = if flags & TRUN_SIZE != 0 {
            r.u32()?
        } else {
            d.size
        };
        let mut sample_flags = if flags & TRUN_FLAGS != 0 {
            r.u32()?
        } else {
            d.flags
        };
        if i == 0
            && let Some(f) = first_flags
        {
            sample_flags = f;
        }
        let cto = if flags & TRUN_CTO == 0 {
            0
        } else if version == 0 {
            i64::from(r.u32()?)
        } else {
            i64::from(r.i32()?)
        };
        out.push(Sample {
            dts: *next_dts,
            duration,
            cto,
            size,
            flags: sample_flags,
            offset: pos,
        });
        *next_dts = next_dts
            .checked_add(u64::from(duration))
            .ok_or(Mp4Error::Unsupported("decode time overflow".into()))?;
        pos = pos
            .checked_add(u64::from(size))
            .ok_or(Mp4Error::Unsupported("data offset overflow".into()))?;
    }
    Ok(pos)
}
