//! Integration tests: real ffmpeg, real files, real Chromium. One binary, grouped by area.

mod integration {
    pub mod common;
    mod errors;
    mod package;
    mod playback;
}
