//! Amounts of money: whole minor units of one currency, never negative, never a fraction.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Currency;

/// The largest amount accepted anywhere: a trillion major units, far above any bill, so that
/// sums of a few amounts and products with rates in basis points stay inside an `i64`/`i128`.
const MAX_MAJOR: i64 = 1_000_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("an amount of money cannot be negative")]
    Negative,
    #[error("the amount is too large")]
    TooLarge,
    #[error("{currency} has {digits} digits after the decimal point; {given:?} has more")]
    TooPrecise {
        currency: Currency,
        digits: u32,
        given: String,
    },
    #[error("{0:?} is not an amount: write digits with an optional decimal point, as 9.99")]
    NotANumber(String),
    #[error("cannot combine {0} with {1}")]
    CurrencyMismatch(Currency, Currency),
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Result<Money, MoneyError> {
        if minor < 0 {
            return Err(MoneyError::Negative);
        }
        if minor / currency.minor_per_major() > MAX_MAJOR {
            return Err(MoneyError::TooLarge);
        }
        Ok(Money { minor, currency })
    }

    pub fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }

    /// Reads a decimal amount in major units ("9.99", "1200"), refusing signs, exponents and
    /// more decimals than the currency has.
    pub fn parse(text: &str, currency: Currency) -> Result<Money, MoneyError> {
        let not_a_number = || MoneyError::NotANumber(text.to_owned());
        if text.starts_with('-') {
            return Err(MoneyError::Negative);
        }
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits_only(whole) || !digits_only(fraction) {
            return Err(not_a_number());
        }
        if text.contains('.') && fraction.is_empty() {
            return Err(not_a_number());
        }
        let exponent = currency.exponent();
        let significant = fraction.trim_end_matches('0');
        if significant.len() > exponent as usize {
            return Err(MoneyError::TooPrecise {
                currency,
                digits: exponent,
                given: text.to_owned(),
            });
        }
        let whole: i64 = whole.parse().map_err(|_| MoneyError::TooLarge)?;
        let mut minor_part: i64 = 0;
        for i in 0..exponent as usize {
            let digit = significant
                .as_bytes()
                .get(i)
                .map_or(0, |b| i64::from(b - b'0'));
            minor_part = minor_part * 10 + digit;
        }
        let minor = whole
            .checked_mul(currency.minor_per_major())
            .and_then(|m| m.checked_add(minor_part))
            .ok_or(MoneyError::TooLarge)?;
        Money::new(minor, currency)
    }

    pub fn minor(self) -> i64 {
        self.minor
    }

    pub fn currency(self) -> Currency {
        self.currency
    }

    pub fn is_zero(self) -> bool {
        self.minor == 0
    }

    fn same_currency(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let sum = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::TooLarge)?;
        Money::new(sum, self.currency)
    }

    /// `self - other`; an amount below zero is refused rather than wrapped or clamped.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        Money::new(self.minor - other.minor, self.currency)
    }

    /// `self × numerator / denominator`, rounded half up to a whole minor unit, in 128-bit
    /// arithmetic so the product cannot overflow. `denominator` must not be zero.
    pub fn scaled(self, numerator: u64, denominator: u64) -> Result<Money, MoneyError> {
        if denominator == 0 {
            return Err(MoneyError::TooLarge);
        }
        let product = i128::from(self.minor) * i128::from(numerator);
        let d = i128::from(denominator);
        let rounded = (product + d / 2) / d;
        let minor = i64::try_from(rounded).map_err(|_| MoneyError::TooLarge)?;
        Money::new(minor, self.currency)
    }
}

/// Shown the way a receipt shows it: symbol, thousands separators, the currency's decimals
/// ("$1,234.50", "¥1,200", "R$49.90").
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let per_major = self.currency.minor_per_major();
        let whole = (self.minor / per_major).to_string();
        let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
        for (i, ch) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        write!(f, "{}{grouped}", self.currency.symbol())?;
        let exponent = self.currency.exponent() as usize;
        if exponent > 0 {
            write!(f, ".{:0exponent$}", self.minor % per_major)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn usd(minor: i64) -> Money {
        Money::new(minor, Currency::Usd).unwrap()
    }

    #[test]
    fn decimal_text_becomes_minor_units() {
        assert_eq!(Money::parse("9.99", Currency::Usd).unwrap().minor(), 999);
        assert_eq!(Money::parse("9.9", Currency::Gbp).unwrap().minor(), 990);
        assert_eq!(Money::parse("10", Currency::Eur).unwrap().minor(), 1000);
        assert_eq!(Money::parse("1200", Currency::Jpy).unwrap().minor(), 1200);
        assert_eq!(Money::parse("1200.0", Currency::Jpy).unwrap().minor(), 1200);
    }

    #[test]
    fn bad_amounts_are_refused_with_a_reason() {
        assert_eq!(Money::parse("-1", Currency::Usd), Err(MoneyError::Negative));
        assert!(matches!(
            Money::parse("1.5", Currency::Jpy),
            Err(MoneyError::TooPrecise { digits: 0, .. })
        ));
        assert!(matches!(
            Money::parse("0.001", Currency::Usd),
            Err(MoneyError::TooPrecise { digits: 2, .. })
        ));
        for bad in ["", ".5", "5.", "1e3", "1,000", " 1", "NaN", "+1"] {
            assert!(
                matches!(
                    Money::parse(bad, Currency::Usd),
                    Err(MoneyError::NotANumber(_))
                ),
                "{bad:?}"
            );
        }
        assert_eq!(
            Money::parse("99999999999999999999", Currency::Usd),
            Err(MoneyError::TooLarge)
        );
        assert_eq!(Money::new(-5, Currency::Usd), Err(MoneyError::Negative));
        assert_eq!(
            Money::new(i64::MAX, Currency::Usd),
            Err(MoneyError::TooLarge)
        );
    }

    #[test]
    fn currencies_never_mix_and_nothing_goes_below_zero() {
        let eur = Money::new(100, Currency::Eur).unwrap();
        assert_eq!(
            usd(100).checked_add(eur),
            Err(MoneyError::CurrencyMismatch(Currency::Usd, Currency::Eur))
        );
        assert_eq!(usd(100).checked_sub(usd(101)), Err(MoneyError::Negative));
        assert_eq!(usd(100).checked_sub(usd(40)).unwrap().minor(), 60);
    }

    #[test]
    fn receipts_show_symbol_grouping_and_decimals() {
        assert_eq!(usd(123_450).to_string(), "$1,234.50");
        assert_eq!(usd(5).to_string(), "$0.05");
        assert_eq!(
            Money::new(1200, Currency::Jpy).unwrap().to_string(),
            "¥1,200"
        );
        assert_eq!(
            Money::new(4990, Currency::Brl).unwrap().to_string(),
            "R$49.90"
        );
        assert_eq!(Money::new(0, Currency::Gbp).unwrap().to_string(), "£0.00");
    }

    proptest! {
        #[test]
        fn printed_amounts_parse_back(minor in 0i64..10_000_000_000, c in 0usize..6) {
            let currency = Currency::ALL[c];
            let money = Money::new(minor, currency).unwrap();
            let text = money.to_string();
            let plain: String = text
                .trim_start_matches(currency.symbol())
                .chars()
                .filter(|ch| *ch != ',')
                .collect();
            prop_assert_eq!(Money::parse(&plain, currency).unwrap(), money);
        }

        #[test]
        fn scaling_rounds_to_a_whole_minor_unit_within_half_a_unit(
            minor in 0i64..1_000_000_000,
            num in 0u64..1_000_000,
            den in 1u64..1_000_000,
        ) {
            let exact = minor as f64 * num as f64 / den as f64;
            match usd(minor).scaled(num, den) {
                Ok(got) => prop_assert!((got.minor() as f64 - exact).abs() <= 0.5 + exact * 1e-12),
                Err(e) => prop_assert_eq!(e, MoneyError::TooLarge),
            }
        }
    }
}
