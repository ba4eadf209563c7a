//! Round trips through our writer and reader, and garbage that must give errors, not panics.

use super::init::TrexDefaults;
use super::*;

fn info() -> TrackInfo {
    TrackInfo {
        track_id: 1,
        kind: TrackKind::Video,
        timescale: 15360,
        codec: CodecInfo {
            codecs: "avc1.64001f".into(),
            width: 1280,
            height: 720,
            sample_rate: 0,
            channels: 0,
        },
        edit_media_time: None,
        trex: TrexDefaults::default(),
    }
}

fn samples() -> Vec<Sample> {
    (0..5)
        .map(|i| Sample {
            dts: 30720 + i * 512,
            duration: 512,
            cto: [0, 1024, -512, -512, 512][i as usize],
            size: 3 + i as u32,
            flags: if i == 0 { 0x0200_0000 } else { 0x0101_0000 },
            offset: 0,
        })
        .collect()
}

fn segment() -> (Vec<u8>, Vec<u8>) {
    let data: Vec<u8> = (0..(3 + 4 + 5 + 6 + 7)).map(|i| i as u8).collect();
    (write_media_segment(7, 1, &samples(), &data), data)
}

#[test]
fn media_segment_round_trips() {
    let (seg, data) = segment();
    let mut out = Vec::new();
    let mut next = 0;
    read_samples(&seg, 1000, &info(), &mut next, &mut out).expect("our own segment parses");
    assert_eq!(out.len(), 5);
    for (got, want) in out.iter().zip(samples()) {
        assert_eq!(
            (got.dts, got.duration, got.cto, got.size, got.flags),
            (want.dts, want.duration, want.cto, want.size, want.flags)
        );
    }
    assert!(out[0].is_sync() && !out[1].is_sync());
    assert_eq!(next, 30720 + 5 * 512, "tfdt + durations");
    // Offsets point into the mdat (relative to the moof at file offset 1000).
    let mdat_payload = seg.len() - data.len();
    assert_eq!(out[0].offset, 1000 + mdat_payload as u64);
    assert_eq!(&seg[mdat_payload..mdat_payload + 3], &data[..3]);
}

#[test]
fn other_tracks_are_skipped() {
    let (seg, _) = segment();
    let mut other = info();
    other.track_id = 2;
    let mut out = Vec::new();
    read_samples(&seg, 0, &other, &mut 0, &mut out).expect("parses");
    assert!(out.is_empty());
}

/// Every truncation of a valid segment is an error (or parses fewer samples), never a panic.
#[test]
fn truncated_segments_are_errors() {
    let (seg, data) = segment();
    let moof_len = seg.len() - data.len() - 8;
    for cut in 0..moof_len {
        let mut out = Vec::new();
        let r = read_samples(&seg[..cut], 0, &info(), &mut 0, &mut out);
        assert!(r.is_err(), "a moof cut at {cut} bytes must not parse");
    }
}

/// Deterministic fuzzing: flip random bytes of valid boxes and feed random bytes; the parser
/// must return (Ok or Err) without panicking or allocating absurdly.
#[test]
fn garbage_never_panics() {
    let (seg, _) = segment();
    let init = write_init(&moov_body()).expect("valid moov");
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut rand = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..4000 {
        let base = if round % 2 == 0 { &seg } else { &init };
        let mut bytes = base.clone();
        for _ in 0..1 + rand() % 6 {
            let at = (rand() as usize) % bytes.len();
            bytes[at] = rand() as u8;
        }
        if round % 5 == 0 {
            bytes.truncate((rand() as usize) % bytes.len());
        }
        let _ = read_samples(&bytes, 0, &info(), &mut 0, &mut Vec::new());
        let _ = parse_init(&bytes);
        let _ = write_init(&bytes);
        if bytes.len() > 8 {
            let _ = parse_init(&bytes[8..]);
        }
        let random: Vec<u8> = (0..rand() % 64).map(|_| rand() as u8).collect();
        let _ = read_samples(&random, 0, &info(), &mut 0, &mut Vec::new());
        let _ = parse_init(&random);
    }
}

#[test]
fn huge_sample_counts_are_rejected_before_allocating() {
    // A trun claiming 2^32-1 samples with per-sample fields, in a 40-byte moof.
    let mut trun = vec![0, 0, 0x03, 0x01]; // version 0, flags: data offset, duration, size
    trun.extend_from_slice(&u32::MAX.to_be_bytes());
    trun.extend_from_slice(&0i32.to_be_bytes());
    let tfhd = [0u8, 2, 0, 0, 0, 0, 0, 1];
    let traf = [boxed(b"tfhd", &tfhd), boxed(b"trun", &trun)].concat();
    let moof = boxed(b"moof", &boxed(b"traf", &traf));
    let r = read_samples(&moof, 0, &info(), &mut 0, &mut Vec::new());
    assert_eq!(r, Err(Mp4Error::Truncated("trun")));
}

fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

/// A minimal one-track video moov like ffmpeg's: tkhd, mdhd, hdlr, stsd/avc1/avcC, an edit
/// list, mvex/trex.
fn moov_body() -> Vec<u8> {
    let tkhd = [
        vec![0; 4],
        vec![0; 8],
        1u32.to_be_bytes().to_vec(),
        vec![0; 68],
    ]
    .concat();
    let mdhd = [
        vec![0; 4],
        vec![0; 8],
        15360u32.to_be_bytes().to_vec(),
        vec![0; 8],
    ]
    .concat();
    let hdlr = [vec![0; 8], b"vide".to_vec(), vec![0; 13]].concat();
    let avcc = boxed(b"avcC", &[1, 0x64, 0x00, 0x1f, 0xff]);
    let mut avc1 = vec![0u8; 24];
    avc1.extend_from_slice(&1280u16.to_be_bytes());
    avc1.extend_from_slice(&720u16.to_be_bytes());
    avc1.extend_from_slice(&[0; 50]);
    avc1.extend_from_slice(&avcc);
    let stsd = [
        vec![0; 4],
        1u32.to_be_bytes().to_vec(),
        boxed(b"avc1", &avc1),
    ]
    .concat();
    let stbl = boxed(b"stbl", &boxed(b"stsd", &stsd));
    let minf = boxed(b"minf", &stbl);
    let mdia = boxed(
        b"mdia",
        &[boxed(b"mdhd", &mdhd), boxed(b"hdlr", &hdlr), minf].concat(),
    );
    let elst = [
        vec![0; 4],
        1u32.to_be_bytes().to_vec(),
        vec![0; 4],
        1024u32.to_be_bytes().to_vec(),
        vec![0, 1, 0, 0],
    ]
    .concat();
    let edts = boxed(b"edts", &boxed(b"elst", &elst));
    let trak = boxed(b"trak", &[boxed(b"tkhd", &tkhd), edts, mdia].concat());
    let trex = [
        vec![0; 4],
        1u32.to_be_bytes().to_vec(),
        1u32.to_be_bytes().to_vec(),
        512u32.to_be_bytes().to_vec(),
        vec![0; 8],
    ]
    .concat();
    let mvex = boxed(b"mvex", &boxed(b"trex", &trex));
    [trak, mvex].concat()
}

#[test]
fn init_is_parsed_and_rewritten_without_edit_list() {
    let body = moov_body();
    let info = parse_init(&body).expect("valid");
    assert_eq!(info.track_id, 1);
    assert_eq!(info.timescale, 15360);
    assert_eq!(info.kind, TrackKind::Video);
    assert_eq!(info.codec.codecs, "avc1.64001f");
    assert_eq!((info.codec.width, info.codec.height), (1280, 720));
    assert_eq!(info.edit_media_time, Some(1024));
    assert_eq!(info.trex.duration, 512);

    let init = write_init(&body).expect("rewrites");
    assert_eq!(&init[4..8], b"ftyp");
    let moov = reader::require(&init, b"moov", "moov").expect("has moov");
    let again = parse_init(moov.body).expect("still parses");
    assert_eq!(again.edit_media_time, None, "edit list dropped");
    assert_eq!(
        moov.whole.len(),
        body.len() + 8 - 36,
        "exactly the 36-byte edts is gone"
    );
}
