//! The local copy of the `SESSIONS` bucket: a KV watch keeps every session and account record in
//! memory, so a session check is a hash and two map look-ups instead of a call to the auth
//! service.
//!
//! The copy is only trusted while it is known to be current: from the moment the watch has
//! caught up with the bucket until the NATS connection drops or the watch fails. Then it is
//! emptied, every check falls back to the auth service, and a new watch replays the bucket once
//! the connection is back. A logout (a deleted record) or an account change (a rewritten record)
//! reaches every copy as soon as the broker delivers it, in milliseconds.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

use async_nats::connection::State;
use async_nats::jetstream::{self, kv};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use uuid::Uuid;

use super::record::{self, Key, LocalVerdict, SessionRecord, UserRecord};

/// How often the connection state is looked at while the watch is idle, and how soon after a
/// failure a new watch is tried.
const CHECK_EVERY: Duration = Duration::from_millis(100);
/// How often dead sessions and accounts without a live session are dropped from the copy (the
/// bucket forgets them by age, which a watch does not see).
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// A handle on the copy; cheap to clone. The watch stops when the last handle is dropped.
#[derive(Clone)]
pub struct LocalSessions {
    inner: Arc<Inner>,
}

struct Inner {
    nats: async_nats::Client,
    cookie_name: String,
    copy: RwLock<Copy>,
    /// Sessions whose refresh is on its way to the auth service.
    touching: Mutex<HashSet<String>>,
}

#[derive(Default)]
struct Copy {
    /// Caught up with the bucket and following it.
    current: bool,
    sessions: HashMap<String, SessionRecord>,
    users: HashMap<Uuid, UserRecord>,
}

impl Copy {
    fn apply(&mut self, key: &str, operation: kv::Operation, value: &[u8]) {
        let value = matches!(operation, kv::Operation::Put).then_some(value);
        match Key::parse(key) {
            Some(Key::Session(hash)) => replace(&mut self.sessions, hash, value),
            Some(Key::User(id)) => replace(&mut self.users, id, value),
            None => tracing::warn!(key, "unknown key in the sessions bucket ignored"),
        }
    }

    fn prune(&mut self, now: DateTime<Utc>) {
        self.sessions.retain(|_, s| s.is_alive(now));
        let in_use: HashSet<Uuid> = self.sessions.values().map(|s| s.user_id).collect();
        self.users.retain(|id, _| in_use.contains(id));
    }
}

/// Puts the record a value holds under `key`, or removes it (deleted, or unreadable: a record
/// that cannot be read must not be trusted in its old form either).
fn replace<K, V>(map: &mut HashMap<K, V>, key: K, value: Option<&[u8]>)
where
    K: std::hash::Hash + Eq,
    V: serde::de::DeserializeOwned,
{
    let record = value.map(serde_json::from_slice::<V>);
    match record {
        Some(Ok(record)) => {
            map.insert(key, record);
        }
        Some(Err(e)) => {
            tracing::warn!(error = %e, "unreadable record in the sessions bucket ignored");
            map.remove(&key);
        }
        None => {
            map.remove(&key);
        }
    }
}

impl LocalSessions {
    /// Starts following the bucket over `nats`; sessions travel in cookie `cookie_name`.
    pub fn follow(nats: async_nats::Client, cookie_name: &str) -> Self {
        let inner = Arc::new(Inner {
            nats: nats.clone(),
            cookie_name: cookie_name.to_string(),
            copy: RwLock::default(),
            touching: Mutex::default(),
        });
        tokio::spawn(follow(Arc::downgrade(&inner), crate::nats::jetstream(nats)));
        Self { inner }
    }

    /// The verdict on the session in a `Cookie` header, and the hash of its token.
    pub fn check(&self, cookie_header: &str, now: DateTime<Utc>) -> (LocalVerdict, Option<String>) {
        if self.inner.nats.connection_state() != State::Connected {
            return (LocalVerdict::Unknown, None);
        }
        let copy = self.inner.copy.read().expect("session copy lock");
        if !copy.current {
            return (LocalVerdict::Unknown, None);
        }
        // The auth service answers 401 to a request without the cookie; so does the copy.
        let Some(token) = record::token_from_header(cookie_header, &self.inner.cookie_name) else {
            return (LocalVerdict::Invalid, None);
        };
        let hash = record::hash_token(token);
        let session = copy.sessions.get(&hash);
        let user = session.and_then(|s| copy.users.get(&s.user_id));
        (record::judge(session, user, now), Some(hash))
    }

    /// Whether the caller should tell the auth service that session `hash` is in use: true for
    /// the first caller until [`LocalSessions::touched`].
    pub fn begin_touch(&self, hash: &str) -> bool {
        let mut touching = self.inner.touching.lock().expect("touch lock");
        touching.insert(hash.to_string())
    }

    pub fn touched(&self, hash: &str) {
        self.inner.touching.lock().expect("touch lock").remove(hash);
    }

    /// Whether the copy is current (for tests and the readiness of the fast path).
    pub fn is_current(&self) -> bool {
        self.inner.nats.connection_state() == State::Connected
            && self.inner.copy.read().expect("session copy lock").current
    }
}

impl Inner {
    /// Empties the copy and stops trusting it.
    fn forget(&self) {
        *self.copy.write().expect("session copy lock") = Copy::default();
    }
}

/// Follows the bucket for as long as a handle lives, starting over after every failure.
async fn follow(inner: Weak<Inner>, js: jetstream::Context) {
    loop {
        if let Err(e) = follow_once(&inner, &js).await {
            tracing::debug!(error = %e, "session copy not current; checks ask the auth service");
        }
        let Some(alive) = inner.upgrade() else { return };
        alive.forget();
        drop(alive);
        tokio::time::sleep(CHECK_EVERY).await;
    }
}

/// One watch from a replay of the bucket until the connection drops, the watch ends or the
/// last handle is gone (`Ok`).
async fn follow_once(inner: &Weak<Inner>, js: &jetstream::Context) -> anyhow::Result<()> {
    let connected = |inner: &Weak<Inner>| {
        inner
            .upgrade()
            .map(|i| i.nats.connection_state() == State::Connected)
    };
    match connected(inner) {
        None => return Ok(()),
        Some(false) => anyhow::bail!("NATS is not connected"),
        Some(true) => {}
    }
    let store = crate::nats::ensure_sessions_bucket(js).await?;
    let empty = store.status().await?.values() == 0;
    let mut watch = store.watch_with_history(">").await?;
    if empty {
        // Nothing to replay: the copy is current as it is.
        let Some(i) = inner.upgrade() else {
            return Ok(());
        };
        i.copy.write().expect("session copy lock").current = true;
    }
    let mut check = tokio::time::interval(CHECK_EVERY);
    let mut prune = tokio::time::interval(PRUNE_EVERY);
    loop {
        tokio::select! {
            entry = watch.next() => {
                let entry = match entry {
                    Some(entry) => entry?,
                    None => anyhow::bail!("the watch of the sessions bucket ended"),
                };
                let Some(i) = inner.upgrade() else { return Ok(()) };
                let mut copy = i.copy.write().expect("session copy lock");
                copy.apply(&entry.key, entry.operation, &entry.value);
                if entry.seen_current {
                    copy.current = true;
                }
            }
            _ = check.tick() => match connected(inner) {
                None => return Ok(()),
                Some(false) => anyhow::bail!("NATS connection lost"),
                Some(true) => {}
            },
            _ = prune.tick() => {
                let Some(i) = inner.upgrade() else { return Ok(()) };
                i.copy.write().expect("session copy lock").prune(crate::time::now());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::record::fixtures;

    fn user_record(active: bool) -> Vec<u8> {
        serde_json::to_vec(&UserRecord {
            is_active: active,
            ..fixtures::ada()
        })
        .unwrap()
    }

    fn session_record(now: DateTime<Utc>) -> Vec<u8> {
        serde_json::to_vec(&fixtures::session(now)).unwrap()
    }

    #[test]
    fn a_deleted_record_leaves_the_copy_and_a_rewritten_one_replaces_it() {
        let now = Utc::now();
        let mut copy = Copy::default();
        let session = record::session_key("h");
        let user = record::user_key(Uuid::nil());
        copy.apply(&session, kv::Operation::Put, &session_record(now));
        copy.apply(&user, kv::Operation::Put, &user_record(true));
        assert!(copy.sessions.contains_key("h"));
        copy.apply(&user, kv::Operation::Put, &user_record(false));
        assert!(!copy.users[&Uuid::nil()].is_active);
        copy.apply(&session, kv::Operation::Delete, b"");
        assert!(copy.sessions.is_empty());
        copy.apply(&user, kv::Operation::Purge, b"");
        assert!(copy.users.is_empty());
    }

    #[test]
    fn an_unreadable_record_is_forgotten_rather_than_trusted() {
        let now = Utc::now();
        let mut copy = Copy::default();
        let session = record::session_key("h");
        copy.apply(&session, kv::Operation::Put, &session_record(now));
        copy.apply(&session, kv::Operation::Put, b"{not json");
        assert!(copy.sessions.is_empty());
    }

    #[test]
    fn pruning_drops_dead_sessions_and_accounts_without_a_live_one() {
        let now = Utc::now();
        let mut copy = Copy::default();
        copy.apply(
            &record::session_key("h"),
            kv::Operation::Put,
            &session_record(now),
        );
        copy.apply(
            &record::user_key(Uuid::nil()),
            kv::Operation::Put,
            &user_record(true),
        );
        copy.prune(now);
        assert_eq!((copy.sessions.len(), copy.users.len()), (1, 1));
        copy.prune(now + chrono::Duration::hours(2));
        assert_eq!((copy.sessions.len(), copy.users.len()), (0, 0));
    }
}
