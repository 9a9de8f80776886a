//! Auth service settings, all from environment variables (see the README's table).

use std::time::Duration;

use platform::config::{self, BaseConfig, ConfigError, services};

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
    /// `COOKIE_SECURE`, default false (true behind HTTPS).
    pub cookie_secure: bool,
    /// `ADMIN_EMAIL` + `ADMIN_PASSWORD`: an admin account ensured at start-up.
    pub admin: Option<AdminBootstrap>,
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
            cookie_name: config::var_or("SESSION_COOKIE_NAME", "sid"),
            cookie_secure: config::bool_or("COOKIE_SECURE", false)?,
            admin,
        })
    }
}
