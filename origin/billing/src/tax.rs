//! Tax on a charge, per the viewer's country.
//!
//! Rates are in basis points (2000 = 20 %). Where prices are shown with tax included (the EU,
//! the UK, Japan, India, Brazil) the charge is the price and the tax is the part of it the rate
//! accounts for; elsewhere (the US, whose sales tax depends on the state and is not modelled
//! here) tax is added on top. Either way `net + tax == total`, in whole minor units.

use serde::{Deserialize, Serialize};

use crate::{Money, MoneyError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxRule {
    /// The rate in basis points of the net amount.
    pub rate_bp: u32,
    /// Whether prices already include the tax.
    pub inclusive: bool,
}

/// A charge split for an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxedAmount {
    pub net: Money,
    pub tax: Money,
    pub total: Money,
    pub rule: TaxRule,
}

/// Standard VAT/GST rates on digital services, 2026 (basis points, prices tax-inclusive).
const INCLUSIVE_RATES: [(&str, u32); 14] = [
    ("GB", 2000),
    ("DE", 1900),
    ("FR", 2000),
    ("IT", 2200),
    ("ES", 2100),
    ("NL", 2100),
    ("IE", 2300),
    ("BE", 2100),
    ("AT", 2000),
    ("PT", 2300),
    ("FI", 2550),
    ("JP", 1000),
    ("IN", 1800),
    ("BR", 1000),
];

/// The rule for a country (ISO 3166-1 alpha-2, any case). Countries not in the table pay no
/// tax through Marquee: an operator selling there adds their rate to the table.
pub fn rule_for(country: &str) -> TaxRule {
    let country = country.trim().to_ascii_uppercase();
    INCLUSIVE_RATES.iter().find(|(c, _)| *c == country).map_or(
        TaxRule {
            rate_bp: 0,
            inclusive: false,
        },
        |(_, rate_bp)| TaxRule {
            rate_bp: *rate_bp,
            inclusive: true,
        },
    )
}

/// Splits `price` (what the plan says) into net, tax and total under `rule`; the tax is
/// rounded half up to a whole minor unit and the net takes the remainder, so the parts add up.
pub fn apply(price: Money, rule: TaxRule) -> Result<TaxedAmount, MoneyError> {
    let rate = u64::from(rule.rate_bp);
    if rule.inclusive {
        let tax = price.scaled(rate, 10_000 + rate)?;
        let net = price.checked_sub(tax)?;
        Ok(TaxedAmount {
            net,
            tax,
            total: price,
            rule,
        })
    } else {
        let tax = price.scaled(rate, 10_000)?;
        let total = price.checked_add(tax)?;
        Ok(TaxedAmount {
            net: price,
            tax,
            total,
            rule,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;
    use proptest::prelude::*;

    #[test]
    fn uk_prices_include_twenty_percent_vat() {
        let price = Money::parse("10.99", Currency::Gbp).unwrap();
        let split = apply(price, rule_for("gb")).unwrap();
        assert_eq!(split.total, price);
        assert_eq!(split.tax.minor(), 183, "10.99 / 1.2 = 9.158..., tax 1.83");
        assert_eq!(split.net.minor(), 916);
    }

    #[test]
    fn untaxed_countries_pay_the_price() {
        let price = Money::parse("15.49", Currency::Usd).unwrap();
        let split = apply(price, rule_for("US")).unwrap();
        assert_eq!(
            (split.net, split.total, split.tax.minor()),
            (price, price, 0)
        );
    }

    #[test]
    fn exclusive_tax_is_added_on_top() {
        let price = Money::new(1000, Currency::Usd).unwrap();
        let rule = TaxRule {
            rate_bp: 825,
            inclusive: false,
        };
        let split = apply(price, rule).unwrap();
        assert_eq!((split.tax.minor(), split.total.minor()), (83, 1083));
    }

    proptest! {
        #[test]
        fn the_parts_always_add_up(
            minor in 0i64..100_000_000_000,
            rate_bp in 0u32..5_000,
            inclusive: bool,
            c in 0usize..6,
        ) {
            let price = Money::new(minor, Currency::ALL[c]).unwrap();
            let split = apply(price, TaxRule { rate_bp, inclusive }).unwrap();
            prop_assert_eq!(split.net.checked_add(split.tax).unwrap(), split.total);
            prop_assert_eq!(if inclusive { split.total } else { split.net }, price);
            // The tax is the rate's share, to within half a minor unit.
            let exact = split.net.minor() as f64 * f64::from(rate_bp) / 10_000.0;
            prop_assert!((split.tax.minor() as f64 - exact).abs() <= 0.5 + f64::from(rate_bp) / 10_000.0);
        }
    }
}
