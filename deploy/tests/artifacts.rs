//! The deployment files under `deploy/` are checked, not just kept: systemd units start each
//! service from their own command line with the example configs, the container file and the
//! Kubernetes manifests parse and name the same binaries and configs, and the Grafana dashboard
//! draws only metrics the services define.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use marquee_tls::ca::CaDir;
use marquee_tls::{Service, TlsFiles};

const SERVICES: [&str; 3] = ["control-plane", "origin", "edge"];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root")
        .to_path_buf()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A unit file as section → key → values (keys may repeat).
type Unit = BTreeMap<String, BTreeMap<String, Vec<String>>>;

fn parse_unit(text: &str, name: &str) -> Unit {
    let mut unit = Unit::new();
    let mut section = None;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(s.to_owned());
            unit.entry(s.to_owned()).or_default();
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("{name}:{}: not `Key=value`: {line}", n + 1));
        let section = section
            .clone()
            .unwrap_or_else(|| panic!("{name}:{}: a key outside any section", n + 1));
        unit.entry(section)
            .or_default()
            .entry(key.trim().to_owned())
            .or_default()
            .push(value.trim().to_owned());
    }
    unit
}

/// `ExecStart` of `marquee-<service>.service`, checked to run that binary with its config.
fn exec_start(service: &str) -> Vec<String> {
    let name = format!("marquee-{service}.service");
    let unit = parse_unit(&read(&repo().join("deploy/systemd").join(&name)), &name);
    for (section, key) in [
        ("Unit", "Description"),
        ("Service", "ExecStart"),
        ("Service", "User"),
        ("Install", "WantedBy"),
    ] {
        assert!(
            unit.get(section).is_some_and(|s| s.contains_key(key)),
            "{name} lacks [{section}] {key}"
        );
    }
    let argv: Vec<String> = unit["Service"]["ExecStart"][0]
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        argv[0],
        format!("/usr/local/bin/marquee-{service}"),
        "{name} runs its own binary"
    );
    assert_eq!(
        argv[1..],
        [
            "--config".to_owned(),
            format!("/etc/marquee/{service}.toml")
        ],
        "{name} reads its config file"
    );
    argv
}

/// The binaries built beside this test's `marquee`.
fn binary(service: &str) -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_marquee"))
        .parent()
        .expect("target dir")
        .join(format!("marquee-{service}"));
    assert!(
        bin.is_file(),
        "{} is missing: build it first with `cargo build --workspace --bins`",
        bin.display()
    );
    bin
}

/// A service started from its unit's command line, the `/usr/local/bin` binary and the
/// `/etc/marquee` config mapped to the built binary and `deploy/config`, and machine-specific
/// settings (addresses, directories, certificates) given as env vars, which override the file.
struct Started {
    child: Child,
    url: String,
}

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(service: &str, env: &[(String, String)], dir: &Path) -> Started {
    let argv = exec_start(service);
    let config = repo().join("deploy/config").join(format!("{service}.toml"));
    let mut child = Command::new(binary(service))
        .arg(&argv[1])
        .arg(&config)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join(format!("{service}.log"))).expect("log"))
        .spawn()
        .unwrap_or_else(|e| panic!("starting {service}: {e}"));
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let prefix = format!("marquee-{service} listening on ");
    let url = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(url) = line.strip_prefix(&prefix) {
                    break url.trim().to_owned();
                }
            }
            _ => panic!(
                "{service} exited before listening: {}",
                read(&dir.join(format!("{service}.log")))
            ),
        }
    };
    // Keep reading stdout so the service never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Started { child, url }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

fn tls_env(prefix: &str, files: &TlsFiles) -> Vec<(String, String)> {
    [
        ("TLS_CERT", &files.cert),
        ("TLS_KEY", &files.key),
        ("TLS_CA", &files.ca),
    ]
    .into_iter()
    .map(|(k, v)| (format!("{prefix}_{k}"), v.display().to_string()))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_service_starts_from_its_systemd_unit_and_the_fleet_forms() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let ca = CaDir::new(dir.join("ca"));
    ca.init("Units CA").expect("CA");
    let certs = dir.join("certs");
    let issue = |service, id| {
        ca.issue(service, id, &["127.0.0.1".into()], &certs)
            .expect("issue");
        TlsFiles::in_dir(&certs, ca.cert_path(), service, id)
    };

    let s = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    let mut env = vec![
        s("MARQUEE_CONTROL_PLANE_LISTEN", "127.0.0.1:0"),
        s(
            "MARQUEE_CONTROL_PLANE_STATE_DIR",
            &dir.join("cp-state").display().to_string(),
        ),
    ];
    env.extend(tls_env(
        "MARQUEE_CONTROL_PLANE",
        &issue(Service::ControlPlane, "cp-1"),
    ));
    let cp = start("control-plane", &env, dir);
    assert!(cp.url.starts_with("https://"), "{}", cp.url);

    let countries = dir.join("countries.toml");
    std::fs::write(&countries, "\"127.0.0.0/8\" = \"IE\"\n").expect("countries");
    let data = dir.join("origin-data");
    let services = free_port();
    let mut env = vec![
        s("MARQUEE_ORIGIN_LISTEN", "127.0.0.1:0"),
        s(
            "MARQUEE_ORIGIN_INTERNAL_LISTEN",
            &format!("127.0.0.1:{services}"),
        ),
        s("MARQUEE_ORIGIN_DATA_DIR", &data.display().to_string()),
        s(
            "MARQUEE_ORIGIN_WEB_DIR",
            &dir.join("web").display().to_string(),
        ),
        s("MARQUEE_ORIGIN_CONTROL_PLANE", &cp.url),
        s(
            "MARQUEE_ORIGIN_COUNTRY_PREFIXES",
            &countries.display().to_string(),
        ),
    ];
    env.extend(tls_env(
        "MARQUEE_ORIGIN",
        &issue(Service::Origin, "origin-1"),
    ));
    let origin = start("origin", &env, dir);
    let key = read(&data.join("token-public-key")).trim().to_owned();

    let (plain, tls_port) = (free_port(), free_port());
    let mut env = vec![
        s("MARQUEE_EDGE_LISTEN", &format!("127.0.0.1:{plain}")),
        s("MARQUEE_EDGE_TLS_LISTEN", &format!("127.0.0.1:{tls_port}")),
        s(
            "MARQUEE_EDGE_ORIGIN",
            &format!("https://127.0.0.1:{services}"),
        ),
        s("MARQUEE_EDGE_CONTROL_PLANE", &cp.url),
        s(
            "MARQUEE_EDGE_PUBLIC_URL",
            &format!("https://127.0.0.1:{tls_port}"),
        ),
        s("MARQUEE_EDGE_TOKEN_PUBLIC_KEY", &key),
        s(
            "MARQUEE_EDGE_CACHE_DIR",
            &dir.join("edge-cache").display().to_string(),
        ),
        s("MARQUEE_EDGE_CACHE_MEMORY_MB", "64"),
        s("MARQUEE_EDGE_CACHE_DISK_MB", "64"),
        s("MARQUEE_EDGE_THREADS", "1"),
    ];
    env.extend(tls_env("MARQUEE_EDGE", &issue(Service::Edge, "edge-1")));
    let edge = start("edge", &env, dir);

    // The edge (its id from its certificate, its region from the file) joins the fleet.
    let operator = marquee_deploy::pki::control_plane_client(&issue(Service::Operator, "ops"))
        .expect("operator");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let edges: serde_json::Value = operator
            .get(format!("{}/v1/edges", cp.url))
            .send()
            .await
            .expect("edges")
            .json()
            .await
            .expect("json");
        if let Some(row) = edges.as_array().and_then(|a| a.first()) {
            assert_eq!(row["edge_id"], "edge-1");
            assert_eq!(row["region"], "eu-west", "from deploy/config/edge.toml");
            assert_eq!(row["public_url"], format!("https://127.0.0.1:{tls_port}"));
            break;
        }
        assert!(Instant::now() < deadline, "the edge never registered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for url in [&origin.url, &edge.url] {
        let resp = reqwest::get(format!("{url}/healthz"))
            .await
            .expect("healthz");
        assert_eq!(resp.status(), 200, "{url}");
    }
}

#[test]
fn the_container_file_builds_the_three_images_the_units_describe() {
    let text = read(&repo().join("deploy/container/Containerfile"));
    const INSTRUCTIONS: [&str; 12] = [
        "FROM",
        "RUN",
        "COPY",
        "WORKDIR",
        "ENV",
        "EXPOSE",
        "USER",
        "ENTRYPOINT",
        "CMD",
        "ARG",
        "LABEL",
        "VOLUME",
    ];
    let mut stages = BTreeSet::new();
    let mut entrypoints = BTreeMap::new();
    let mut stage = String::new();
    let mut continued = false;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        let was_continued = continued;
        continued = trimmed.ends_with('\\');
        if was_continued || trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let word = trimmed.split_whitespace().next().unwrap_or_default();
        assert!(
            INSTRUCTIONS.contains(&word),
            "Containerfile:{}: unknown instruction {word}",
            n + 1
        );
        let rest = trimmed[word.len()..].trim();
        match word {
            "FROM" => {
                if let Some((_, name)) = rest.split_once(" AS ") {
                    stage = name.trim().to_owned();
                    stages.insert(stage.clone());
                }
            }
            "COPY" if !rest.starts_with("--from") => {
                let source = rest.split_whitespace().next().unwrap_or_default();
                assert!(
                    repo().join(source).exists(),
                    "Containerfile:{}: COPY {source} does not exist",
                    n + 1
                );
            }
            "ENTRYPOINT" => {
                let argv: Vec<String> = serde_json::from_str(rest)
                    .unwrap_or_else(|e| panic!("Containerfile:{}: {e}", n + 1));
                entrypoints.insert(stage.clone(), argv);
            }
            _ => {}
        }
    }
    for service in SERVICES {
        assert!(stages.contains(service), "no `{service}` stage");
        assert_eq!(
            entrypoints.get(service),
            Some(&exec_start(service)),
            "the {service} image runs what its unit runs"
        );
    }
}

#[test]
fn the_kubernetes_manifests_deploy_each_service_as_the_issue_says() {
    use serde::Deserialize;
    let mut workloads = BTreeSet::new();
    for service in SERVICES {
        let path = repo().join("deploy/k8s").join(format!("{service}.yaml"));
        let text = read(&path);
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let value = serde_yaml::Value::deserialize(doc)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let kind = value["kind"].as_str().expect("kind").to_owned();
            assert!(
                value["apiVersion"].is_string(),
                "{}: apiVersion",
                path.display()
            );
            assert_eq!(
                value["metadata"]["namespace"],
                "marquee",
                "{}",
                path.display()
            );
            let name = value["metadata"]["name"].as_str().expect("name").to_owned();
            let containers = &value["spec"]["template"]["spec"]["containers"];
            if let Some(containers) = containers.as_sequence() {
                let command: Vec<&str> = containers[0]["command"]
                    .as_sequence()
                    .expect("command")
                    .iter()
                    .filter_map(|v| v.as_str())
                    .collect();
                let line = command.join(" ");
                assert!(
                    line.contains(&format!("/usr/local/bin/marquee-{service}"))
                        && line.contains(&format!("--config /etc/marquee/{service}.toml")),
                    "{}: {line}",
                    path.display()
                );
                // The config it mounts is one of deploy/config's files.
                let mounts = containers[0]["volumeMounts"].as_sequence().expect("mounts");
                let config = mounts
                    .iter()
                    .find_map(|m| m["subPath"].as_str())
                    .expect("config mount");
                assert!(repo().join("deploy/config").join(config).is_file());
            }
            workloads.insert((name, kind));
        }
    }
    for (name, kind) in [
        ("origin", "StatefulSet"),
        ("edge", "DaemonSet"),
        ("control-plane", "Deployment"),
    ] {
        assert!(
            workloads.contains(&(name.to_owned(), kind.to_owned())),
            "no {kind} {name}: {workloads:?}"
        );
    }
}

/// Every metric name defined as a string literal in the services' sources.
fn defined_metrics() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut dirs = vec![
        repo().join("edge/src"),
        repo().join("control-plane/src"),
        repo().join("origin/src"),
        repo().join("proto/tls/src"),
    ];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                for piece in read(&path).split('"').skip(1).step_by(2) {
                    if piece.starts_with("marquee_")
                        && piece
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
                    {
                        names.insert(piece.to_owned());
                    }
                }
            }
        }
    }
    names
}

#[test]
fn the_dashboard_draws_only_metrics_the_services_define() {
    let path = repo().join("deploy/grafana/marquee.json");
    let dashboard: serde_json::Value =
        serde_json::from_str(&read(&path)).expect("the dashboard is JSON");
    let defined = defined_metrics();
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(panels.len() >= 8);
    let mut drawn = BTreeSet::new();
    for panel in panels {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("expr");
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if let Some(name) = word.strip_prefix("marquee_").map(|_| word) {
                    let base = ["_bucket", "_sum", "_count"]
                        .iter()
                        .find_map(|s| name.strip_suffix(s))
                        .unwrap_or(name);
                    assert!(
                        defined.contains(base),
                        "panel {:?} draws {name}, which no service defines",
                        panel["title"]
                    );
                    drawn.insert(base.to_owned());
                }
            }
        }
    }
    for wanted in [
        "marquee_edge_requests_total",
        "marquee_edge_served_bytes_total",
        "marquee_edge_origin_fetch_duration_seconds",
        "marquee_edge_origin_errors_total",
        "marquee_edge_cache_misses_total",
    ] {
        assert!(drawn.contains(wanted), "the dashboard lacks {wanted}");
    }
}
