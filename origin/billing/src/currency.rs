//! The currencies Marquee prices in, their minor units, and which one a country pays in.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// ISO 4217 currencies with a price in every plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    Usd,
    Eur,
    Gbp,
    Jpy,
    Inr,
    Brl,
}

/// Euro-area members (ISO 3166-1 alpha-2) in 2026.
const EURO_AREA: [&str; 21] = [
    "AT", "BE", "BG", "HR", "CY", "EE", "FI", "FR", "DE", "GR", "IE", "IT", "LV", "LT", "LU", "MT",
    "NL", "PT", "SK", "SI", "ES",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown currency {0:?}: use one of USD, EUR, GBP, JPY, INR, BRL")]
pub struct UnknownCurrency(pub String);

impl Currency {
    pub const ALL: [Currency; 6] = [
        Currency::Usd,
        Currency::Eur,
        Currency::Gbp,
        Currency::Jpy,
        Currency::Inr,
        Currency::Brl,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
            Currency::Gbp => "GBP",
            Currency::Jpy => "JPY",
            Currency::Inr => "INR",
            Currency::Brl => "BRL",
        }
    }

    /// Digits after the decimal point (ISO 4217's minor unit): the yen has none.
    pub fn exponent(self) -> u32 {
        match self {
            Currency::Jpy => 0,
            _ => 2,
        }
    }

    /// Minor units in one major unit (100 cents in a dollar, 1 yen in a yen).
    pub fn minor_per_major(self) -> i64 {
        10_i64.pow(self.exponent())
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Currency::Usd => "$",
            Currency::Eur => "€",
            Currency::Gbp => "£",
            Currency::Jpy => "¥",
            Currency::Inr => "₹",
            Currency::Brl => "R$",
        }
    }

    /// The currency a viewer in `country` (ISO 3166-1 alpha-2, any case) pays in; countries
    /// without a currency of their own here pay in US dollars.
    pub fn for_country(country: &str) -> Currency {
        let country = country.trim().to_ascii_uppercase();
        match country.as_str() {
            "GB" => Currency::Gbp,
            "JP" => Currency::Jpy,
            "IN" => Currency::Inr,
            "BR" => Currency::Brl,
            c if EURO_AREA.contains(&c) => Currency::Eur,
            _ => Currency::Usd,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = UnknownCurrency;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::ALL
            .into_iter()
            .find(|c| c.code().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownCurrency(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_ones_are_named() {
        for c in Currency::ALL {
            assert_eq!(c.code().parse::<Currency>(), Ok(c));
            assert_eq!(c.code().to_lowercase().parse::<Currency>(), Ok(c));
        }
        let err = "XBT".parse::<Currency>().unwrap_err();
        assert!(err.to_string().contains("\"XBT\""), "{err}");
    }

    #[test]
    fn the_yen_has_no_minor_unit() {
        assert_eq!(Currency::Jpy.minor_per_major(), 1);
        assert_eq!(Currency::Inr.minor_per_major(), 100);
    }

    #[test]
    fn a_country_pays_in_its_currency_or_dollars() {
        assert_eq!(Currency::for_country("de"), Currency::Eur);
        assert_eq!(Currency::for_country("GB"), Currency::Gbp);
        assert_eq!(Currency::for_country("JP"), Currency::Jpy);
        assert_eq!(Currency::for_country("BR"), Currency::Brl);
        assert_eq!(Currency::for_country("IN"), Currency::Inr);
        assert_eq!(Currency::for_country("CH"), Currency::Usd);
        assert_eq!(Currency::for_country(""), Currency::Usd);
    }
}
