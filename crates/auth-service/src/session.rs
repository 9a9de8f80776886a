//! Session tokens and the cookie that carries them. The cookie holds 256 random bits; the store
//! only ever sees their SHA-256, so a leaked database cannot be replayed as cookies.

use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
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
    /// Alive when neither the absolute lifetime nor the idle timeout has passed.
    pub fn is_alive(&self, now: DateTime<Utc>, idle: std::time::Duration) -> bool {
        now < self.expires_at
            && now - self.last_seen_at
                < chrono::Duration::from_std(idle).unwrap_or(chrono::Duration::MAX)
    }
}

/// At most this stale may `last_seen_at` get before a request refreshes it: one write a minute
/// per active session rather than one per request.
const TOUCH_AT_MOST_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

impl Session {
    /// Whether a request at `now` should refresh `last_seen_at`: once it is older than a
    /// twentieth of the idle timeout (at most a minute), so an active session never comes within
    /// 95% of the timeout, however short the timeout is.
    pub fn needs_touch(&self, now: DateTime<Utc>, idle: std::time::Duration) -> bool {
        let every = (idle / 20).min(TOUCH_AT_MOST_EVERY);
        let every = chrono::Duration::from_std(every).unwrap_or(chrono::Duration::MAX);
        now - self.last_seen_at >= every
    }
}

/// A fresh token (64 hex chars) from the OS-seeded CSPRNG.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

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

/// The value of cookie `name` in a `Cookie` request header.
pub fn token_from_header<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name && !v.is_empty()).then_some(v)
    })
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

    #[test]
    fn the_session_cookie_is_found_among_others() {
        assert_eq!(token_from_header("a=1; sid=abc; b=2", "sid"), Some("abc"));
        assert_eq!(token_from_header("sid=", "sid"), None);
        assert_eq!(token_from_header("xsid=1", "sid"), None);
    }
}
