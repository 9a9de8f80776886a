//! Session tokens and the cookie that carries them. The cookie holds 256 random bits; the store
//! (and the sessions bucket) only ever see their SHA-256, so a leaked database cannot be replayed
//! as cookies.

use chrono::{DateTime, Utc};
use platform::auth::record;
use rand::RngCore;
use uuid::Uuid;

use crate::config::AuthConfig;

/// A session as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub token_hash: String,
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl Session {
    /// Alive when neither the absolute lifetime nor the idle timeout has passed (the rule the
    /// other services apply to the session's record too).
    pub fn is_alive(&self, now: DateTime<Utc>, idle: std::time::Duration) -> bool {
        record::is_alive(self.expires_at, self.last_seen_at, idle, now)
    }

    /// Whether a request at `now` should refresh `last_seen_at` (see [`record::needs_touch`]).
    pub fn needs_touch(&self, now: DateTime<Utc>, idle: std::time::Duration) -> bool {
        record::needs_touch(self.last_seen_at, idle, now)
    }
}

/// A fresh token (64 hex chars) from the OS-seeded CSPRNG.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub use record::{hash_token, token_from_header};

/// `Set-Cookie` value carrying a new session.
pub fn cookie(config: &AuthConfig, token: &str) -> String {
    set_cookie(config, token, config.session_max_age.as_secs())
}

/// `Set-Cookie` value that makes the browser forget the session.
pub fn removal(config: &AuthConfig) -> String {
    set_cookie(config, "", 0)
}

fn set_cookie(config: &AuthConfig, value: &str, max_age: u64) -> String {
    let secure = if config.cookie_secure { "; Secure" } else { "" };
    format!(
        "{}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}",
        config.cookie_name
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_random_bits_and_never_repeat() {
        let a = new_token();
        let b = new_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_ne!(hash_token(&a), a);
        assert_eq!(hash_token(&a), hash_token(&a));
    }

    /// A session started at `now` for an hour.
    fn fresh_session(now: DateTime<Utc>) -> Session {
        Session {
            token_hash: "h".into(),
            user_id: Uuid::nil(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + chrono::Duration::hours(1),
        }
    }

    #[test]
    fn a_session_dies_when_idle_too_long_or_past_its_lifetime() {
        let now = Utc::now();
        let s = fresh_session(now);
        let idle = std::time::Duration::from_secs(600);
        assert!(s.is_alive(now + chrono::Duration::minutes(9), idle));
        assert!(!s.is_alive(now + chrono::Duration::minutes(11), idle));
        assert!(!s.is_alive(
            now + chrono::Duration::hours(2),
            std::time::Duration::from_secs(86_400)
        ));
    }

    #[test]
    fn activity_refreshes_a_session_at_a_twentieth_of_the_idle_timeout_and_at_least_every_minute() {
        let now = Utc::now();
        let s = fresh_session(now);
        let short = std::time::Duration::from_secs(20);
        assert!(!s.needs_touch(now + chrono::Duration::milliseconds(999), short));
        assert!(s.needs_touch(now + chrono::Duration::seconds(1), short));
        let day = std::time::Duration::from_secs(86_400);
        assert!(!s.needs_touch(now + chrono::Duration::seconds(59), day));
        assert!(s.needs_touch(now + chrono::Duration::seconds(60), day));
    }
}
