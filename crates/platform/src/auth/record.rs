//! What the auth service writes into the `SESSIONS` key-value bucket and every other service
//! reads from its local copy, and the rules both sides apply to it (pure: no clock, no I/O).
//!
//! Two kinds of keys: `session.<sha256 of the cookie>` (never the cookie itself: a copy of the
//! bucket cannot be replayed as cookies) and `user.<user id>` (who the account is and whether it
//! may sign in). An account change is then one write, however many sessions the account has.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::VerifiedUser;

/// The bucket's name (its stream is `KV_SESSIONS`, defined in `nats/buckets/`).
pub const BUCKET: &str = "SESSIONS";

/// A session as the other services need it: whose it is and when it dies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRecord {
    pub user_id: Uuid,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The auth service's idle timeout when it wrote the record.
    pub idle_timeout_secs: u64,
}

/// An account as the other services need it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRecord {
    pub user: VerifiedUser,
    pub is_active: bool,
}

impl SessionRecord {
    fn idle(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    pub fn is_alive(&self, now: DateTime<Utc>) -> bool {
        is_alive(self.expires_at, self.last_seen_at, self.idle(), now)
    }

    pub fn needs_touch(&self, now: DateTime<Utc>) -> bool {
        needs_touch(self.last_seen_at, self.idle(), now)
    }
}

/// Alive when neither the absolute lifetime nor the idle timeout has passed.
pub fn is_alive(
    expires_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    idle: Duration,
    now: DateTime<Utc>,
) -> bool {
    now < expires_at
        && now - last_seen_at < chrono::Duration::from_std(idle).unwrap_or(chrono::Duration::MAX)
}

/// At most this stale may `last_seen_at` get before a request refreshes it: one write a minute
/// per active session rather than one per request.
const TOUCH_AT_MOST_EVERY: Duration = Duration::from_secs(60);

/// Whether a request at `now` should refresh `last_seen_at`: once it is older than a twentieth
/// of the idle timeout (at most a minute), so an active session never comes within 95% of the
/// timeout, however short the timeout is.
pub fn needs_touch(last_seen_at: DateTime<Utc>, idle: Duration, now: DateTime<Utc>) -> bool {
    let every = (idle / 20).min(TOUCH_AT_MOST_EVERY);
    let every = chrono::Duration::from_std(every).unwrap_or(chrono::Duration::MAX);
    now - last_seen_at >= every
}

/// What the local copy says about a session.
#[derive(Debug, Clone, PartialEq)]
pub enum LocalVerdict {
    /// Signed in; `touch` when the auth service should hear that the session is in use.
    Valid { user: VerifiedUser, touch: bool },
    /// Expired, idle too long, or the account is disabled.
    Invalid,
    /// The copy does not know the session or its account: ask the auth service.
    Unknown,
}

/// The verdict on a session from its record and its account's record, as found locally.
pub fn judge(
    session: Option<&SessionRecord>,
    user: Option<&UserRecord>,
    now: DateTime<Utc>,
) -> LocalVerdict {
    let (Some(session), Some(user)) = (session, user) else {
        return LocalVerdict::Unknown;
    };
    if !session.is_alive(now) || !user.is_active {
        return LocalVerdict::Invalid;
    }
    LocalVerdict::Valid {
        user: user.user.clone(),
        touch: session.needs_touch(now),
    }
}

/// The SHA-256 (hex) of a session token: the only form in which a token is stored.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The value of cookie `name` in a `Cookie` request header.
pub fn token_from_header<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name && !v.is_empty()).then_some(v)
    })
}

/// The bucket key of the session whose token hashes to `token_hash`.
pub fn session_key(token_hash: &str) -> String {
    format!("session.{token_hash}")
}

/// The bucket key of an account.
pub fn user_key(user_id: Uuid) -> String {
    format!("user.{user_id}")
}

/// A bucket key, read back.
#[derive(Debug, Clone, PartialEq)]
pub enum Key {
    Session(String),
    User(Uuid),
}

impl Key {
    pub fn parse(key: &str) -> Option<Self> {
        if let Some(hash) = key.strip_prefix("session.") {
            return Some(Key::Session(hash.to_string()));
        }
        let id = key.strip_prefix("user.")?;
        Uuid::parse_str(id).ok().map(Key::User)
    }
}

/// Records for the tests of this module and of the local copy.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;
    use api_types::auth::Role;

    pub fn ada() -> UserRecord {
        UserRecord {
            user: VerifiedUser {
                id: Uuid::nil(),
                email: "ada@example.com".into(),
                first_name: "Ada".into(),
                last_name: "Lovelace".into(),
                role: Role::User,
            },
            is_active: true,
        }
    }

    /// A session seen at `now`, alive for an hour, idle timeout 10 minutes.
    pub fn session(now: DateTime<Utc>) -> SessionRecord {
        SessionRecord {
            user_id: Uuid::nil(),
            last_seen_at: now,
            expires_at: now + chrono::Duration::hours(1),
            idle_timeout_secs: 600,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{ada, session};
    use super::*;

    fn valid_for_ada(touch: bool) -> LocalVerdict {
        LocalVerdict::Valid {
            user: ada().user,
            touch,
        }
    }

    #[test]
    fn a_live_session_of_an_active_account_is_valid_without_asking_anyone() {
        let now = Utc::now();
        let verdict = judge(Some(&session(now)), Some(&ada()), now);
        assert_eq!(verdict, valid_for_ada(false));
    }

    #[test]
    fn a_session_used_after_a_twentieth_of_its_idle_timeout_asks_for_a_touch() {
        let now = Utc::now();
        let later = now + chrono::Duration::seconds(31);
        let verdict = judge(Some(&session(now)), Some(&ada()), later);
        assert_eq!(verdict, valid_for_ada(true));
    }

    #[test]
    fn an_expired_or_idle_session_or_a_disabled_account_is_invalid() {
        let now = Utc::now();
        let s = session(now);
        assert_eq!(
            judge(Some(&s), Some(&ada()), now + chrono::Duration::minutes(11)),
            LocalVerdict::Invalid
        );
        let expiring = SessionRecord {
            expires_at: now + chrono::Duration::seconds(1),
            ..s.clone()
        };
        assert_eq!(
            judge(
                Some(&expiring),
                Some(&ada()),
                now + chrono::Duration::seconds(1)
            ),
            LocalVerdict::Invalid
        );
        let disabled = UserRecord {
            is_active: false,
            ..ada()
        };
        assert_eq!(judge(Some(&s), Some(&disabled), now), LocalVerdict::Invalid);
    }

    #[test]
    fn a_session_or_account_the_copy_does_not_hold_is_unknown() {
        let now = Utc::now();
        assert_eq!(judge(None, Some(&ada()), now), LocalVerdict::Unknown);
        assert_eq!(judge(Some(&session(now)), None, now), LocalVerdict::Unknown);
    }

    #[test]
    fn keys_name_the_token_hash_or_the_account_and_read_back() {
        let hash = hash_token("token");
        assert_ne!(hash, "token");
        assert_eq!(Key::parse(&session_key(&hash)), Some(Key::Session(hash)));
        let id = Uuid::new_v4();
        assert_eq!(Key::parse(&user_key(id)), Some(Key::User(id)));
        assert_eq!(Key::parse("user.not-a-uuid"), None);
        assert_eq!(Key::parse("other"), None);
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        assert_eq!(token_from_header("a=1; sid=abc; b=2", "sid"), Some("abc"));
        assert_eq!(token_from_header("sid=", "sid"), None);
        assert_eq!(token_from_header("xsid=1", "sid"), None);
    }
}
