//! Reading the `moov` of a one-track fragmented MP4: timescale, codec, edit list, defaults.

use super::Mp4Error;
use super::reader::{Reader, boxes, find, require};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackKind {
    Video,
    Audio,
}

/// What a manifest needs to say about a track's codec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecInfo {
    /// RFC 6381 string, e.g. `avc1.64001f` or `mp4a.40.2`.
    pub codecs: String,
    pub width: u32,
    pub height: u32,
    pub sample_rate: u32,
    pub channels: u32,
}

/// Sample defaults from `trex`, used when a fragment's `tfhd`/`trun` leave a field out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrexDefaults {
    pub duration: u32,
    pub size: u32,
    pub flags: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackInfo {
    pub track_id: u32,
    pub kind: TrackKind,
    /// Ticks per second of the media timeline (`mdhd`).
    pub timescale: u32,
    pub codec: CodecInfo,
    /// `media_time` of the first non-empty edit: where presentation starts on the media
    /// timeline. MSE implementations disagree about edit lists, so we bake it into timestamps.
    pub edit_media_time: Option<u64>,
    pub trex: TrexDefaults,
}

/// Parse the `moov` box body of a file holding exactly one audio or video track.
pub fn parse_init(moov_body: &[u8]) -> Result<TrackInfo, Mp4Error> {
    let trak = require(moov_body, b"trak", "a trak box")?;
    let tkhd = require(trak.body, b"tkhd", "a tkhd box")?;
    let track_id = read_tkhd_id(tkhd.body)?;
    let mdia = require(trak.body, b"mdia", "an mdia box")?;
    let timescale = read_mdhd_timescale(require(mdia.body, b"mdhd", "an mdhd box")?.body)?;
    let kind = read_handler(require(mdia.body, b"hdlr", "an hdlr box")?.body)?;
    let minf = require(mdia.body, b"minf", "a minf box")?;
    let stbl = require(minf.body, b"stbl", "an stbl box")?;
    let stsd = require(stbl.body, b"stsd", "an stsd box")?;
    let codec = read_stsd(stsd.body, kind)?;
    let edit_media_time = match find(trak.body, b"edts")? {
        Some(edts) => match find(edts.body, b"elst")? {
            Some(elst) => read_elst(elst.body)?,
            None => None,
        },
        None => None,
    };
    let trex = match find(moov_body, b"mvex")? {
        Some(mvex) => read_trex(mvex.body, track_id)?,
        None => TrexDefaults::default(),
    };
    Ok(TrackInfo {
        track_id,
        kind,
        timescale,
        codec,
        edit_media_time,
        trex,
    })
}

fn read_tkhd_id(body: &[u8]) -> Result<u32, Mp4Error> {
    let mut r = Reader::new(body, "tkhd");
    let (version, _) = r.full_header()?;
    r.skip(if version == 1 { 16 } else { 8 })?; // creation + modification time
    r.u32()
}

fn read_mdhd_timescale(body: &[u8]) -> Result<u32, Mp4Error> {
    let mut r = Reader::new(body, "mdhd");
    let (version, _) = r.full_header()?;
    r.skip(if version == 1 { 16 } else { 8 })?;
    match r.u32()? {
        0 => Err(Mp4Error::Unsupported("mdhd timescale 0".into())),
        ts => Ok(ts),
    }
}

fn read_handler(body: &[u8]) -> Result<TrackKind, Mp4Error> {
    let mut r = Reader::new(body, "hdlr");
    r.full_header()?;
    r.skip(4)?; // pre_defined
    match &r.fourcc()? {
        b"vide" => Ok(TrackKind::Video),
        b"soun" => Ok(TrackKind::Audio),
        other => Err(Mp4Error::Unsupported(format!(
            "track handler '{}'",
            super::reader::fourcc_str(other)
        ))),
    }
}

fn read_elst(body: &[u8]) -> Result<Option<u64>, Mp4Error> {
    let mut r = Reader::new(body, "elst");
    let (version, _) = r.full_header()?;
    let count = r.u32()?;
    for _ in 0..count {
        let (_duration, media_time) = if version == 1 {
            (r.u64()?, r.u64()? as i64)
        } else {
            (u64::from(r.u32()?), i64::from(r.i32()?))
        };
        r.skip(4)?; // media_rate
        if media_time >= 0 {
            return Ok(Some(media_time as u64)); // -1 marks an empty edit: skip it
        }
    }
    Ok(None)
}

fn read_trex(mvex_body: &[u8], track_id: u32) -> Result<TrexDefaults, Mp4Error> {
    for b in boxes(mvex_body) {
        let b = b?;
        if !b.is(b"trex") {
            continue;
        }
        let mut r = Reader::new(b.body, "trex");
        r.full_header()?;
        if r.u32()? != track_id {
            continue;
        }
        r.skip(4)?; // default_sample_description_index
        return Ok(TrexDefaults {
            duration: r.u32()?,
            size: r.u32()?,
            flags: r.u32()?,
        });
    }
    Ok(TrexDefaults::default())
}

fn read_stsd(body: &[u8], kind: TrackKind) -> Result<CodecInfo, Mp4Error> {
    let mut r = Reader::new(body, "stsd");
    r.full_header()?;
    r.u32()?; // entry count
    let rest = r.bytes(r.remaining())?;
    let entry = boxes(rest)
        .next()
        .ok_or(Mp4Error::Missing("a sample entry"))??;
    match (kind, &entry.kind) {
        (TrackKind::Video, b"avc1" | b"avc3") => read_avc_entry(&entry.kind, entry.body),
        (TrackKind::Audio, b"mp4a") => read_mp4a_entry(entry.body),
        (_, other) => Err(Mp4Error::Unsupported(format!(
            "sample entry '{}'",
            super::reader::fourcc_str(other)
        ))),
    }
}

fn read_avc_entry(kind: &[u8; 4], body: &[u8]) -> Result<CodecInfo, Mp4Error> {
    let mut r = Reader::new(body, "avc1 sample entry");
    r.skip(8 + 16)?; // SampleEntry reserved + data_reference_index, then pre_defined/reserved
    let width = u32::from(r.u16()?);
    let height = u32::from(r.u16()?);
    r.skip(50)?; // resolutions, reserved, frame_count, compressorname, depth, pre_defined
    let children = r.bytes(r.remaining())?;
    let avcc = require(children, b"avcC", "an avcC box")?;
    let mut a = Reader::new(avcc.body, "avcC");
    a.u8()?; // configurationVersion
    let (profile, compat, level) = (a.u8()?, a.u8()?, a.u8()?);
    let prefix = String::from_utf8_lossy(kind).into_owned();
    let codecs = format!("{prefix}.{profile:02x}{compat:02x}{level:02x}");
    Ok(CodecInfo {
        codecs,
        width,
        height,
        sample_rate: 0,
        channels: 0,
    })
}

fn read_mp4a_entry(body: &[u8]) -> Result<CodecInfo, Mp4Error> {
    let mut r = Reader::new(body, "mp4a sample entry");
    r.skip(8 + 8)?; // SampleEntry header, reserved
    let channels = u32::from(r.u16()?);
    r.skip(2 + 4)?; // samplesize, pre_defined + reserved
    let sample_rate = r.u32()? >> 16;
    let children = r.bytes(r.remaining())?;
    let esds = require(children, b"esds", "an esds box")?;
    let object_type = read_esds_audio_object_type(esds.body)?;
    Ok(CodecInfo {
        codecs: format!("mp4a.40.{object_type}"),
        width: 0,
        height: 0,
        sample_rate,
        channels,
    })
}

/// Walk ES_Descriptor → DecoderConfigDescriptor → DecoderSpecificInfo (ISO 14496-1) and read
/// the AudioSpecificConfig's audio object type (2 for AAC-LC).
fn read_esds_audio_object_type(body: &[u8]) -> Result<u8, Mp4Error> {
    let mut r = Reader::new(body, "esds");
    r.full_header()?;
    let es = descriptor(&mut r, 0x03)?;
    let mut e = Reader::new(es, "ES_Descriptor");
    e.u16()?; // ES_ID
    let flags = e.u8()?;
    if flags & 0x80 != 0 {
        e.u16()?;
    }
    if flags & 0x40 != 0 {
        let len = e.u8()?;
        e.skip(usize::from(len))?;
    }
    if flags & 0x20 != 0 {
        e.u16()?;
    }
    let dc = descriptor(&mut e, 0x04)?;
    let mut d = Reader::new(dc, "DecoderConfigDescriptor");
    d.skip(13)?; // objectTypeIndication .. avgBitrate
    let dsi = descriptor(&mut d, 0x05)?;
    let first = *dsi
        .first()
        .ok_or(Mp4Error::Truncated("AudioSpecificConfig"))?;
    Ok(first >> 3)
}

fn descriptor<'a>(r: &mut Reader<'a>, tag: u8) -> Result<&'a [u8], Mp4Error> {
    if r.u8()? != tag {
        return Err(Mp4Error::Unsupported(format!(
            "esds descriptor tag, wanted {tag:#x}"
        )));
    }
    let mut len = 0usize;
    for _ in 0..4 {
        let b = r.u8()?;
        len = (len << 7) | usize::from(b & 0x7f);
        if b & 0x80 == 0 {
            break;
        }
    }
    r.bytes(len)
}
