//! Writing CMAF init segments (ftyp+moov) and media segments (moof+mdat).

use super::fragment::Sample;
use super::reader::boxes;
use super::{CONTAINERS, Mp4Error};

/// Boxes dropped from the init segment: edit lists (their shift is baked into our timestamps,
/// and players disagree on them), fragment duration (`mehd`) and user data.
const DROPPED: &[&[u8; 4]] = &[b"edts", b"mehd", b"udta"];

/// Build a CMAF init segment from the source file's `moov` body.
pub fn write_init(moov_body: &[u8]) -> Result<Vec<u8>, Mp4Error> {
    let mut out = Vec::with_capacity(moov_body.len() + 64);
    write_box(&mut out, b"ftyp", |b| {
        b.extend_from_slice(b"iso6");
        b.extend_from_slice(&0u32.to_be_bytes());
        for brand in [b"iso6", b"cmfc", b"mp41"] {
            b.extend_from_slice(brand);
        }
    });
    let moov = rewrite_children(moov_body)?;
    write_box(&mut out, b"moov", |b| b.extend_from_slice(&moov));
    Ok(out)
}

fn rewrite_children(body: &[u8]) -> Result<Vec<u8>, Mp4Error> {
    let mut out = Vec::with_capacity(body.len());
    for child in boxes(body) {
        let child = child?;
        if DROPPED.contains(&&child.kind) {
            continue;
        }
        if CONTAINERS.contains(&&child.kind) {
            let inner = rewrite_children(child.body)?;
            write_box(&mut out, &child.kind, |b| b.extend_from_slice(&inner));
        } else {
            out.extend_from_slice(child.whole);
        }
    }
    Ok(out)
}

fn write_box(out: &mut Vec<u8>, kind: &[u8; 4], body: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(kind);
    body(out);
    let size = (out.len() - start) as u32;
    out[start..start + 4].copy_from_slice(&size.to_be_bytes());
}

fn full_header(out: &mut Vec<u8>, version: u8, flags: u32) {
    out.extend_from_slice(&((u32::from(version) << 24) | flags).to_be_bytes());
}

/// Build one media segment: a `moof` with a single `traf` (tfhd default-base-is-moof, tfdt v1,
/// trun v1 with per-sample duration, size, flags and signed composition offsets) and its
/// `mdat`. `data` is the samples' bytes in order; `base_dts` is the first sample's decode time.
pub fn write_media_segment(
    sequence: u32,
    track_id: u32,
    samples: &[Sample],
    data: &[u8],
) -> Vec<u8> {
    let base_dts = samples.first().map_or(0, |s| s.dts);
    let mut moof = Vec::with_capacity(64 + samples.len() * 16);
    // The data offset points past the moof and the mdat header; the moof's size is fixed by
    // the sample count, so write it once with a placeholder and patch it.
    let mut data_offset_at = 0;
    write_box(&mut moof, b"moof", |m| {
        write_box(m, b"mfhd", |b| {
            full_header(b, 0, 0);
            b.extend_from_slice(&sequence.to_be_bytes());
        });
        write_box(m, b"traf", |t| {
            write_box(t, b"tfhd", |b| {
                full_header(b, 0, 0x02_0000);
                b.extend_from_slice(&track_id.to_be_bytes());
            });
            write_box(t, b"tfdt", |b| {
                full_header(b, 1, 0);
                b.extend_from_slice(&base_dts.to_be_bytes());
            });
            write_box(t, b"trun", |b| {
                full_header(b, 1, 0x1 | 0x100 | 0x200 | 0x400 | 0x800);
                b.extend_from_slice(&(samples.len() as u32).to_be_bytes());
                data_offset_at = b.len();
                b.extend_from_slice(&0i32.to_be_bytes());
                for s in samples {
                    b.extend_from_slice(&s.duration.to_be_bytes());
                    b.extend_from_slice(&s.size.to_be_bytes());
                    b.extend_from_slice(&s.flags.to_be_bytes());
                    let cto =
                        i32::try_from(s.cto).unwrap_or(if s.cto < 0 { i32::MIN } else { i32::MAX });
                    b.extend_from_slice(&cto.to_be_bytes());
                }
            });
        });
    });
    let data_offset = (moof.len() + 8) as i32;
    moof[data_offset_at..data_offset_at + 4].copy_from_slice(&data_offset.to_be_bytes());
    let mut out = moof;
    out.reserve(data.len() + 8);
    write_box(&mut out, b"mdat", |b| b.extend_from_slice(data));
    out
}
