//! Messages that cross a Marquee process boundary, and the playback token built from them.
//!
//! The `.proto` files under `proto/` are the source of truth; `build.rs` compiles them with
//! protox, so building needs no system `protoc`.
//!
//! - [`v1::EdgeHeartbeat`] / [`v1::HeartbeatAck`]: edge → control-plane health and load.
//! - [`v1::SteeringAnswer`]: control-plane → origin, edges ranked for one client.
//! - [`v1::PlaybackClaims`] inside a [`token`]: origin → viewer → edge, what a playback may fetch.
//!
//! ```
//! use marquee_proto::token::{TokenSigner, TokenVerifier};
//! use marquee_proto::v1::PlaybackClaims;
//!
//! let signer = TokenSigner::from_pkcs8("k1", &TokenSigner::generate_pkcs8().unwrap()).unwrap();
//! let mut verifier = TokenVerifier::default();
//! verifier.add_key("k1", signer.public_key());
//! let token = signer.sign(PlaybackClaims {
//!     path_prefix: "/media/t1/".into(),
//!     expires_at_unix: 2_000,
//!     ..Default::default()
//! });
//! let claims = verifier.verify(&token, "/media/t1/video/720p/seg-1.m4s", 1_000).unwrap();
//! assert_eq!(claims.kid, "k1");
//! ```

pub mod token;

/// Generated prost types for package `marquee.v1`.
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/marquee.v1.rs"));
}

/// Content type used for protobuf request and response bodies.
pub const PROTOBUF_CONTENT_TYPE: &str = "application/x-protobuf";
