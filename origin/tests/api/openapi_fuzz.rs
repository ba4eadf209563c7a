//! The OpenAPI document fuzzed against the real server by schemathesis: every status an
//! endpoint answers is documented, no answer is a 5xx, and answers match their content types
//! and schemas. Once anonymous, once as an admin (without signing out, which would end the
//! session under test).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::util::{ADMIN_EMAIL, Client, sign_up, start_origin};

const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance";

fn schemathesis() -> PathBuf {
    super::util::installed_tool(
        "MARQUEE_SCHEMATHESIS",
        "schemathesis",
        "`pip install schemathesis==4.32.5` and put it on PATH",
    )
}

fn fuzz(base: &str, cookie: Option<&str>, seconds: u32, log_dir: &Path) {
    let hooks = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openapi");
    let mut cmd = Command::new(schemathesis());
    cmd.arg("run")
        .arg(format!("{base}/api/openapi.json"))
        .args(["--checks", CHECKS])
        .args(["--max-time", &seconds.to_string()])
        .args(["--workers", "1"])
        .arg("--report-dir")
        .arg(log_dir)
        .env("SCHEMATHESIS_HOOKS", "marquee_hooks")
        .env("PYTHONPATH", &hooks)
        .env("NO_COLOR", "1");
    if let Some(cookie) = cookie {
        cmd.args(["-H", &format!("Cookie: marquee_session={cookie}")])
            .args(["--exclude-operation-id", "sign_out"]);
    }
    let out = cmd.output().expect("run schemathesis");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(
        out.status.success(),
        "schemathesis found problems ({}):\n{text}",
        if cookie.is_some() {
            "as admin"
        } else {
            "anonymous"
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fuzzing_finds_no_undocumented_status_and_no_server_error() {
    let tmp = tempfile::tempdir().unwrap();
    let origin = start_origin(&tmp.path().join("origin"), &[]);
    let mut admin = Client::new(&origin.base);
    sign_up(&mut admin, ADMIN_EMAIL).await;
    let cookie = admin.cookie.clone().expect("a session");
    let base = origin.base.clone();
    let dir = tmp.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        fuzz(&base, None, 20, &dir.join("anonymous"));
        fuzz(&base, Some(&cookie), 40, &dir.join("admin"));
    })
    .await
    .unwrap();
    origin.stop();
}
