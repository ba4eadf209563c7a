//! The plans a viewer chooses from: what each allows and what it costs in each currency.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Currency, Money};

/// The highest picture a plan may stream; the playback token and the edge cap rungs by height.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Resolution {
    #[serde(rename = "480p")]
    Sd480,
    #[serde(rename = "720p")]
    Hd720,
    #[serde(rename = "1080p")]
    Hd1080,
    #[serde(rename = "2160p")]
    Uhd2160,
}

impl Resolution {
    pub fn max_height(self) -> u32 {
        match self {
            Resolution::Sd480 => 480,
            Resolution::Hd720 => 720,
            Resolution::Hd1080 => 1080,
            Resolution::Uhd2160 => 2160,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Streams that may play at once on one account.
    pub streams: u8,
    pub top_resolution: Resolution,
    /// Profiles an account may have.
    pub profiles: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub id: String,
    pub name: String,
    pub limits: Limits,
    /// The price of one monthly period, in minor units, per currency.
    pub prices: BTreeMap<Currency, i64>,
}

impl Plan {
    /// The price in `currency`; every built-in plan has one in every currency.
    pub fn price(&self, currency: Currency) -> Option<Money> {
        self.prices
            .get(&currency)
            .and_then(|minor| Money::new(*minor, currency).ok())
    }

    /// Whether moving from `self` to `other` is an upgrade (charged now, prorated) rather than
    /// a downgrade (taking effect at the period's end): it costs more in `currency`.
    pub fn is_upgrade_to(&self, other: &Plan, currency: Currency) -> bool {
        match (self.price(currency), other.price(currency)) {
            (Some(a), Some(b)) => b.minor() > a.minor(),
            _ => false,
        }
    }
}

fn prices(list: [(Currency, i64); 6]) -> BTreeMap<Currency, i64> {
    list.into_iter().collect()
}

/// The plans a new deployment offers (an operator can replace them).
pub fn default_plans() -> Vec<Plan> {
    use Currency::*;
    vec![
        Plan {
            id: "basic".into(),
            name: "Basic".into(),
            limits: Limits {
                streams: 1,
                top_resolution: Resolution::Hd720,
                profiles: 2,
            },
            prices: prices([
                (Usd, 799),
                (Eur, 799),
                (Gbp, 599),
                (Jpy, 990),
                (Inr, 19_900),
                (Brl, 2_590),
            ]),
        },
        Plan {
            id: "standard".into(),
            name: "Standard".into(),
            limits: Limits {
                streams: 2,
                top_resolution: Resolution::Hd1080,
                profiles: 5,
            },
            prices: prices([
                (Usd, 1_549),
                (Eur, 1_399),
                (Gbp, 1_099),
                (Jpy, 1_490),
                (Inr, 49_900),
                (Brl, 4_490),
            ]),
        },
        Plan {
            id: "premium".into(),
            name: "Premium".into(),
            limits: Limits {
                streams: 4,
                top_resolution: Resolution::Uhd2160,
                profiles: 5,
            },
            prices: prices([
                (Usd, 2_299),
                (Eur, 1_999),
                (Gbp, 1_799),
                (Jpy, 1_980),
                (Inr, 64_900),
                (Brl, 5_990),
            ]),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_plan_has_a_price_in_every_currency_and_dearer_plans_allow_more() {
        let plans = default_plans();
        for plan in &plans {
            for c in Currency::ALL {
                assert!(plan.price(c).is_some(), "{} has no {c} price", plan.id);
            }
        }
        for pair in plans.windows(2) {
            let (lower, higher) = (&pair[0], &pair[1]);
            for c in Currency::ALL {
                assert!(
                    lower.is_upgrade_to(higher, c),
                    "{} → {} in {c}",
                    lower.id,
                    higher.id
                );
                assert!(!higher.is_upgrade_to(lower, c));
            }
            assert!(higher.limits.streams >= lower.limits.streams);
            assert!(higher.limits.top_resolution > lower.limits.top_resolution);
        }
    }

    #[test]
    fn resolutions_serialise_as_viewers_know_them() {
        let text = serde_json::to_string(&Resolution::Uhd2160).unwrap();
        assert_eq!(text, "\"2160p\"", "the API and web app say 2160p");
        let back: Resolution = serde_json::from_str("\"720p\"").unwrap();
        assert_eq!(back.max_height(), 720);
    }
}
