//! Subtitles: WebVTT files admins upload per film or episode and language. Each packaging job
//! takes the owner's current files into its package (an HLS subtitle rendition and a DASH text
//! adaptation set); a change to a packaged video's subtitles re-packages it.

pub mod api;
pub mod state;
#[cfg(test)]
mod tests;
