//! The local world's mail server: MailDev (npm, installed into `deploy/mail` by `up.sh` and
//! `test.sh`) takes origin's notification emails over SMTP and shows them in a web inbox.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::binaries;
use crate::children::{ServiceSpec, Supervisor};
use crate::ports::free_port;
use crate::up::UpError;

/// A running inbox: where origin sends (SMTP) and where a person reads (web).
#[derive(Debug, Clone)]
pub struct Inbox {
    pub smtp_url: String,
    pub web_url: String,
}

/// MailDev's launcher: `MARQUEE_MAILDEV`, else `deploy/mail/node_modules/.bin/maildev` above
/// this directory, this executable's, or the source tree.
pub fn find_maildev() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MARQUEE_MAILDEV") {
        return Some(p.into());
    }
    binaries::find_above(|dir| {
        let bin = dir.join("deploy/mail/node_modules/.bin/maildev");
        bin.is_file().then_some(bin)
    })
}

/// Starts MailDev keeping its mail under `dir`, and waits until its API answers.
pub async fn start(sup: &mut Supervisor, program: PathBuf, dir: &Path) -> Result<Inbox, UpError> {
    std::fs::create_dir_all(dir).map_err(UpError::Port)?;
    let smtp = free_port().map_err(UpError::Port)?;
    let web = free_port().map_err(UpError::Port)?;
    let mut args: Vec<std::ffi::OsString> = [
        "--ip",
        "127.0.0.1",
        "--smtp",
        &smtp.to_string(),
        "--web-ip",
        "127.0.0.1",
        "--web",
        &web.to_string(),
        "--silent",
        "--mail-directory",
    ]
    .iter()
    .map(Into::into)
    .collect();
    args.push(dir.as_os_str().to_owned());
    sup.spawn(ServiceSpec {
        name: "mail".into(),
        program,
        args,
        handshake: None,
    })
    .await?;
    let web_url = format!("http://127.0.0.1:{web}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answered = http.get(format!("{web_url}/api/email")).send().await;
        if answered.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        if Instant::now() > deadline {
            return Err(UpError::Mail(format!(
                "MailDev did not answer GET {web_url}/api/email within 60 s"
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(Inbox {
        smtp_url: format!("smtp://127.0.0.1:{smtp}"),
        web_url,
    })
}
