//! The catalogue: titles, posters and video uploads (admins), listing and title pages (viewers).

pub mod api;
pub mod facts;
pub mod genres;
pub mod state;
#[cfg(test)]
pub(crate) mod tests;
pub mod wire;
