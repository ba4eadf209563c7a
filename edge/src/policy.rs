//! Caching decisions from origin's response, and the RFC 9211 `Cache-Status` value (no I/O).
//!
//! Only `200` responses are stored. `no-store`, `private` and `no-cache` keep a response out
//! of the cache; `s-maxage` wins over `max-age`; `immutable` without a max-age is kept a year.
//! Without any freshness directive nothing is stored: the edge never guesses a lifetime.

use std::time::Duration;

/// Freshness used for `immutable` responses that give no max-age.
const IMMUTABLE_TTL: Duration = Duration::from_secs(365 * 24 * 3600);

/// Whether and for how long to keep a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorePolicy {
    Store { ttl: Duration },
    DontStore(&'static str),
}

/// Decides from the status, the `Cache-Control` header (all values joined by `,`), and whether
/// the response sets a cookie or varies on everything.
pub fn store_policy(
    status: u16,
    cache_control: Option<&str>,
    set_cookie: bool,
    vary_star: bool,
) -> StorePolicy {
    if status != 200 {
        return StorePolicy::DontStore("status");
    }
    if set_cookie {
        return StorePolicy::DontStore("set-cookie");
    }
    if vary_star {
        return StorePolicy::DontStore("vary");
    }
    let Some(cc) = cache_control else {
        return StorePolicy::DontStore("no-freshness");
    };
    let mut max_age = None;
    let mut s_maxage = None;
    let mut immutable = false;
    for directive in cc.split(',') {
        let directive = directive.trim();
        let (name, value) = match directive.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"'))),
            None => (directive, None),
        };
        match name.to_ascii_lowercase().as_str() {
            "no-store" => return StorePolicy::DontStore("no-store"),
            "private" => return StorePolicy::DontStore("private"),
            "no-cache" => return StorePolicy::DontStore("no-cache"),
            "immutable" => immutable = true,
            "max-age" => max_age = value.and_then(|v| v.parse::<u64>().ok()),
            "s-maxage" => s_maxage = value.and_then(|v| v.parse::<u64>().ok()),
            _ => {}
        }
    }
    match s_maxage.or(max_age) {
        Some(0) => StorePolicy::DontStore("max-age=0"),
        Some(secs) => StorePolicy::Store {
            ttl: Duration::from_secs(secs),
        },
        None if immutable => StorePolicy::Store { ttl: IMMUTABLE_TTL },
        None => StorePolicy::DontStore("no-freshness"),
    }
}

/// How a response was served, as far as the cache is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// From cache; `disk` when the memory tier had dropped it.
    Hit { disk: bool },
    /// Stale copy served (origin unreachable or being revalidated).
    StaleHit,
    /// Fetched from origin; `stored` when it entered the cache.
    Miss { stored: bool },
}

/// The `Cache-Status` header value (RFC 9211) this edge adds.
pub fn cache_status(served: Served) -> &'static str {
    match served {
        Served::Hit { disk: false } => "marquee-edge; hit",
        Served::Hit { disk: true } => "marquee-edge; hit; detail=disk",
        Served::StaleHit => "marquee-edge; hit; fwd=stale",
        Served::Miss { stored: true } => "marquee-edge; fwd=miss; stored",
        Served::Miss { stored: false } => "marquee-edge; fwd=miss",
    }
}

/// The metrics label for a served response.
pub fn result_label(served: Served) -> &'static str {
    match served {
        Served::Hit { .. } | Served::StaleHit => "hit",
        Served::Miss { .. } => "miss",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(cc: &str) -> StorePolicy {
        store_policy(200, Some(cc), false, false)
    }

    #[test]
    fn origin_segment_and_manifest_headers_are_stored_for_their_max_age() {
        assert_eq!(
            p("public, max-age=31536000, immutable"),
            StorePolicy::Store {
                ttl: Duration::from_secs(31_536_000)
            }
        );
        assert_eq!(
            p("public, max-age=60"),
            StorePolicy::Store {
                ttl: Duration::from_secs(60)
            }
        );
        assert_eq!(
            p("max-age=60, s-maxage=5"),
            StorePolicy::Store {
                ttl: Duration::from_secs(5)
            }
        );
        assert_eq!(p("immutable"), StorePolicy::Store { ttl: IMMUTABLE_TTL });
    }

    #[test]
    fn refusals() {
        assert_eq!(
            p("no-store, max-age=60"),
            StorePolicy::DontStore("no-store")
        );
        assert_eq!(p("private, max-age=60"), StorePolicy::DontStore("private"));
        assert_eq!(p("No-Cache"), StorePolicy::DontStore("no-cache"));
        assert_eq!(p("max-age=0"), StorePolicy::DontStore("max-age=0"));
        assert_eq!(p("public"), StorePolicy::DontStore("no-freshness"));
        assert_eq!(
            store_policy(200, None, false, false),
            StorePolicy::DontStore("no-freshness")
        );
        assert_eq!(
            store_policy(206, Some("max-age=9"), false, false),
            StorePolicy::DontStore("status")
        );
        assert_eq!(
            store_policy(404, Some("max-age=9"), false, false),
            StorePolicy::DontStore("status")
        );
        assert_eq!(
            store_policy(200, Some("max-age=9"), true, false),
            StorePolicy::DontStore("set-cookie")
        );
        assert_eq!(
            store_policy(200, Some("max-age=9"), false, true),
            StorePolicy::DontStore("vary")
        );
    }

    #[test]
    fn cache_status_values_follow_rfc_9211() {
        assert_eq!(
            cache_status(Served::Hit { disk: false }),
            "marquee-edge; hit"
        );
        assert_eq!(
            cache_status(Served::Hit { disk: true }),
            "marquee-edge; hit; detail=disk"
        );
        assert_eq!(
            cache_status(Served::Miss { stored: true }),
            "marquee-edge; fwd=miss; stored"
        );
        assert_eq!(
            cache_status(Served::Miss { stored: false }),
            "marquee-edge; fwd=miss"
        );
        assert_eq!(result_label(Served::StaleHit), "hit");
    }
}
