//! The home page's rows for the session's profile in one answer: Continue watching, My List,
//! New on Marquee, then the biggest genres. Each row is a few bounded range scans, so the page
//! costs the same with ten titles or a hundred thousand.

pub mod api;
pub mod wire;
