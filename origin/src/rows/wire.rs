//! JSON shape of `GET /api/v1/rows` (docs/interfaces.md).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::history::wire::ContinueItem;

/// One row of cards.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Row {
    /// Stable within a page: `continue-watching`, `my-list`, `new`, `genre:<name>`.
    pub id: String,
    /// What the row is called on screen.
    pub name: String,
    /// Cards in order; a card is a title, and for "Continue watching" the episode and progress.
    pub items: Vec<ContinueItem>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Rows {
    pub rows: Vec<Row>,
}
