mod accounts;
mod cluster;
mod media;
mod playback;
mod service;
mod util;
