//! Bounds-checked reading of ISO BMFF boxes from untrusted bytes. Every read returns an error
//! instead of panicking: the bytes come from ffmpeg today and from uploads tomorrow.

use super::Mp4Error;

/// A cursor over a byte slice whose reads never go past the end.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// `what` names the structure being read, for error messages.
    pub fn new(buf: &'a [u8], what: &'static str) -> Self {
        Self { buf, pos: 0, what }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], Mp4Error> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(Mp4Error::Truncated(self.what))?;
        let out = self
            .buf
            .get(self.pos..end)
            .ok_or(Mp4Error::Truncated(self.what))?;
        self.pos = end;
        Ok(out)
    }

    pub fn skip(&mut self, n: usize) -> Result<(), Mp4Error> {
        self.bytes(n).map(|_| ())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Mp4Error> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, Mp4Error> {
        Ok(self.array::<1>()?[0])
    }

    pub fn u16(&mut self) -> Result<u16, Mp4Error> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub fn u32(&mut self) -> Result<u32, Mp4Error> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub fn i32(&mut self) -> Result<i32, Mp4Error> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    pub fn u64(&mut self) -> Result<u64, Mp4Error> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    pub fn fourcc(&mut self) -> Result<[u8; 4], Mp4Error> {
        self.array()
    }

    /// Version and flags of a full box.
    pub fn full_header(&mut self) -> Result<(u8, u32), Mp4Error> {
        let v = self.u32()?;
        Ok(((v >> 24) as u8, v & 0x00ff_ffff))
    }
}

/// One box inside a buffer: its type, its body and the whole box (header included).
#[derive(Debug, Clone, Copy)]
pub struct BoxRef<'a> {
    pub kind: [u8; 4],
    pub body: &'a [u8],
    pub whole: &'a [u8],
}

impl BoxRef<'_> {
    pub fn is(&self, kind: &[u8; 4]) -> bool {
        &self.kind == kind
    }
}

/// Size of a box header as read from `buf`: `(kind, header_len, total_len)`. `total_len` is
/// `None` for a box that runs to the end of its container (size 0).
pub fn parse_header(buf: &[u8]) -> Result<([u8; 4], usize, Option<u64>), Mp4Error> {
    let mut r = Reader::new(buf, "box header");
    let size32 = r.u32()?;
    let kind = r.fourcc()?;
    let (header_len, total) = match size32 {
        0 => (8, None),
        1 => (16, Some(r.u64()?)),
        n => (8, Some(u64::from(n))),
    };
    if let Some(total) = total
        && total < header_len as u64
    {
        return Err(Mp4Error::BadBoxSize {
            kind: fourcc_str(&kind),
            size: total,
        });
    }
    Ok((kind, header_len, total))
}

/// Iterates the boxes laid end to end in `buf`; stops at the first malformed one with an error.
pub fn boxes(buf: &[u8]) -> Boxes<'_> {
    Boxes {
        buf,
        pos: 0,
        failed: false,
    }
}

pub struct Boxes<'a> {
    buf: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Iterator for Boxes<'a> {
    type Item = Result<BoxRef<'a>, Mp4Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.buf.len() {
            return None;
        }
        let rest = &self.buf[self.pos..];
        let item = parse_header(rest).and_then(|(kind, header_len, total)| {
            let total = match total {
                None => rest.len(),
                Some(t) => usize::try_from(t).map_err(|_| Mp4Error::BadBoxSize {
                    kind: fourcc_str(&kind),
                    size: t,
                })?,
            };
            let whole = rest.get(..total).ok_or(Mp4Error::BadBoxSize {
                kind: fourcc_str(&kind),
                size: total as u64,
            })?;
            Ok(BoxRef {
                kind,
                body: &whole[header_len..],
                whole,
            })
        });
        match &item {
            Ok(b) => self.pos += b.whole.len(),
            Err(_) => self.failed = true,
        }
        Some(item)
    }
}

/// The first child box of type `kind`, if any.
pub fn find<'a>(buf: &'a [u8], kind: &[u8; 4]) -> Result<Option<BoxRef<'a>>, Mp4Error> {
    for b in boxes(buf) {
        let b = b?;
        if b.is(kind) {
            return Ok(Some(b));
        }
    }
    Ok(None)
}

/// Like [`find`], but a missing box is an error naming it.
pub fn require<'a>(
    buf: &'a [u8],
    kind: &'static [u8; 4],
    what: &'static str,
) -> Result<BoxRef<'a>, Mp4Error> {
    find(buf, kind)?.ok_or(Mp4Error::Missing(what))
}

pub fn fourcc_str(kind: &[u8; 4]) -> String {
    kind.iter()
        .map(|&c| if c.is_ascii_graphic() { c as char } else { '?' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounds_checked() {
        let mut r = Reader::new(&[0, 1, 2], "t");
        assert_eq!(r.u16().ok(), Some(1));
        assert!(matches!(r.u32(), Err(Mp4Error::Truncated("t"))));
        assert!(r.bytes(usize::MAX).is_err());
        assert_eq!(r.u8().ok(), Some(2));
    }

    #[test]
    fn box_iteration_handles_sizes() {
        // free(8) + a size-0 box that runs to the end.
        let mut buf = vec![0, 0, 0, 8, b'f', b'r', b'e', b'e'];
        buf.extend_from_slice(&[0, 0, 0, 0, b'm', b'd', b'a', b't', 9, 9]);
        let got: Vec<_> = boxes(&buf).collect::<Result<_, _>>().expect("valid");
        assert_eq!(got.len(), 2);
        assert!(got[1].is(b"mdat"));
        assert_eq!(got[1].body, &[9, 9]);
    }

    #[test]
    fn bad_sizes_are_errors() {
        // size 4 < header, size past the end, 64-bit size past the end, 3 stray bytes.
        let cases: [&[u8]; 4] = [
            &[0, 0, 0, 4, b'a', b'b', b'c', b'd'],
            &[0, 0, 0, 99, b'a', b'b', b'c', b'd'],
            &[
                0, 0, 0, 1, b'a', b'b', b'c', b'd', 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
            ],
            &[0, 0, 0],
        ];
        for case in cases {
            let results: Vec<_> = boxes(case).collect();
            assert_eq!(results.len(), 1, "{case:?}");
            assert!(results[0].is_err(), "{case:?}");
        }
    }
}
