//! Integration tests: each test drives the real `marquee-control-plane` binary on a free port.

mod heartbeat;
mod operators;
mod steering;
mod util;
