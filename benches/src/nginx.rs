//! nginx configurations the benchmark writes into its temp dir (pure text generation).
//!
//! Both instances run in the foreground with their own prefix, pid file, error log and temp
//! paths, so nothing touches the system nginx or needs `/var/lib/nginx`.

use std::fmt::Write;
use std::path::Path;

/// The `Cache-Control` origin sends for segments (docs/interfaces.md).
pub const SEGMENT_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// Lines every instance shares: foreground, own pid and temp paths, no access log.
fn common(out: &mut String, dir: &Path, name: &str, workers: usize, run_as_root: bool) {
    let d = dir.display();
    if run_as_root {
        // Workers would otherwise drop to `nobody`, who cannot read the 0700 temp dir.
        out.push_str("user root root;\n");
    }
    let _ = write!(
        out,
        "daemon off;\n\
         worker_processes {workers};\n\
         pid {d}/{name}.pid;\n\
         error_log {d}/{name}-error.log warn;\n\
         events {{ worker_connections 4096; }}\n"
    );
}

/// Lines every `http` block shares; access logs are off unless a caller adds one.
fn http_common(out: &mut String, dir: &Path, name: &str) {
    out.push_str("    access_log off;\n");
    let d = dir.display();
    let _ = write!(
        out,
        "    sendfile on;\n\
         \x20   tcp_nopush on;\n\
         \x20   keepalive_requests 1000000;\n\
         \x20   client_body_temp_path {d}/{name}-tmp/body;\n\
         \x20   proxy_temp_path {d}/{name}-tmp/proxy;\n\
         \x20   fastcgi_temp_path {d}/{name}-tmp/fastcgi;\n\
         \x20   uwsgi_temp_path {d}/{name}-tmp/uwsgi;\n\
         \x20   scgi_temp_path {d}/{name}-tmp/scgi;\n\
         \x20   types {{ video/iso.segment m4s; video/mp4 mp4; }}\n"
    );
}

/// The upstream: serves `media_dir` as static files under `/media/bench/`, the way origin
/// serves segments. One worker: it only answers cache fills.
pub fn upstream_conf(dir: &Path, media_dir: &Path, port: u16, run_as_root: bool) -> String {
    upstream_conf_logged(dir, media_dir, port, run_as_root, None)
}

/// [`upstream_conf`] that also logs each answer's body bytes, one number per line, to
/// `bytes_log` (unbuffered): what the hit-ratio benchmark counts as bytes filled.
pub fn upstream_conf_logged(
    dir: &Path,
    media_dir: &Path,
    port: u16,
    run_as_root: bool,
    bytes_log: Option<&Path>,
) -> String {
    let mut out = String::new();
    common(&mut out, dir, "upstream", 1, run_as_root);
    out.push_str("http {\n");
    http_common(&mut out, dir, "upstream");
    // In the server block: `access_log off` at the http level cancels logs at that level.
    let logged = match bytes_log {
        Some(log) => {
            out.push_str("    log_format bytes '$body_bytes_sent';\n");
            format!("        access_log {} bytes;\n", log.display())
        }
        None => String::new(),
    };
    let _ = write!(
        out,
        "    server {{\n\
         \x20       listen 127.0.0.1:{port};\n\
         {logged}\
         \x20       location /media/bench/ {{\n\
         \x20           alias {media}/;\n\
         \x20           add_header Cache-Control \"{SEGMENT_CACHE_CONTROL}\" always;\n\
         \x20       }}\n\
         \x20   }}\n\
         }}\n",
        media = media_dir.display()
    );
    out
}

/// The peer: nginx `proxy_cache` in front of the upstream, with as many workers as the edge
/// has threads, a cache lock (nginx's request coalescing) and upstream keep-alive.
pub fn proxy_cache_conf(
    dir: &Path,
    port: u16,
    upstream_port: u16,
    workers: usize,
    run_as_root: bool,
) -> String {
    let d = dir.display();
    let mut out = String::new();
    common(&mut out, dir, "peer", workers, run_as_root);
    out.push_str("http {\n");
    http_common(&mut out, dir, "peer");
    let _ = write!(
        out,
        "    proxy_cache_path {d}/peer-cache levels=1:2 keys_zone=bench:10m max_size=1g inactive=1h use_temp_path=off;\n\
         \x20   upstream origin {{\n\
         \x20       server 127.0.0.1:{upstream_port};\n\
         \x20       keepalive 16;\n\
         \x20   }}\n\
         \x20   server {{\n\
         \x20       listen 127.0.0.1:{port};\n\
         \x20       location / {{\n\
         \x20           proxy_pass http://origin;\n\
         \x20           proxy_http_version 1.1;\n\
         \x20           proxy_set_header Connection \"\";\n\
         \x20           proxy_cache bench;\n\
         \x20           proxy_cache_lock on;\n\
         \x20           add_header Cache-Status \"nginx; $upstream_cache_status\" always;\n\
         \x20       }}\n\
         \x20   }}\n\
         }}\n"
    );
    out
}

/// The peer over HTTPS: [`proxy_cache_conf`]'s cache behind TLS 1.3 with HTTP/1.1 and HTTP/2
/// by ALPN, on the certificate and key the edge serves.
pub fn tls_proxy_cache_conf(
    dir: &Path,
    port: u16,
    upstream_port: u16,
    workers: usize,
    run_as_root: bool,
    cert: &Path,
    key: &Path,
) -> String {
    let plain = proxy_cache_conf(dir, port, upstream_port, workers, run_as_root);
    // nginx 1.22 (Debian 12) spells HTTP/2 on the listen line.
    plain.replacen(
        &format!("listen 127.0.0.1:{port};\n"),
        &format!(
            "listen 127.0.0.1:{port} ssl http2;\n\
             \x20       ssl_certificate {};\n\
             \x20       ssl_certificate_key {};\n\
             \x20       ssl_protocols TLSv1.3;\n\
             \x20       ssl_session_cache shared:tls:10m;\n\
             \x20       http2_max_concurrent_streams 128;\n\
             \x20       keepalive_requests 1000000;\n",
            cert.display(),
            key.display()
        ),
        1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_serves_media_with_immutable_cache_control() {
        let conf = upstream_conf(Path::new("/tmp/b"), Path::new("/tmp/b/media"), 4001, false);
        assert!(conf.starts_with("daemon off;\nworker_processes 1;\npid /tmp/b/upstream.pid;\n"));
        assert!(conf.contains("listen 127.0.0.1:4001;"));
        assert!(conf.contains("alias /tmp/b/media/;"));
        assert!(
            conf.contains(
                "add_header Cache-Control \"public, max-age=31536000, immutable\" always;"
            )
        );
        assert!(!conf.contains("user root"));
        assert_eq!(conf.matches('{').count(), conf.matches('}').count());
    }

    #[test]
    fn peer_matches_worker_count_and_caches_from_upstream() {
        let conf = proxy_cache_conf(Path::new("/tmp/b"), 4002, 4001, 2, true);
        assert!(conf.starts_with("user root root;\ndaemon off;\nworker_processes 2;\n"));
        assert!(conf.contains("server 127.0.0.1:4001;"));
        assert!(conf.contains("listen 127.0.0.1:4002;"));
        assert!(conf.contains("proxy_cache bench;"));
        assert!(conf.contains("proxy_cache_path /tmp/b/peer-cache "));
        assert!(conf.contains("error_log /tmp/b/peer-error.log warn;"));
        assert_eq!(conf.matches('{').count(), conf.matches('}').count());
    }

    #[test]
    fn the_tls_peer_serves_tls13_and_h2_on_the_given_certificate() {
        let conf = tls_proxy_cache_conf(
            Path::new("/tmp/b"),
            4443,
            4001,
            2,
            false,
            Path::new("/tmp/b/edge.pem"),
            Path::new("/tmp/b/edge.key"),
        );
        assert!(conf.contains("listen 127.0.0.1:4443 ssl http2;"));
        assert!(conf.contains("ssl_certificate /tmp/b/edge.pem;"));
        assert!(conf.contains("ssl_certificate_key /tmp/b/edge.key;"));
        assert!(conf.contains("ssl_protocols TLSv1.3;"));
        assert!(conf.contains("proxy_cache bench;"));
        assert_eq!(conf.matches('{').count(), conf.matches('}').count());
    }

    #[test]
    fn the_logged_upstream_writes_body_bytes() {
        let conf = upstream_conf_logged(
            Path::new("/tmp/b"),
            Path::new("/tmp/b/media"),
            4001,
            false,
            Some(Path::new("/tmp/b/bytes.log")),
        );
        assert!(conf.contains("log_format bytes '$body_bytes_sent';"));
        assert!(conf.contains("access_log /tmp/b/bytes.log bytes;"));
        assert_eq!(
            conf.matches("access_log").count(),
            2,
            "off first, then the log"
        );
    }
}
