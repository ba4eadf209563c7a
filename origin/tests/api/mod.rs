mod accounts;
mod media;
mod playback;
mod service;
mod util;
