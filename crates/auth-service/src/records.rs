//! Publishing sessions and accounts to the `SESSIONS` key-value bucket, from which every other
//! service checks a session cookie without asking this service (see `platform::auth::local`).
//!
//! The store stays the truth; the bucket follows it. Every write reads the key's revision in the
//! bucket first, then the store, then writes only if the revision is unchanged, so a refresh
//! racing a logout can never bring a deleted session back: either the logout's delete comes
//! later and wins, or the refresh sees it, or the refresh's write is refused for a stale
//! revision. A deleted session key stays deleted (its token is never issued again).
//!
//! Without NATS the service works as before: the other services then ask `/api/auth/verify`.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_nats::jetstream::kv;
use platform::StoreError;
use platform::auth::VerifiedUser;
use platform::auth::record::{self, SessionRecord, UserRecord};
use uuid::Uuid;

use crate::store::AuthStore;

/// How long a request waits for a deletion or an account change to reach the bucket before
/// leaving it to a background retry.
const WAIT_FOR_BUCKET: Duration = Duration::from_secs(1);
/// The longest pause between retries of a write the bucket refused or did not answer.
const RETRY_AT_MOST_EVERY: Duration = Duration::from_secs(5);
/// Writes that keep losing revision races give up after this many tries; the next use of the
/// session or the next account change writes again.
const RACES: usize = 3;

/// The bucket writer; cheap to clone. Disabled (every call a no-op) without a NATS URL.
#[derive(Clone)]
pub struct SessionRecords {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    bucket: OnceLock<kv::Store>,
    store: Arc<dyn AuthStore>,
    idle: Duration,
}

impl SessionRecords {
    /// Writes nothing: the other services ask `/api/auth/verify` about every session.
    pub fn disabled() -> Self {
        Self { inner: None }
    }

    /// Connects to NATS at `nats_url` in the background (the service starts without waiting for
    /// it) and opens the bucket; until then, records are not written.
    pub fn start(nats_url: &str, store: Arc<dyn AuthStore>, idle: Duration) -> Self {
        let inner = Arc::new(Inner {
            bucket: OnceLock::new(),
            store,
            idle,
        });
        tokio::spawn(open_bucket(nats_url.to_string(), inner.clone()));
        Self { inner: Some(inner) }
    }

    /// Whether the bucket is open (records are being written).
    pub fn is_open(&self) -> bool {
        self.inner
            .as_ref()
            .is_some_and(|i| i.bucket.get().is_some())
    }

    /// Brings the records of a session and its account up to date with the store, in the
    /// background (a session the bucket lacks is only slower to check, never wrongly answered).
    pub fn publish(&self, token_hash: &str, user_id: Uuid) {
        let Some(inner) = self.inner.clone() else {
            return;
        };
        let token_hash = token_hash.to_string();
        tokio::spawn(async move {
            let Some(bucket) = inner.bucket.get() else {
                return;
            };
            // The account first: a session whose account is not there yet is asked about.
            let done = async {
                write_user(bucket, &inner, user_id).await?;
                write_session(bucket, &inner, &token_hash).await
            };
            if let Err(e) = done.await {
                tracing::warn!(error = %e, "session record not written; checks ask this service");
            }
        });
    }

    /// Deletes a session's record: waits up to a second, then keeps retrying in the background.
    pub async fn remove(&self, token_hash: &str) {
        let key = record::session_key(token_hash);
        self.until_written(move |bucket| {
            let key = key.clone();
            async move { bucket.delete(&key).await.map_err(anyhow::Error::from) }
        })
        .await;
    }

    /// Rewrites an account's record after a change of role or status: waits up to a second,
    /// then keeps retrying in the background.
    pub async fn account_changed(&self, user_id: Uuid) {
        let Some(inner) = self.inner.clone() else {
            return;
        };
        self.until_written(move |bucket| {
            let inner = inner.clone();
            async move { write_user(&bucket, &inner, user_id).await }
        })
        .await;
    }

    /// Runs `write` until it succeeds: in the request for up to [`WAIT_FOR_BUCKET`], then in a
    /// background task. A change of the truth must reach the copies, or they would keep
    /// trusting what is no longer true.
    async fn until_written<W, F>(&self, write: W)
    where
        W: Fn(kv::Store) -> F + Send + Sync + 'static,
        F: Future<Output = anyhow::Result<()>> + Send,
    {
        let Some(inner) = self.inner.clone() else {
            return;
        };
        match tokio::time::timeout(WAIT_FOR_BUCKET, attempt(&inner, &write)).await {
            Ok(Ok(())) => return,
            Ok(Err(e)) => tracing::warn!(error = %e, "sessions bucket not updated; retrying"),
            Err(_) => tracing::warn!("sessions bucket slow to answer; retrying"),
        }
        tokio::spawn(async move {
            let mut pause = Duration::from_millis(100);
            loop {
                tokio::time::sleep(pause).await;
                match tokio::time::timeout(WAIT_FOR_BUCKET, attempt(&inner, &write)).await {
                    Ok(Ok(())) => return,
                    _ => pause = (pause * 2).min(RETRY_AT_MOST_EVERY),
                }
            }
        });
    }
}

async fn attempt<W, F>(inner: &Inner, write: &W) -> anyhow::Result<()>
where
    W: Fn(kv::Store) -> F,
    F: Future<Output = anyhow::Result<()>>,
{
    let bucket = inner.bucket.get().cloned();
    let bucket = bucket.ok_or_else(|| anyhow::anyhow!("the sessions bucket is not open yet"))?;
    write(bucket).await
}

async fn open_bucket(nats_url: String, inner: Arc<Inner>) {
    let Ok(client) = platform::nats::connect(&nats_url, "auth-service", Duration::MAX).await else {
        return;
    };
    let js = platform::nats::jetstream(client);
    let mut pause = Duration::from_millis(100);
    loop {
        match platform::nats::ensure_sessions_bucket(&js).await {
            Ok(bucket) => {
                let _ = inner.bucket.set(bucket);
                tracing::info!("writing session records to the sessions bucket");
                return;
            }
            Err(e) => tracing::warn!(error = %e, "sessions bucket not ready, retrying"),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(RETRY_AT_MOST_EVERY);
    }
}

/// The session's record as the store has it now; `None` when it is gone or dead.
async fn fresh_session(inner: &Inner, token_hash: &str) -> Result<Option<Vec<u8>>, StoreError> {
    let now = platform::time::now();
    Ok(inner
        .store
        .session_with_user(token_hash)
        .await?
        .filter(|(session, user)| session.is_alive(now, inner.idle) && user.is_active)
        .map(|(session, _)| {
            json(&SessionRecord {
                user_id: session.user_id,
                last_seen_at: session.last_seen_at,
                expires_at: session.expires_at,
                idle_timeout_secs: inner.idle.as_secs(),
            })
        }))
}

async fn fresh_user(inner: &Inner, user_id: Uuid) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(inner.store.user_by_id(user_id).await?.map(|user| {
        json(&UserRecord {
            user: VerifiedUser::from(&user),
            is_active: user.is_active,
        })
    }))
}

fn json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records serialise")
}

async fn write_session(bucket: &kv::Store, inner: &Inner, token_hash: &str) -> anyhow::Result<()> {
    let key = record::session_key(token_hash);
    write_fresh(bucket, &key, Revive::Never, || {
        fresh_session(inner, token_hash)
    })
    .await
}

async fn write_user(bucket: &kv::Store, inner: &Inner, user_id: Uuid) -> anyhow::Result<()> {
    let key = record::user_key(user_id);
    write_fresh(bucket, &key, Revive::Allowed, || fresh_user(inner, user_id)).await
}

/// Whether a deleted key may be written again.
#[derive(Clone, Copy, PartialEq)]
enum Revive {
    Never,
    Allowed,
}

/// Writes `key` as `fresh` reads it from the store, guarded by the revision read before it (see
/// the module's comment); deletes it when the store no longer has it. An unchanged value is
/// written again too: a service asking about a session its copy lacks (a copy that replayed the
/// bucket while the server was still recovering it) gets it delivered that way.
async fn write_fresh<F, Fut>(
    bucket: &kv::Store,
    key: &str,
    revive: Revive,
    fresh: F,
) -> anyhow::Result<()>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Option<Vec<u8>>, StoreError>>,
{
    for _ in 0..RACES {
        let entry = bucket.entry(key).await?;
        let present = entry.as_ref().filter(|e| e.operation == kv::Operation::Put);
        if entry.is_some() && present.is_none() && revive == Revive::Never {
            return Ok(());
        }
        let Some(value) = fresh().await? else {
            if present.is_some() {
                bucket.delete(key).await?;
            }
            return Ok(());
        };
        let revision = entry.as_ref().map_or(0, |e| e.revision);
        match bucket.update(key, value.into(), revision).await {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
