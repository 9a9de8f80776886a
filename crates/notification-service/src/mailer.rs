//! Where mail goes: an SMTP server (`SMTP_URL`), or, with none configured, one `.eml` file per
//! message under `DATA_DIR/mail/` for a developer to open.
//!
//! `SMTP_URL` follows lettre's URL form: `smtp://host:port` (plain, e.g. Mailpit on 1025),
//! `smtp://host:587?tls=required` (STARTTLS, refused without it), `?tls=opportunistic` (STARTTLS
//! when offered), `smtps://host:465` (TLS from the start), credentials as
//! `smtp://user:password@host` (percent-encode reserved characters).

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::transport::smtp::Error as SmtpError;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Why a send failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The server is away, slow, or answered 4xx: retry later.
    #[error("transient: {0}")]
    Transient(String),
    /// The server refused the message for good (5xx): retrying would not change that.
    #[error("permanent: {0}")]
    Permanent(String),
}

#[derive(Clone)]
pub enum Mailer {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// The URL without its credentials, for logs.
        server: String,
    },
    Files {
        transport: AsyncFileTransport<Tokio1Executor>,
        dir: PathBuf,
    },
}

impl Mailer {
    /// SMTP when `smtp_url` is given, else `.eml` files in `mail_dir` (created if missing).
    pub fn new(smtp_url: Option<&str>, mail_dir: &Path, timeout: Duration) -> anyhow::Result<Self> {
        match smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("SMTP_URL is invalid: {e}"))?
                    .timeout(Some(timeout))
                    .build();
                Ok(Mailer::Smtp {
                    transport,
                    server: without_credentials(url),
                })
            }
            None => {
                std::fs::create_dir_all(mail_dir).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot create the mail directory {}: {e}",
                        mail_dir.display()
                    )
                })?;
                Ok(Mailer::Files {
                    transport: AsyncFileTransport::new(mail_dir),
                    dir: mail_dir.to_path_buf(),
                })
            }
        }
    }

    /// Where messages go, for the start-up log.
    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp { server, .. } => format!("SMTP {server}"),
            Mailer::Files { dir, .. } => format!(".eml files in {}", dir.display()),
        }
    }

    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        match self {
            Mailer::Smtp { transport, .. } => transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| classify(&e)),
            Mailer::Files { transport, .. } => transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| SendError::Transient(format!("writing the .eml file: {e}"))),
        }
    }
}

/// 5xx answers are permanent; connection trouble, timeouts and 4xx are worth another try.
fn classify(e: &SmtpError) -> SendError {
    let text = format!("{e}");
    if e.is_permanent() {
        SendError::Permanent(text)
    } else {
        SendError::Transient(text)
    }
}

fn without_credentials(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_stay_out_of_the_logs() {
        assert_eq!(
            without_credentials("smtps://user:s3cret@mail.example.com:465"),
            "smtps://mail.example.com:465"
        );
        assert_eq!(
            without_credentials("smtp://mailpit:1025"),
            "smtp://mailpit:1025"
        );
    }

    #[test]
    fn an_smtp_url_that_lettre_cannot_read_is_refused_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let refused = Mailer::new(Some("http://nope"), dir.path(), Duration::from_secs(1));
        assert!(refused.is_err());
    }
}
