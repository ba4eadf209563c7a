//! Marquee DRM: content keys and the licences that release them to players.
//!
//! Today this crate holds the seams the rest of Marquee builds on:
//!
//! - [`ContentKey`]: a random 16-byte key id and AES-128 key (from `ring`'s CSPRNG), with the
//!   hex / UUID / base64url forms manifests, packagers and licences use. Its `Debug` output
//!   never shows the key.
//! - [`KeyStore`]: keys by title behind a trait, so the origin can keep them in its replicated
//!   store; [`InMemoryKeyStore`] for tests.
//! - [`clearkey`]: the W3C Clear Key licence exchange as pure functions.
//!
//! ```
//! use marquee_drm::{ContentKey, InMemoryKeyStore, KeyStore, clearkey, to_base64url};
//! use ring::rand::SystemRandom;
//!
//! let store = InMemoryKeyStore::default();
//! let key = ContentKey::generate(&SystemRandom::new()).unwrap();
//! store.put("title-1", key.clone()).unwrap();
//!
//! // What Shaka Player's Clear Key CDM posts, and the licence it gets back.
//! let body = format!(r#"{{"kids":["{}"],"type":"temporary"}}"#, to_base64url(&key.kid));
//! let request = clearkey::parse_request(body.as_bytes()).unwrap();
//! let licence = clearkey::build_licence(&request, &store.get("title-1").unwrap()).unwrap();
//! assert_eq!(licence.keys[0].k, to_base64url(&key.key));
//! ```
//!
//! Coming next:
//! - **Encryption at rest**: keys wrapped with a key-encryption key before they reach any store,
//!   so a copied database reveals no content keys.
//! - **Licence service**: an HTTP endpoint that checks the viewer's session, then applies
//!   **policies** (plan resolution caps such as no HD key on an SD plan, territory rights,
//!   licence duration) to choose the keys handed to [`clearkey::build_licence`].
//! - **CPIX**: exporting keys as DASH-IF CPIX documents to hand them to commercial DRM systems.

pub mod clearkey;
pub mod key;
pub mod store;

pub use clearkey::{Licence, LicenceError, LicenceRequest, build_licence, parse_request};
pub use key::{ContentKey, KeyError, from_base64url16, from_hex16, to_base64url, to_hex};
pub use store::{InMemoryKeyStore, KeyStore, KeyStoreError};
