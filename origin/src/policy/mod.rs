//! Who may see or play what, decided in one place: catalogue lists, title pages, rows, search,
//! playback and its token all ask [`may_watch`], so no URL shows a profile a title its level
//! hides. Pure: no I/O, no clock, the same answer on every node. Today it knows maturity;
//! territories, licence windows and plans join here.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, Code};
use crate::profiles::state::Profile;

/// How much a profile may see, youngest first: the five levels of the big streaming
/// services (all ages, 7+, 13+, 16+, 18+).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
pub enum Maturity {
    #[serde(rename = "all")]
    All,
    #[serde(rename = "7+")]
    Age7,
    #[serde(rename = "13+")]
    Age13,
    #[serde(rename = "16+")]
    Age16,
    #[serde(rename = "18+")]
    Age18,
}

impl Maturity {
    /// Every level, youngest first.
    pub const LEVELS: [Maturity; 5] = [
        Maturity::All,
        Maturity::Age7,
        Maturity::Age13,
        Maturity::Age16,
        Maturity::Age18,
    ];

    /// The highest level a kids profile may have.
    pub const KIDS_MAX: Maturity = Maturity::Age7;

    /// The youngest level a title rated `rating` is for (US film and TV ratings, as the
    /// catalogue takes them). Not rated (`NR`), or a rating this build does not know, is for
    /// adults: a title nobody rated is not shown to children by default.
    pub fn of_rating(rating: &str) -> Maturity {
        match rating {
            "G" | "TV-Y" | "TV-G" => Maturity::All,
            "PG" | "TV-Y7" | "TV-PG" => Maturity::Age7,
            "PG-13" => Maturity::Age13,
            "TV-14" => Maturity::Age16,
            _ => Maturity::Age18,
        }
    }

    /// The level's name on the wire (`"13+"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Maturity::All => "all",
            Maturity::Age7 => "7+",
            Maturity::Age13 => "13+",
            Maturity::Age16 => "16+",
            Maturity::Age18 => "18+",
        }
    }
}

/// Why a profile may not see or play a title; the API answers it as a 403 with its reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
    #[error("this title is rated {rating} ({title_level}); this profile's limit is {limit}",
        title_level = Maturity::of_rating(rating).as_str(), limit = limit.as_str())]
    AboveMaturity { rating: String, limit: Maturity },
}

/// The maturity limit a session browses with: its chosen profile's, else the account holder's
/// (everything). Anonymous visitors browse the public catalogue as the account holder would;
/// they cannot play, and playback needs a chosen profile once an account has profiles.
pub fn limit_of(profile: Option<&Profile>) -> Maturity {
    profile.map_or(Maturity::Age18, |p| p.maturity)
}

impl From<Denial> for ApiError {
    fn from(d: Denial) -> Self {
        match d {
            Denial::AboveMaturity { .. } => ApiError::new(Code::MaturityRestricted, d.to_string()),
        }
    }
}

/// Whether a profile whose limit is `limit` may see and play a title rated `rating`.
pub fn may_watch(limit: Maturity, rating: &str) -> Result<(), Denial> {
    if Maturity::of_rating(rating) <= limit {
        Ok(())
    } else {
        Err(Denial::AboveMaturity {
            rating: rating.to_owned(),
            limit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every rating the catalogue accepts, with the youngest level it is for.
    const RATED: &[(&str, Maturity)] = &[
        ("G", Maturity::All),
        ("TV-Y", Maturity::All),
        ("TV-G", Maturity::All),
        ("PG", Maturity::Age7),
        ("TV-Y7", Maturity::Age7),
        ("TV-PG", Maturity::Age7),
        ("PG-13", Maturity::Age13),
        ("TV-14", Maturity::Age16),
        ("R", Maturity::Age18),
        ("NC-17", Maturity::Age18),
        ("TV-MA", Maturity::Age18),
        ("NR", Maturity::Age18),
    ];

    #[test]
    fn a_profile_sees_exactly_the_titles_at_or_below_its_level() {
        for limit in Maturity::LEVELS {
            for &(rating, level) in RATED {
                let allowed = may_watch(limit, rating).is_ok();
                assert_eq!(allowed, level <= limit, "{rating} for a {limit:?} profile");
            }
        }
    }

    #[test]
    fn every_rating_the_catalogue_takes_has_its_own_level() {
        for rating in crate::catalogue::api::RATINGS {
            assert!(
                RATED.iter().any(|(r, _)| r == rating),
                "{rating} is accepted by the catalogue but not mapped here"
            );
        }
    }

    #[test]
    fn a_kids_profile_never_sees_an_r_title_and_is_told_why() {
        let denial = may_watch(Maturity::KIDS_MAX, "R").unwrap_err();
        assert_eq!(
            denial.to_string(),
            "this title is rated R (18+); this profile's limit is 7+"
        );
        assert!(may_watch(Maturity::KIDS_MAX, "PG").is_ok());
        assert!(
            may_watch(Maturity::Age16, "a rating from elsewhere").is_err(),
            "an unknown rating is for adults"
        );
    }

    #[test]
    fn levels_go_over_the_wire_by_their_names_and_nothing_else() {
        for level in Maturity::LEVELS {
            let json = serde_json::to_string(&level).unwrap();
            assert_eq!(json, format!("\"{}\"", level.as_str()));
            assert_eq!(serde_json::from_str::<Maturity>(&json).unwrap(), level);
        }
        for bad in ["\"21+\"", "7", "\"adult\"", "null"] {
            assert!(serde_json::from_str::<Maturity>(bad).is_err(), "{bad}");
        }
    }
}
