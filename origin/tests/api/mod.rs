mod accounts;
mod cluster;
mod disk;
mod media;
mod openapi_fuzz;
mod playback;
mod service;
mod util;
