//! My List: the titles a profile saved to watch later, newest first.

pub mod api;
pub mod state;
#[cfg(test)]
mod tests;
