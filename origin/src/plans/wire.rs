//! What `GET /api/v1/plans` answers.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A price ready to show: minor units for arithmetic, text for people.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Price {
    /// Whole minor units (cents, pence; yen have none).
    pub minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// As a receipt shows it, e.g. `£5.99`, `¥990`.
    pub display: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanOffer {
    pub id: String,
    pub name: String,
    /// Streams that may play at once.
    pub streams: u8,
    /// The highest picture: `480p`, `720p`, `1080p` or `2160p`.
    pub top_resolution: String,
    /// Profiles the account may have.
    pub profiles: u8,
    /// Per 30-day period.
    pub price: Price,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Plans {
    /// The country prices are for (ISO 3166-1 alpha-2), when known.
    pub country: Option<String>,
    pub currency: String,
    /// Whether the prices include the country's tax (VAT/GST).
    pub tax_included: bool,
    pub plans: Vec<PlanOffer>,
}
