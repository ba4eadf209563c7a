//! Concurrent streams: each playing session holds a lease its player renews; a plan allows so
//! many at once, and one too many is refused with the devices already playing named.

pub mod api;
pub mod device;
pub mod state;
#[cfg(test)]
mod tests;
