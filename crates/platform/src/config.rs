//! Typed configuration read from environment variables, with defaults that match the seed's
//! ports so a service started without any variable joins the local stack.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// Default ports of the local stack (the seed's port summary).
pub mod ports {
    pub const WEB: u16 = 3000;
    pub const AUTH: u16 = 3001;
    pub const EVENT: u16 = 3002;
    pub const TICKET: u16 = 3003;
    pub const PAYMENT: u16 = 3004;
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

/// Reads a boolean (`true/false/1/0/yes/no`).
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

/// `NATS_URL`, default `nats://127.0.0.1:4222`.
pub fn nats_url() -> String {
    var_or("NATS_URL", &format!("nats://127.0.0.1:{}", ports::NATS))
}

/// Base URL of the auth service used by the other services (`AUTH_SERVICE_URL`).
pub fn auth_service_url() -> String {
    var_or(
        "AUTH_SERVICE_URL",
        &format!("http://127.0.0.1:{}", ports::AUTH),
    )
}
