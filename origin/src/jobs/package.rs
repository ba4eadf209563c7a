//! Adapter to `marquee_packager` (blocking; called from `spawn_blocking`).

use std::path::Path;

use marquee_packager::{PackageRequest, Progress, SubtitleInput, package};
use tokio::sync::mpsc::UnboundedSender;

/// Packages `input` into `output` with 2-second segments, the default ladder and `subtitles`,
/// sending `(stage, overall fraction)` progress. Returns the duration in seconds, or a
/// readable error.
pub fn run(
    input: &Path,
    output: &Path,
    subtitles: Vec<SubtitleInput>,
    progress: UnboundedSender<(String, f64)>,
) -> Result<f64, String> {
    let req = PackageRequest {
        input: input.to_owned(),
        output_dir: output.to_owned(),
        segment_seconds: 2,
        ladder: None,
        subtitles,
    };
    let mut report = |p: Progress| {
        // The receiver only goes away when the job is being abandoned; nothing to do then.
        let _ = progress.send((p.stage.as_str().to_owned(), f64::from(p.overall())));
    };
    package(&req, &mut report)
        .map(|summary| summary.duration_secs)
        .map_err(|e| e.to_string())
}
