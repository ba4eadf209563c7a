//! Credentials: email rules, Argon2id password hashes, session tokens and the session cookie.
//!
//! A session token is 32 random bytes handed to the browser once; the origin keeps only its
//! SHA-256, so a leaked state snapshot or log cannot be replayed as a session.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::ids;

pub const SESSION_COOKIE: &str = "marquee_session";
pub const MIN_PASSWORD_LEN: usize = 10;
/// Longer passwords only cost hashing time; nobody types more.
pub const MAX_PASSWORD_LEN: usize = 1024;
/// Sessions last 30 days.
pub const SESSION_TTL_SECS: u64 = 30 * 24 * 3600;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CredentialError {
    #[error("the email address does not look valid")]
    InvalidEmail,
    #[error("the password must be at least {MIN_PASSWORD_LEN} characters")]
    PasswordTooShort,
    #[error("the password must be at most {MAX_PASSWORD_LEN} characters")]
    PasswordTooLong,
    #[error("hashing the password failed: {0}")]
    Hash(String),
}

/// Trims and lowercases an email, then checks its shape (`local@domain.tld`, no spaces).
pub fn normalise_email(raw: &str) -> Result<String, CredentialError> {
    let email = raw.trim().to_lowercase();
    let ok = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && domain.split('.').all(|label| !label.is_empty())
            }
            None => false,
        };
    if ok {
        Ok(email)
    } else {
        Err(CredentialError::InvalidEmail)
    }
}

pub fn check_password_rules(password: &str) -> Result<(), CredentialError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_LEN {
        return Err(CredentialError::PasswordTooShort);
    }
    if chars > MAX_PASSWORD_LEN {
        return Err(CredentialError::PasswordTooLong);
    }
    Ok(())
}

/// Argon2id PHC string with a fresh random salt. CPU-heavy: call from `spawn_blocking`.
pub fn hash_password(password: &str) -> Result<String, CredentialError> {
    let salt = SaltString::encode_b64(&ids::random_bytes::<16>())
        .map_err(|e| CredentialError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CredentialError::Hash(e.to_string()))
}

/// Checks `password` against a PHC hash; a malformed hash simply fails.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of a password nobody knows: verified against when the email is unknown, so a
/// sign-in takes about as long whether or not the account exists.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&ids::random_hex::<16>()).unwrap_or_default())
}

/// A new session token (for the cookie) and the hash the state keeps.
pub fn new_session_token() -> (String, String) {
    let token = URL_SAFE_NO_PAD.encode(ids::random_bytes::<32>());
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> String {
    ids::sha256_hex(token.as_bytes())
}

/// The session token from a `Cookie` header value, if present.
pub fn session_from_cookie_header(header: &str) -> Option<&str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// The session cookie; `secure` (the viewer reached us over HTTPS) keeps browsers from ever
/// sending it over plain HTTP.
pub fn session_cookie(token: &str, max_age: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}")
}

pub fn clear_session_cookie(secure: bool) -> String {
    session_cookie("", 0, secure)
}

/// Whether the viewer's request came over HTTPS: origin's public URL is `https://`, or the TLS
/// proxy in front says so (`X-Forwarded-Proto`; a forged header only adds `Secure`, which is
/// harmless).
pub fn over_https(public_url: Option<&str>, forwarded_proto: Option<&str>) -> bool {
    public_url.is_some_and(|u| u.starts_with("https://"))
        || forwarded_proto.is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

/// [`over_https`] for a request's headers.
pub fn request_over_https(public_url: Option<&str>, headers: &axum::http::HeaderMap) -> bool {
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok());
    over_https(public_url, proto)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalise_email("  Ada@Example.COM ").as_deref(),
            Ok("ada@example.com")
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "a@b@c.d",
            "a@b..c",
        ] {
            assert_eq!(
                normalise_email(bad),
                Err(CredentialError::InvalidEmail),
                "{bad}"
            );
        }
    }

    #[test]
    fn password_rules_count_characters() {
        assert_eq!(
            check_password_rules("123456789"),
            Err(CredentialError::PasswordTooShort)
        );
        assert_eq!(
            check_password_rules("ééééééééé"),
            Err(CredentialError::PasswordTooShort)
        );
        assert_eq!(check_password_rules("1234567890"), Ok(()));
        let long = "x".repeat(MAX_PASSWORD_LEN + 1);
        assert_eq!(
            check_password_rules(&long),
            Err(CredentialError::PasswordTooLong)
        );
    }

    #[test]
    fn hashes_verify_only_the_right_password() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong horse battery", &h));
        assert!(!verify_password("anything", "not a hash"));
        assert_ne!(
            h,
            hash_password("correct horse battery").unwrap(),
            "salts differ"
        );
    }

    #[test]
    fn session_tokens_are_random_and_only_their_hash_is_kept() {
        let (t1, h1) = new_session_token();
        let (t2, _) = new_session_token();
        assert_ne!(t1, t2);
        assert_eq!(h1, token_hash(&t1));
        assert_eq!(h1.len(), 64);
        assert!(!h1.contains(&t1));
    }

    #[test]
    fn cookie_header_is_parsed() {
        let h = "a=1; marquee_session=tok123; b=2";
        assert_eq!(session_from_cookie_header(h), Some("tok123"));
        assert_eq!(session_from_cookie_header("marquee_session="), None);
        assert_eq!(session_from_cookie_header("other=1"), None);
        assert!(session_cookie("x", 5, false).contains("HttpOnly; SameSite=Lax; Path=/"));
    }

    #[test]
    fn cookies_are_secure_when_the_viewer_came_over_https() {
        assert!(session_cookie("x", 5, true).ends_with("; Secure"));
        assert!(!session_cookie("x", 5, false).contains("Secure"));
        assert!(clear_session_cookie(true).contains("Max-Age=0; Secure"));
        assert!(over_https(Some("https://tv.example"), None));
        assert!(over_https(Some("http://10.0.0.1:8080"), Some("HTTPS")));
        assert!(!over_https(Some("http://10.0.0.1:8080"), Some("http")));
        assert!(!over_https(None, None));
    }
}
