mod accounts;
mod cluster;
mod media;
mod openapi_fuzz;
mod playback;
mod service;
mod util;
