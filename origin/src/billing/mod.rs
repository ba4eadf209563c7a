//! Subscriptions and payments: the account's plan through its lifecycle, charges through a
//! payment gateway, invoices, and the entitlement playback checks. The rules (money, tax,
//! proration, the lifecycle) are the `marquee-billing` crate's; this domain stores and runs
//! them: `state` replicates every decision, `biller` drives renewals on the leader, `gateway`
//! moves the money (the built-in `sandbox`, or Stripe).

pub mod api;
pub mod biller;
pub mod charging;
pub mod clock;
pub mod gateway;
pub mod sandbox;
pub mod state;
pub mod stripe;
#[cfg(test)]
mod tests;
pub mod wire;
