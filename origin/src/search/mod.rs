//! Search: a tantivy index of the catalogue on every node, derived from the replicated state
//! (never replicated itself), following the state's change feed as entries apply.

pub mod api;
mod deadline;
pub mod doc;
pub mod feed;
pub mod index;
pub mod query;
pub mod schema;
#[cfg(test)]
mod tests;
pub mod wire;
