//! Caching decisions from origin's response, and the RFC 9211 `Cache-Status` value (no I/O).
//!
//! `200` responses are stored for their freshness: `no-store`, `private` and `no-cache` keep a
//! response out; `s-maxage` wins over `max-age`; `immutable` without a max-age is kept a year;
//! without any freshness directive nothing is stored (the edge never guesses a lifetime).
//! `stale-while-revalidate` and `stale-if-error` (RFC 5861) are honoured, the latter 300 s by
//! default. `404`s are kept briefly (negative caching) so a burst of requests for a missing
//! object reaches origin once.

use std::time::Duration;

/// Freshness used for `immutable` responses that give no max-age.
const IMMUTABLE_TTL: Duration = Duration::from_secs(365 * 24 * 3600);
/// Longest a 404 is kept, whatever origin says.
pub const NEGATIVE_TTL: Duration = Duration::from_secs(10);
/// How long a stored object may still be served while origin fails, unless origin says.
pub const DEFAULT_STALE_IF_ERROR: Duration = Duration::from_secs(300);

/// How long a stored response is fresh, and how long after that it may still be served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    pub ttl: Duration,
    /// Served stale while one request refreshes it in the background.
    pub stale_while_revalidate: Duration,
    /// Served stale while origin cannot be reached or answers 5xx.
    pub stale_if_error: Duration,
}

/// Whether and for how long to keep a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorePolicy {
    Store(Freshness),
    DontStore(&'static str),
}

/// The directives of a `Cache-Control` value that matter to a shared cache.
#[derive(Debug, Default)]
struct Directives {
    refuse: Option<&'static str>,
    max_age: Option<u64>,
    s_maxage: Option<u64>,
    immutable: bool,
    stale_while_revalidate: Option<u64>,
    stale_if_error: Option<u64>,
}

fn directives(cc: &str) -> Directives {
    let mut d = Directives::default();
    for directive in cc.split(',') {
        let directive = directive.trim();
        let (name, value) = match directive.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"'))),
            None => (directive, None),
        };
        let seconds = || value.and_then(|v| v.parse::<u64>().ok());
        match name.to_ascii_lowercase().as_str() {
            "no-store" => d.refuse = d.refuse.or(Some("no-store")),
            "private" => d.refuse = d.refuse.or(Some("private")),
            "no-cache" => d.refuse = d.refuse.or(Some("no-cache")),
            "immutable" => d.immutable = true,
            "max-age" => d.max_age = seconds(),
            "s-maxage" => d.s_maxage = seconds(),
            "stale-while-revalidate" => d.stale_while_revalidate = seconds(),
            "stale-if-error" => d.stale_if_error = seconds(),
            _ => {}
        }
    }
    d
}

/// Decides from the status, the `Cache-Control` header (all values joined by `,`), and whether
/// the response sets a cookie or varies on everything.
pub fn store_policy(
    status: u16,
    cache_control: Option<&str>,
    set_cookie: bool,
    vary_star: bool,
) -> StorePolicy {
    if status != 200 && status != 404 {
        return StorePolicy::DontStore("status");
    }
    if set_cookie {
        return StorePolicy::DontStore("set-cookie");
    }
    if vary_star {
        return StorePolicy::DontStore("vary");
    }
    let d = cache_control.map(directives).unwrap_or_default();
    if let Some(reason) = d.refuse {
        return StorePolicy::DontStore(reason);
    }
    let given = d.s_maxage.or(d.max_age).map(Duration::from_secs);
    if status == 404 {
        let ttl = given.unwrap_or(NEGATIVE_TTL).min(NEGATIVE_TTL);
        if ttl.is_zero() {
            return StorePolicy::DontStore("max-age=0");
        }
        return StorePolicy::Store(Freshness {
            ttl,
            stale_while_revalidate: Duration::ZERO,
            stale_if_error: Duration::ZERO,
        });
    }
    let ttl = match given {
        Some(ttl) if ttl.is_zero() => return StorePolicy::DontStore("max-age=0"),
        Some(ttl) => ttl,
        None if d.immutable => IMMUTABLE_TTL,
        None => return StorePolicy::DontStore("no-freshness"),
    };
    StorePolicy::Store(Freshness {
        ttl,
        stale_while_revalidate: Duration::from_secs(d.stale_while_revalidate.unwrap_or(0)),
        stale_if_error: d
            .stale_if_error
            .map_or(DEFAULT_STALE_IF_ERROR, Duration::from_secs),
    })
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

    fn fresh(secs: u64) -> StorePolicy {
        StorePolicy::Store(Freshness {
            ttl: Duration::from_secs(secs),
            stale_while_revalidate: Duration::ZERO,
            stale_if_error: DEFAULT_STALE_IF_ERROR,
        })
    }

    #[test]
    fn origin_segment_and_manifest_headers_are_stored_for_their_max_age() {
        assert_eq!(p("public, max-age=31536000, immutable"), fresh(31_536_000));
        assert_eq!(p("public, max-age=60"), fresh(60));
        assert_eq!(p("max-age=60, s-maxage=5"), fresh(5));
        assert_eq!(p("immutable"), fresh(IMMUTABLE_TTL.as_secs()));
    }

    #[test]
    fn stale_directives_are_honoured_with_a_default_for_errors() {
        assert_eq!(
            p("public, max-age=60, stale-while-revalidate=30, stale-if-error=86400"),
            StorePolicy::Store(Freshness {
                ttl: Duration::from_secs(60),
                stale_while_revalidate: Duration::from_secs(30),
                stale_if_error: Duration::from_secs(86_400),
            })
        );
        assert_eq!(
            p("max-age=60, stale-if-error=0"),
            StorePolicy::Store(Freshness {
                ttl: Duration::from_secs(60),
                stale_while_revalidate: Duration::ZERO,
                stale_if_error: Duration::ZERO,
            })
        );
    }

    #[test]
    fn not_found_is_kept_briefly_and_never_stale() {
        let brief = |secs| {
            StorePolicy::Store(Freshness {
                ttl: Duration::from_secs(secs),
                stale_while_revalidate: Duration::ZERO,
                stale_if_error: Duration::ZERO,
            })
        };
        assert_eq!(store_policy(404, None, false, false), brief(10));
        assert_eq!(store_policy(404, Some("max-age=3"), false, false), brief(3));
        assert_eq!(
            store_policy(404, Some("max-age=3600"), false, false),
            brief(10)
        );
        assert_eq!(
            store_policy(404, Some("no-store"), false, false),
            StorePolicy::DontStore("no-store")
        );
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
            store_policy(500, Some("max-age=9"), false, false),
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
