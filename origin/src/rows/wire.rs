//! JSON shape of `GET /api/v1/rows` (docs/interfaces.md).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::history::wire::ContinueItem;

/// One row of cards.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Row {
    /// Stable within a page: `continue-watching`, `my-list`, `top-picks`, `because:<title id>`,
    /// `top-10`, `trending`, `new`, `coming-soon`, `genre:<name>`.
    pub id: String,
    /// What the row is called on screen.
    pub name: String,
    /// Cards in order; a card is a title, and for "Continue watching" the episode and progress.
    pub items: Vec<ContinueItem>,
    /// A chart (Top 10): each card shows its place.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ranked: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Rows {
    pub rows: Vec<Row>,
}
