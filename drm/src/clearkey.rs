//! W3C Clear Key licences (Encrypted Media Extensions, "Clear Key" section): the player sends
//! `{"kids":[..],"type":"temporary"}` with base64url key ids and gets back a JSON Web Key set
//! `{"keys":[{"kty":"oct","k":..,"kid":..}],"type":"temporary"}`. Pure functions: the licence
//! service decides *which* keys a viewer may have (policy) before calling [`build_licence`].

use serde::{Deserialize, Serialize};

use crate::key::{ContentKey, from_base64url16, to_base64url};

/// Most key ids one request may name; a real title has a handful.
pub const MAX_KIDS: usize = 64;
/// Largest request body parsed.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024;

/// Why a licence request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LicenceError {
    #[error("licence request is larger than {MAX_REQUEST_BYTES} bytes")]
    TooLarge,
    #[error("licence request is not Clear Key JSON: {0}")]
    Malformed(String),
    #[error("licence request names no key ids")]
    NoKids,
    #[error("licence request names more than {MAX_KIDS} key ids")]
    TooManyKids,
    #[error("key id {0:?} is not base64url for 16 bytes")]
    BadKid(String),
    #[error("none of the requested keys are available to this viewer")]
    NoMatchingKeys,
}

/// A parsed licence request: the key ids the player needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LicenceRequest {
    pub kids: Vec<[u8; 16]>,
}

#[derive(Deserialize)]
struct RawRequest {
    kids: Vec<String>,
    // "temporary" or "persistent-license"; Marquee grants temporary licences only, so the
    // requested type does not change the answer.
    #[serde(rename = "type", default)]
    _session_type: Option<String>,
}

/// Parses the body a Clear Key CDM sends. Duplicate key ids are kept once.
pub fn parse_request(body: &[u8]) -> Result<LicenceRequest, LicenceError> {
    if body.len() > MAX_REQUEST_BYTES {
        return Err(LicenceError::TooLarge);
    }
    let raw: RawRequest =
        serde_json::from_slice(body).map_err(|e| LicenceError::Malformed(e.to_string()))?;
    if raw.kids.is_empty() {
        return Err(LicenceError::NoKids);
    }
    if raw.kids.len() > MAX_KIDS {
        return Err(LicenceError::TooManyKids);
    }
    let mut kids = Vec::with_capacity(raw.kids.len());
    for kid in &raw.kids {
        let kid = from_base64url16(kid).map_err(|_| LicenceError::BadKid(kid.clone()))?;
        if !kids.contains(&kid) {
            kids.push(kid);
        }
    }
    Ok(LicenceRequest { kids })
}

/// One symmetric key in JWK form. Field order is the wire order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub k: String,
    pub kid: String,
}

/// A Clear Key licence: the keys released, always as a temporary session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Licence {
    pub keys: Vec<Jwk>,
    #[serde(rename = "type")]
    pub session_type: String,
}

impl Licence {
    pub fn to_json(&self) -> String {
        // Serialising plain strings into a String cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The licence for `request` from the keys this viewer may have (`allowed`), in the order the
/// player asked. Requested ids not in `allowed` are left out, as the spec permits, so a
/// player on an SD plan simply gets no HD key; if nothing is left the request is refused.
pub fn build_licence(
    request: &LicenceRequest,
    allowed: &[ContentKey],
) -> Result<Licence, LicenceError> {
    let keys: Vec<Jwk> = request
        .kids
        .iter()
        .filter_map(|kid| allowed.iter().find(|k| &k.kid == kid))
        .map(|k| Jwk {
            kty: "oct".into(),
            k: to_base64url(&k.key),
            kid: to_base64url(&k.kid),
        })
        .collect();
    if keys.is_empty() {
        return Err(LicenceError::NoMatchingKeys);
    }
    Ok(Licence {
        keys,
        session_type: "temporary".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licence_json_has_the_exact_clear_key_shape() {
        let request = parse_request(br#"{"kids":["AQEBAQEBAQEBAQEBAQEBAQ"],"type":"temporary"}"#)
            .expect("valid request");
        let licence = build_licence(
            &request,
            &[ContentKey::filled(2, 0x20), ContentKey::filled(1, 0x10)],
        )
        .expect("licence");
        assert_eq!(
            licence.to_json(),
            r#"{"keys":[{"kty":"oct","k":"EBAQEBAQEBAQEBAQEBAQEA","kid":"AQEBAQEBAQEBAQEBAQEBAQ"}],"type":"temporary"}"#
        );
    }

    #[test]
    fn keys_follow_request_order_and_skip_what_is_not_allowed() {
        let request = parse_request(
            br#"{"kids":["AgICAgICAgICAgICAgICAg","AwMDAwMDAwMDAwMDAwMDAw","AQEBAQEBAQEBAQEBAQEBAQ"]}"#,
        )
        .expect("valid request");
        let licence = build_licence(
            &request,
            &[ContentKey::filled(1, 0x10), ContentKey::filled(2, 0x20)],
        )
        .expect("licence");
        assert_eq!(
            licence.to_json(),
            concat!(
                r#"{"keys":["#,
                r#"{"kty":"oct","k":"ICAgICAgICAgICAgICAgIA","kid":"AgICAgICAgICAgICAgICAg"},"#,
                r#"{"kty":"oct","k":"EBAQEBAQEBAQEBAQEBAQEA","kid":"AQEBAQEBAQEBAQEBAQEBAQ"}"#,
                r#"],"type":"temporary"}"#
            )
        );
    }

    #[test]
    fn nothing_allowed_is_refused() {
        let request =
            parse_request(br#"{"kids":["AwMDAwMDAwMDAwMDAwMDAw"]}"#).expect("valid request");
        assert_eq!(
            build_licence(&request, &[ContentKey::filled(1, 1)]),
            Err(LicenceError::NoMatchingKeys)
        );
    }

    #[test]
    fn padded_and_duplicate_kids_are_normalised() {
        let request = parse_request(
            br#"{"kids":["AQEBAQEBAQEBAQEBAQEBAQ==","AQEBAQEBAQEBAQEBAQEBAQ"],"type":"persistent-license"}"#,
        )
        .expect("valid request");
        assert_eq!(request.kids, vec![[1u8; 16]]);
    }

    #[test]
    fn bad_requests_say_why() {
        assert_eq!(parse_request(br#"{"kids":[]}"#), Err(LicenceError::NoKids));
        assert_eq!(
            parse_request(br#"{"kids":["AQID"]}"#),
            Err(LicenceError::BadKid("AQID".into()))
        );
        assert!(matches!(
            parse_request(b"not json"),
            Err(LicenceError::Malformed(_))
        ));
        assert!(matches!(
            parse_request(br#"{"type":"temporary"}"#),
            Err(LicenceError::Malformed(_))
        ));
        let many = format!(
            r#"{{"kids":[{}]}}"#,
            vec![r#""AQEBAQEBAQEBAQEBAQEBAQ""#; 65].join(",")
        );
        assert_eq!(
            parse_request(many.as_bytes()),
            Err(LicenceError::TooManyKids)
        );
        assert_eq!(
            parse_request(&vec![b' '; MAX_REQUEST_BYTES + 1]),
            Err(LicenceError::TooLarge)
        );
    }
}
