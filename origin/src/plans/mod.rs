//! The plans a viewer can subscribe to, priced in the viewer's currency. The rules (money,
//! currencies, tax, the plans themselves) live in the `marquee-billing` crate; this domain
//! shows them. Subscriptions and payments will join it.

pub mod api;
pub mod wire;
