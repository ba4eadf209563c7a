//! What changing to a dearer plan in the middle of a period costs now.
//!
//! The viewer is credited the unused part of what they paid for the old plan and charged the
//! same part of the new plan's price; the difference is due at once and the period's end does
//! not move. Both parts are rounded half up to whole minor units, so `charge - credit == due`
//! exactly and an upgrade never costs less than nothing. Moving to a cheaper plan is not
//! prorated: it takes effect at the end of the period (see `subscription`).

use serde::{Deserialize, Serialize};

use crate::{Money, MoneyError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proration {
    /// The unused part of the old plan's price.
    pub credit: Money,
    /// The same part of the new plan's price.
    pub charge: Money,
    /// What the viewer pays now: `charge - credit`.
    pub due: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProrationError {
    #[error("the change is outside the current period")]
    OutsidePeriod,
    #[error("the new plan costs less than the current one: downgrades apply at the period's end")]
    NotAnUpgrade,
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// The cost of moving from a plan priced `old` to one priced `new` at `now`, within the period
/// `[start, end)` (seconds). Both prices are per period and in the same currency.
pub fn upgrade(
    old: Money,
    new: Money,
    start: u64,
    end: u64,
    now: u64,
) -> Result<Proration, ProrationError> {
    if !(start <= now && now < end) {
        return Err(ProrationError::OutsidePeriod);
    }
    if new.currency() != old.currency() {
        return Err(MoneyError::CurrencyMismatch(old.currency(), new.currency()).into());
    }
    if new.minor() < old.minor() {
        return Err(ProrationError::NotAnUpgrade);
    }
    let (remaining, length) = (end - now, end - start);
    let credit = old.scaled(remaining, length)?;
    let charge = new.scaled(remaining, length)?;
    let due = charge.checked_sub(credit)?;
    Ok(Proration {
        credit,
        charge,
        due,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;
    use proptest::prelude::*;

    const DAY: u64 = 86_400;

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::Eur).unwrap()
    }

    #[test]
    fn half_way_through_costs_half_the_difference() {
        let p = upgrade(eur(999), eur(1799), 0, 30 * DAY, 15 * DAY).unwrap();
        assert_eq!(
            (p.credit.minor(), p.charge.minor(), p.due.minor()),
            (500, 900, 400)
        );
    }

    #[test]
    fn on_the_first_second_it_costs_the_whole_difference() {
        let p = upgrade(eur(999), eur(1799), 0, 30 * DAY, 0).unwrap();
        assert_eq!(p.due.minor(), 800);
    }

    #[test]
    fn yen_are_never_split() {
        let yen = |m| Money::new(m, Currency::Jpy).unwrap();
        let p = upgrade(yen(990), yen(1490), 0, 31 * DAY, 10 * DAY).unwrap();
        // 990 × 21/31 = 670.6 → 671; 1490 × 21/31 = 1009.4 → 1009.
        assert_eq!(
            (p.credit.minor(), p.charge.minor(), p.due.minor()),
            (671, 1009, 338)
        );
    }

    #[test]
    fn bad_changes_are_refused() {
        assert_eq!(
            upgrade(eur(999), eur(1799), 10, 20, 20),
            Err(ProrationError::OutsidePeriod)
        );
        assert_eq!(
            upgrade(eur(1799), eur(999), 0, 20, 5),
            Err(ProrationError::NotAnUpgrade)
        );
        let usd = Money::new(1799, Currency::Usd).unwrap();
        assert!(matches!(
            upgrade(eur(999), usd, 0, 20, 5),
            Err(ProrationError::Money(MoneyError::CurrencyMismatch(..)))
        ));
    }

    proptest! {
        #[test]
        fn totals_add_up_and_never_go_below_zero(
            old in 0i64..10_000_000,
            extra in 0i64..10_000_000,
            length in 1u64..(366 * DAY),
            at in 0u64..(366 * DAY),
            c in 0usize..6,
        ) {
            let currency = Currency::ALL[c];
            let old_price = Money::new(old, currency).unwrap();
            let new_price = Money::new(old + extra, currency).unwrap();
            let now = at % length;
            let p = upgrade(old_price, new_price, 0, length, now).unwrap();
            prop_assert_eq!(p.credit.checked_add(p.due).unwrap(), p.charge);
            prop_assert!(p.credit.minor() <= old && p.charge.minor() <= old + extra);
            // The due amount is the exact prorated difference to within one minor unit.
            let exact = extra as f64 * (length - now) as f64 / length as f64;
            prop_assert!((p.due.minor() as f64 - exact).abs() <= 1.0);
        }
    }
}
