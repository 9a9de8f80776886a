//! Notification service settings, all from environment variables (see the README's table).

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;
use platform::config::{self, BaseConfig, ConfigError, LinksConfig, services};

#[derive(Debug, Clone)]
pub struct NotificationConfig {
    /// `HOST`, `NOTIFICATION_PORT` (default 3005); `MONGODB_URI` (database `notification_db`),
    /// else SQLite `<DATA_DIR>/notification.db`.
    pub base: BaseConfig,
    /// `NATS_URL`, `AUTH_SERVICE_URL` and their timeouts.
    pub links: LinksConfig,
    /// `SMTP_URL`: where mail goes (see `crate::mailer`); unset, `.eml` files in `mail_dir`.
    pub smtp_url: Option<String>,
    /// `<DATA_DIR>/mail`: the `.eml` files when `SMTP_URL` is unset.
    pub mail_dir: PathBuf,
    /// `MAIL_FROM`, default `Ticketing <tickets@ticketing.local>`.
    pub from: Mailbox,
    /// `SMTP_TIMEOUT_SECS`, default 10: bound of one SMTP conversation.
    pub smtp_timeout: Duration,
    /// `HOLD_REMINDER_MINS`, default 5: a pending hold gets its reminder this long before it ends.
    pub reminder_lead: Duration,
    /// `NOTIFY_SWEEP_SECS`, default 30: how often reminders are looked for and unsent mails
    /// retried.
    pub sweep_every: Duration,
    /// `MAIL_CLAIM_STALE_SECS`, default 60: a mail claimed this long ago and not marked sent was
    /// interrupted (the sender died) and may be sent again.
    pub claim_stale: Duration,
    /// `MAIL_MAX_FACT_AGE_SECS`, default 86400: older facts feed the projection but send no mail.
    pub max_fact_age: Duration,
}

impl NotificationConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let raw_from = config::var_or("MAIL_FROM", "Ticketing <tickets@ticketing.local>");
        let from = raw_from.parse().map_err(|e| ConfigError {
            name: "MAIL_FROM".into(),
            value: raw_from.clone(),
            reason: format!("not a mailbox: {e}"),
        })?;
        Ok(Self {
            base: BaseConfig::from_env(&services::NOTIFICATION)?,
            links: LinksConfig::from_env()?,
            smtp_url: config::var_opt("SMTP_URL"),
            mail_dir: config::data_dir().join("mail"),
            from,
            smtp_timeout: config::secs_or("SMTP_TIMEOUT_SECS", Duration::from_secs(10))?,
            reminder_lead: Duration::from_secs(
                60 * config::parse_or::<u64>("HOLD_REMINDER_MINS", 5)?,
            ),
            sweep_every: config::secs_or("NOTIFY_SWEEP_SECS", Duration::from_secs(30))?,
            claim_stale: config::secs_or("MAIL_CLAIM_STALE_SECS", Duration::from_secs(60))?,
            max_fact_age: config::secs_or("MAIL_MAX_FACT_AGE_SECS", Duration::from_secs(86_400))?,
        })
    }
}
