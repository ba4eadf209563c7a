//! Ratings: a profile's thumbs down, up or "love it" on a title; shown on the title page, and
//! what recommendations learn from.

pub mod api;
pub mod state;
#[cfg(test)]
mod tests;
