//! Notification emails over SMTP (lettre): a plain-text and an HTML part, a Message-ID made
//! from the notification's id (the same on every attempt and every node), and RFC 8058
//! one-click unsubscribe headers.

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::state::{Kind, OutboxMail};
use crate::config::MailConfig;

const LIST_UNSUBSCRIBE: HeaderName = HeaderName::new_from_ascii_str("List-Unsubscribe");
const LIST_UNSUBSCRIBE_POST: HeaderName = HeaderName::new_from_ascii_str("List-Unsubscribe-Post");

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The web app's address, for links.
    viewer_url: String,
}

/// Why an email was not sent, and whether trying again later may help.
#[derive(Debug)]
pub struct SendFailure {
    pub retry: bool,
    pub reason: String,
}

impl Mailer {
    pub fn new(config: &MailConfig, viewer_url: &str) -> Result<Self, String> {
        // lettre reads the user and password from the URL (decoding them); the password comes
        // from its file and is put in only here, never in anything printed.
        let mut url = url::Url::parse(&config.smtp_url).map_err(|e| format!("--smtp-url: {e}"))?;
        if let Some(password) = &config.password {
            url.set_password(Some(password))
                .map_err(|()| "--smtp-url: this URL cannot carry a password".to_owned())?;
        }
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.as_str())
            .map_err(|_| "--smtp-url: not a URL lettre can use".to_owned())?;
        Ok(Self {
            transport: builder
                .timeout(Some(std::time::Duration::from_secs(20)))
                .build(),
            from: config
                .from
                .parse()
                .map_err(|e| format!("--mail-from: {e}"))?,
            viewer_url: viewer_url.trim_end_matches('/').to_owned(),
        })
    }

    /// Where a mail's one-click unsubscribe goes (RFC 8058: a POST to this very URL).
    pub fn unsubscribe_url(&self, token: &str) -> String {
        format!("{}/api/v1/unsubscribe/{token}", self.viewer_url)
    }

    pub fn message(&self, mail: &OutboxMail) -> Result<Message, String> {
        let n = &mail.notification;
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| format!("recipient address: {e}"))?;
        let link = format!("{}{}", self.viewer_url, n.link);
        let page = format!("{}/unsubscribe/{}", self.viewer_url, mail.unsubscribe_token);
        let why = match n.kind {
            Kind::NewEpisodes => "new episodes of what you watch",
            Kind::GenreRelease => "new titles in your favourite genres",
            Kind::Reminder => "reminders you asked for",
            Kind::Digest => "your weekly picks",
        };
        let text = format!(
            "Hi {name},\n\n{headline}\n{body}\n\n{link}\n\n--\nYou get this email for {why} on \
             the profile {name}. Stop these emails: {page}\n",
            name = mail.profile_name,
            headline = n.headline,
            body = n.body,
        );
        let html = format!(
            "<!doctype html><html><body style=\"font-family:sans-serif\">\
             <p>Hi {name},</p><h1 style=\"font-size:20px\">{headline}</h1><p>{body}</p>\
             <p><a href=\"{link}\">Open Marquee</a></p><hr>\
             <p style=\"font-size:12px;color:#555\">You get this email for {why} on the profile \
             {name}. <a href=\"{page}\">Stop these emails</a>.</p></body></html>",
            name = escape(&mail.profile_name),
            headline = escape(&n.headline),
            body = escape(&n.body),
            link = escape(&link),
            page = escape(&page),
        );
        let domain = self.from.email.domain().to_owned();
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(n.headline.clone())
            .message_id(Some(format!("<{}@{domain}>", n.id)))
            .raw_header(HeaderValue::new(
                LIST_UNSUBSCRIBE,
                format!("<{}>", self.unsubscribe_url(&mail.unsubscribe_token)),
            ))
            .raw_header(HeaderValue::new(
                LIST_UNSUBSCRIBE_POST,
                "List-Unsubscribe=One-Click".into(),
            ))
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(text),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(html),
                    ),
            )
            .map_err(|e| format!("building the message: {e}"))
    }

    pub async fn send(&self, mail: &OutboxMail) -> Result<(), SendFailure> {
        let message = self.message(mail).map_err(|reason| SendFailure {
            retry: false,
            reason,
        })?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| SendFailure {
                // A 5xx answer will not change; anything else (busy, unreachable) may.
                retry: !e.is_permanent(),
                reason: e.to_string(),
            })
    }
}

fn escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}
