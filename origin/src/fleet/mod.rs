//! The edge fleet as admins see it, through the control-plane: every edge with its health, load
//! and cache figures, and purges of cached media (takedowns).

pub mod api;
pub mod wire;
