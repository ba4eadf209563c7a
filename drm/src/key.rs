//! Content keys: a 16-byte key id (public, it travels in manifests and init segments) and a
//! 16-byte AES-128 key (secret, released only in licences).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};

/// Why key material could not be made or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the system random source failed")]
    Random,
    #[error("{0:?} is not 32 hex digits")]
    BadHex(String),
    #[error("{0:?} is not base64url for 16 bytes")]
    BadBase64Url(String),
}

/// One content key. `Debug` never prints the key bytes, so keys cannot leak into logs.
#[derive(Clone, PartialEq, Eq)]
pub struct ContentKey {
    pub kid: [u8; 16],
    pub key: [u8; 16],
}

impl ContentKey {
    /// A key whose id and key bytes are all `kid` and `key`: easy to tell apart in tests.
    #[cfg(test)]
    pub(crate) fn filled(kid: u8, key: u8) -> Self {
        Self {
            kid: [kid; 16],
            key: [key; 16],
        }
    }

    /// A fresh random key id and key from the operating system's CSPRNG.
    pub fn generate(rng: &SystemRandom) -> Result<Self, KeyError> {
        let mut bytes = [0u8; 32];
        rng.fill(&mut bytes).map_err(|_| KeyError::Random)?;
        let (kid, key) = bytes.split_at(16);
        let mut out = Self {
            kid: [0; 16],
            key: [0; 16],
        };
        out.kid.copy_from_slice(kid);
        out.key.copy_from_slice(key);
        Ok(out)
    }

    /// The key id as 32 lowercase hex digits (the form packagers and CPIX use).
    pub fn kid_hex(&self) -> String {
        to_hex(&self.kid)
    }

    /// The key id as a UUID string, the form of DASH `cenc:default_KID`.
    pub fn kid_uuid(&self) -> String {
        let h = self.kid_hex();
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }
}

impl fmt::Debug for ContentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContentKey")
            .field("kid", &self.kid_hex())
            .field("key", &"<redacted>")
            .finish()
    }
}

/// Lowercase hex of any bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// 16 bytes from 32 hex digits (either case; dashes of a UUID form are ignored).
pub fn from_hex16(s: &str) -> Result<[u8; 16], KeyError> {
    let bad = || KeyError::BadHex(s.to_owned());
    let digits: Vec<u8> = s.bytes().filter(|&b| b != b'-').collect();
    if digits.len() != 32 {
        return Err(bad());
    }
    let mut out = [0u8; 16];
    for (i, pair) in digits.chunks_exact(2).enumerate() {
        let hi = hex_value(pair[0]).ok_or_else(bad)?;
        let lo = hex_value(pair[1]).ok_or_else(bad)?;
        out[i] = (hi << 4) | lo;
    }
    Ok(out)
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// base64url without padding, as ClearKey (JWK) requires.
pub fn to_base64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// 16 bytes from base64url; trailing `=` padding, which some players send, is accepted.
pub fn from_base64url16(s: &str) -> Result<[u8; 16], KeyError> {
    let bad = || KeyError::BadBase64Url(s.to_owned());
    let bytes = URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| bad())?;
    bytes.try_into().map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KID: [u8; 16] = [
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee,
        0xff,
    ];

    #[test]
    fn generated_keys_are_distinct_and_not_zero() {
        let rng = SystemRandom::new();
        let a = ContentKey::generate(&rng).expect("random");
        let b = ContentKey::generate(&rng).expect("random");
        assert_ne!(a, b);
        assert_ne!(a.kid, a.key);
        assert_ne!(a.key, [0; 16]);
    }

    #[test]
    fn hex_and_uuid_forms() {
        let k = ContentKey {
            kid: KID,
            key: [7; 16],
        };
        assert_eq!(k.kid_hex(), "00112233445566778899aabbccddeeff");
        assert_eq!(k.kid_uuid(), "00112233-4455-6677-8899-aabbccddeeff");
        assert_eq!(from_hex16(&k.kid_uuid()), Ok(KID));
        assert_eq!(from_hex16("00112233445566778899AABBCCDDEEFF"), Ok(KID));
        assert_eq!(from_hex16("0011"), Err(KeyError::BadHex("0011".into())));
        assert_eq!(
            from_hex16("zz112233445566778899aabbccddeeff"),
            Err(KeyError::BadHex("zz112233445566778899aabbccddeeff".into()))
        );
    }

    #[test]
    fn base64url_round_trip_with_and_without_padding() {
        assert_eq!(to_base64url(&KID), "ABEiM0RVZneImaq7zN3u_w");
        assert_eq!(from_base64url16("ABEiM0RVZneImaq7zN3u_w"), Ok(KID));
        assert_eq!(from_base64url16("ABEiM0RVZneImaq7zN3u_w=="), Ok(KID));
        assert_eq!(
            from_base64url16("ABEi"),
            Err(KeyError::BadBase64Url("ABEi".into()))
        );
        assert!(from_base64url16("ABEiM0RVZneImaq7zN3u/w").is_err());
    }

    #[test]
    fn debug_never_shows_the_key() {
        let k = ContentKey {
            kid: KID,
            key: [0xab; 16],
        };
        let shown = format!("{k:?}");
        assert_eq!(
            shown,
            "ContentKey { kid: \"00112233445566778899aabbccddeeff\", key: \"<redacted>\" }"
        );
    }
}
