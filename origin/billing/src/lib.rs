//! Marquee's billing rules, kept apart from origin's I/O so they can be tested exhaustively.
//!
//! - [`Currency`] and [`Money`]: amounts are whole minor units (cents, pence, yen) in an `i64`,
//!   never floats, never negative; arithmetic is checked and refuses mixing currencies.
//! - [`tax`]: a per-country rate table and the split of a charge into net and tax that always
//!   adds up to the charge.
//! - [`proration`]: what an upgrade in the middle of a period costs now.
//! - [`invoice`]: invoices that add up, and their HTML receipts.
//! - [`plan`]: the plans viewers choose from, their limits and their prices per currency.
//! - [`subscription`]: the lifecycle (trial → active → past due → cancelled or expired) as a
//!   state machine that takes events with the time they happened and answers the next state
//!   and what the caller must do (charge, notify); it never reads a clock.
//! - [`webhook`]: Stripe's `Stripe-Signature` check (HMAC-SHA256 over `t.body`, 300 s).
//! - [`cards`]: the sandbox gateway's test cards and what each one does.
//!
//! ```
//! use marquee_billing::{Currency, Money};
//! let price = Money::parse("9.99", Currency::Eur).unwrap();
//! assert_eq!(price.minor(), 999);
//! assert_eq!(Money::parse("1200", Currency::Jpy).unwrap().to_string(), "¥1,200");
//! assert!(Money::parse("9.999", Currency::Usd).is_err(), "no fractions of a cent");
//! ```

pub mod cards;
pub mod currency;
pub mod invoice;
pub mod money;
pub mod plan;
pub mod proration;
pub mod subscription;
pub mod tax;
pub mod webhook;

pub use currency::{Currency, UnknownCurrency};
pub use money::{Money, MoneyError};
pub use plan::{Limits, Plan, Resolution};
pub use subscription::{Action, Event, Refusal, Status, Subscription};
