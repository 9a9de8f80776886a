//! Typed configuration read from environment variables, with defaults that match the seed's
//! ports so a service started without any variable joins the local stack.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use crate::money::Currency;

/// Default ports of the local stack (the seed's port summary).
pub mod ports {
    pub const WEB: u16 = 3000;
    pub const AUTH: u16 = 3001;
    pub const EVENT: u16 = 3002;
    pub const TICKET: u16 = 3003;
    pub const PAYMENT: u16 = 3004;
    pub const NOTIFICATION: u16 = 3005;
    pub const NATS: u16 = 4222;
}

#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}={value:?} is invalid: {reason}")]
pub struct ConfigError {
    pub name: String,
    pub value: String,
    pub reason: String,
}

/// Reads `name`, falling back to `default` when it is unset or empty.
pub fn var_or(name: &str, default: &str) -> String {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v.trim().to_string(),
        _ => default.to_string(),
    }
}

/// Reads an optional variable; unset and empty both mean `None`.
pub fn var_opt(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Reads and parses `name`, falling back to `default` when unset.
pub fn parse_or<T>(name: &str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    match var_opt(name) {
        None => Ok(default),
        Some(value) => value.parse().map_err(|e: T::Err| ConfigError {
            name: name.to_string(),
            value,
            reason: e.to_string(),
        }),
    }
}

/// Reads a boolean (`true/false/1/0/yes/no/on/off`).
pub fn bool_or(name: &str, default: bool) -> Result<bool, ConfigError> {
    match var_opt(name) {
        None => Ok(default),
        Some(v) => match v.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(ConfigError {
                name: name.to_string(),
                value: v,
                reason: "expected true or false".into(),
            }),
        },
    }
}

/// Reads a duration given in whole seconds.
pub fn secs_or(name: &str, default: Duration) -> Result<Duration, ConfigError> {
    parse_or(name, default.as_secs()).map(Duration::from_secs)
}

/// Reads a duration given in milliseconds.
pub fn millis_or(name: &str, default: Duration) -> Result<Duration, ConfigError> {
    parse_or(name, default.as_millis() as u64).map(Duration::from_millis)
}

/// Where a service listens.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub addr: SocketAddr,
}

impl HttpConfig {
    /// `HOST` (default `0.0.0.0`) and `<SERVICE>_PORT`, falling back to `PORT`, then the default port.
    pub fn from_env(port_var: &str, default_port: u16) -> Result<Self, ConfigError> {
        let host = var_or("HOST", "0.0.0.0");
        let port = match var_opt(port_var) {
            Some(_) => parse_or(port_var, default_port)?,
            None => parse_or("PORT", default_port)?,
        };
        let addr = format!("{host}:{port}")
            .parse()
            .map_err(|e: std::net::AddrParseError| ConfigError {
                name: "HOST".into(),
                value: host,
                reason: e.to_string(),
            })?;
        Ok(Self { addr })
    }
}

/// Which store a service uses: MongoDB when `MONGODB_URI` is set, SQLite otherwise.
#[derive(Debug, Clone)]
pub enum StoreConfig {
    Sqlite { path: PathBuf },
    Mongo { uri: String, database: String },
}

impl StoreConfig {
    /// `MONGODB_URI` selects MongoDB with database `database` (fixed per service: `auth_db`, ...);
    /// otherwise the SQLite file `<DATA_DIR>/<file>` (default data dir `./data`).
    pub fn from_env(database: &str, sqlite_file: &str) -> Self {
        match var_opt("MONGODB_URI") {
            Some(uri) => StoreConfig::Mongo {
                uri,
                database: database.to_string(),
            },
            None => StoreConfig::Sqlite {
                path: data_dir().join(sqlite_file),
            },
        }
    }
}

/// `DATA_DIR`, default `./data`.
pub fn data_dir() -> PathBuf {
    PathBuf::from(var_or("DATA_DIR", "data"))
}

/// What tells one service apart from another in the environment.
#[derive(Debug, Clone, Copy)]
pub struct ServiceEnv {
    /// The variable naming its port, e.g. `AUTH_PORT`.
    pub port_var: &'static str,
    pub default_port: u16,
    /// Its MongoDB database, e.g. `auth_db`.
    pub database: &'static str,
    /// Its SQLite file under the data dir, e.g. `auth.db`.
    pub sqlite_file: &'static str,
}

impl ServiceEnv {
    pub const fn new(
        port_var: &'static str,
        default_port: u16,
        database: &'static str,
        sqlite_file: &'static str,
    ) -> Self {
        Self {
            port_var,
            default_port,
            database,
            sqlite_file,
        }
    }
}

/// The services of the platform.
pub mod services {
    use super::{ServiceEnv, ports};

    pub const AUTH: ServiceEnv = ServiceEnv::new("AUTH_PORT", ports::AUTH, "auth_db", "auth.db");
    pub const EVENT: ServiceEnv =
        ServiceEnv::new("EVENT_PORT", ports::EVENT, "event_db", "event.db");
    pub const TICKET: ServiceEnv =
        ServiceEnv::new("TICKET_PORT", ports::TICKET, "ticket_db", "ticket.db");
    pub const PAYMENT: ServiceEnv =
        ServiceEnv::new("PAYMENT_PORT", ports::PAYMENT, "payment_db", "payment.db");
    pub const NOTIFICATION: ServiceEnv = ServiceEnv::new(
        "NOTIFICATION_PORT",
        ports::NOTIFICATION,
        "notification_db",
        "notification.db",
    );
}

/// What every service reads the same way: where it listens and where it keeps its data.
#[derive(Debug, Clone)]
pub struct BaseConfig {
    /// `HOST` and `<SERVICE>_PORT` (else `PORT`, else the service's default port).
    pub http: HttpConfig,
    /// `MONGODB_URI` (the service's database), else SQLite `<DATA_DIR>/<service>.db`.
    pub store: StoreConfig,
}

impl BaseConfig {
    pub fn from_env(service: &ServiceEnv) -> Result<Self, ConfigError> {
        Ok(Self {
            http: HttpConfig::from_env(service.port_var, service.default_port)?,
            store: StoreConfig::from_env(service.database, service.sqlite_file),
        })
    }

    /// Any free loopback port and an in-memory SQLite database: a service for a test.
    pub fn in_memory() -> Self {
        Self {
            http: HttpConfig {
                addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            },
            store: StoreConfig::Sqlite {
                path: ":memory:".into(),
            },
        }
    }
}

/// How a service reaches the broker and the auth service: every service but auth itself.
#[derive(Debug, Clone)]
pub struct LinksConfig {
    /// `NATS_URL`, default `nats://127.0.0.1:4222`.
    pub nats_url: String,
    /// `NATS_CONNECT_TIMEOUT_SECS`, default 30: how long start-up waits for NATS.
    pub nats_connect_timeout: Duration,
    /// `AUTH_SERVICE_URL`, default `http://127.0.0.1:3001`.
    pub auth_url: String,
    /// `AUTH_TIMEOUT_MS`, default 2000: bound of a session check.
    pub auth_timeout: Duration,
}

impl LinksConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            nats_url: nats_url(),
            nats_connect_timeout: secs_or("NATS_CONNECT_TIMEOUT_SECS", Duration::from_secs(30))?,
            auth_url: auth_service_url(),
            auth_timeout: millis_or("AUTH_TIMEOUT_MS", Duration::from_millis(2000))?,
        })
    }
}

/// `CONSUMER_CONCURRENCY`: how many messages a consumer handles at once (at least 1).
pub fn consumer_concurrency(default: usize) -> Result<usize, ConfigError> {
    Ok(parse_or("CONSUMER_CONCURRENCY", default)?.max(1))
}

/// `CURRENCY`, default `USD`: the currency of the amounts a service keeps.
pub fn currency() -> Result<Currency, ConfigError> {
    let raw = var_or("CURRENCY", "USD");
    Currency::parse(&raw).map_err(|reason| ConfigError {
        name: "CURRENCY".into(),
        value: raw.clone(),
        reason: reason.into(),
    })
}

/// The base URL of another service: `var`, default `http://127.0.0.1:<port>`.
pub fn service_url(var: &str, port: u16) -> String {
    var_or(var, &format!("http://127.0.0.1:{port}"))
}

/// `NATS_URL`, default `nats://127.0.0.1:4222`.
pub fn nats_url() -> String {
    var_or("NATS_URL", &format!("nats://127.0.0.1:{}", ports::NATS))
}

/// Base URL of the auth service used by the other services (`AUTH_SERVICE_URL`).
pub fn auth_service_url() -> String {
    service_url("AUTH_SERVICE_URL", ports::AUTH)
}

/// `SESSION_COOKIE_NAME`, default `sid`: the cookie that carries the session (the auth service
/// sets it, the others read it when they check a session themselves).
pub fn session_cookie_name() -> String {
    var_or("SESSION_COOKIE_NAME", "sid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_has_its_own_port_variable_port_database_and_file() {
        let all = [
            services::AUTH,
            services::EVENT,
            services::TICKET,
            services::PAYMENT,
            services::NOTIFICATION,
        ];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a.port_var, b.port_var);
                assert_ne!(a.default_port, b.default_port);
                assert_ne!(a.database, b.database);
                assert_ne!(a.sqlite_file, b.sqlite_file);
            }
        }
    }
}
