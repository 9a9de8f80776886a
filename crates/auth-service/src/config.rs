//! Auth service settings, all from environment variables (see the README's table).

use std::time::Duration;

use platform::config::{self, BaseConfig, ConfigError, services};

use crate::throttle::Limit;

#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `HOST`, `AUTH_PORT` (default 3001); `MONGODB_URI` (database `auth_db`), else SQLite
    /// `<DATA_DIR>/auth.db`.
    pub base: BaseConfig,
    /// `BCRYPT_COST`, default 12.
    pub bcrypt_cost: u32,
    /// `SESSION_IDLE_TIMEOUT_SECS`, default 1 day: a session unused this long is dead.
    pub session_idle: Duration,
    /// `SESSION_MAX_AGE_SECS`, default 7 days: no session lives longer.
    pub session_max_age: Duration,
    /// `SESSION_COOKIE_NAME`, default `sid`.
    pub cookie_name: String,
    /// `NATS_URL` (default `nats://127.0.0.1:4222`), where the session records go so that the
    /// other services check sessions without asking; `SESSION_RECORDS=off` (or `None`) writes
    /// none. The service starts and serves without NATS.
    pub nats_url: Option<String>,
    /// `COOKIE_SECURE`, default false (true behind HTTPS).
    pub cookie_secure: bool,
    /// `ADMIN_EMAIL` + `ADMIN_PASSWORD`: an admin account ensured at start-up.
    pub admin: Option<AdminBootstrap>,
    /// `LOGIN_MAX_FAILURES_PER_ACCOUNT` (default 10) wrong passwords per
    /// `LOGIN_THROTTLE_WINDOW_SECS` (default 900) before an account's sign-ins answer 429.
    pub login_per_account: Limit,
    /// `LOGIN_MAX_FAILURES_PER_ADDRESS` (default 50) failed sign-ins from one client address per
    /// the same window (higher: many people share an address behind NAT).
    pub login_per_address: Limit,
    /// `REGISTRATIONS_PER_ADDRESS` (default 20) sign-ups from one client address per
    /// `REGISTRATION_WINDOW_SECS` (default 3600).
    pub registrations_per_address: Limit,
}

#[derive(Debug, Clone)]
pub struct AdminBootstrap {
    pub email: String,
    pub password: String,
}

impl AuthConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let admin = match (
            config::var_opt("ADMIN_EMAIL"),
            config::var_opt("ADMIN_PASSWORD"),
        ) {
            (Some(email), Some(password)) => Some(AdminBootstrap { email, password }),
            _ => None,
        };
        let login_window = config::secs_or("LOGIN_THROTTLE_WINDOW_SECS", Duration::from_secs(900))?;
        Ok(Self {
            base: BaseConfig::from_env(&services::AUTH)?,
            bcrypt_cost: config::parse_or("BCRYPT_COST", 12)?,
            session_idle: config::secs_or(
                "SESSION_IDLE_TIMEOUT_SECS",
                Duration::from_secs(86_400),
            )?,
            session_max_age: config::secs_or(
                "SESSION_MAX_AGE_SECS",
                Duration::from_secs(7 * 86_400),
            )?,
            cookie_name: config::session_cookie_name(),
            nats_url: config::bool_or("SESSION_RECORDS", true)?.then(config::nats_url),
            cookie_secure: config::bool_or("COOKIE_SECURE", false)?,
            admin,
            login_per_account: Limit {
                max: config::parse_or("LOGIN_MAX_FAILURES_PER_ACCOUNT", 10)?,
                window: login_window,
            },
            login_per_address: Limit {
                max: config::parse_or("LOGIN_MAX_FAILURES_PER_ADDRESS", 50)?,
                window: login_window,
            },
            registrations_per_address: Limit {
                max: config::parse_or("REGISTRATIONS_PER_ADDRESS", 20)?,
                window: config::secs_or("REGISTRATION_WINDOW_SECS", Duration::from_secs(3600))?,
            },
        })
    }
}
