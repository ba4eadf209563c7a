//! The origin cluster as admins and operators see it: members, roles, and adding or removing
//! nodes (the `marquee cluster` commands call these).

pub mod api;
pub mod wire;
