//! Playback: steer the viewer to edges (through the control-plane) and hand out a signed,
//! path-scoped playback token.

pub mod api;
pub mod manifests;
pub mod rungs;
pub mod steered;
pub mod steering;
pub mod wire;
