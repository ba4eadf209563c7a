//! Series: a catalogue title of kind `series` has seasons, and each season episodes with their
//! own video, packaging job and package. Films stay plain titles.

pub mod api;
pub mod state;
#[cfg(test)]
mod tests;
pub mod wire;
