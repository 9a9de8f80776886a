//! `/ready` tells when the store is gone.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use auth_service::domain::User;
use auth_service::session::Session;
use auth_service::store::{AuthStore, SqliteStore};
use auth_service::testing;
use chrono::{DateTime, Utc};
use platform::testing::TestClient;
use platform::{Role, StoreError};
use uuid::Uuid;

/// A store whose backend can be switched off, as when the database goes away.
struct Unplugged {
    inner: SqliteStore,
    dead: AtomicBool,
}

impl Unplugged {
    fn check(&self) -> Result<(), StoreError> {
        if self.dead.load(Ordering::SeqCst) {
            Err(StoreError::corrupt("database connection lost"))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl AuthStore for Unplugged {
    async fn insert_user(&self, user: &User, hash: &str) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_user(user, hash).await
    }
    async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>, StoreError> {
        self.check()?;
        self.inner.user_by_email(email).await
    }
    async fn user_by_id(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        self.check()?;
        self.inner.user_by_id(id).await
    }
    async fn set_role(&self, id: Uuid, role: Role, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.check()?;
        self.inner.set_role(id, role, at).await
    }
    async fn set_active(
        &self,
        id: Uuid,
        active: bool,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.set_active(id, active, at).await
    }
    async fn record_login(&self, id: Uuid, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.check()?;
        self.inner.record_login(id, at).await
    }
    async fn insert_session(&self, s: &Session) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_session(s).await
    }
    async fn session_with_user(&self, h: &str) -> Result<Option<(Session, User)>, StoreError> {
        self.check()?;
        self.inner.session_with_user(h).await
    }
    async fn touch_session(&self, h: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.check()?;
        self.inner.touch_session(h, at).await
    }
    async fn delete_session(&self, h: &str) -> Result<(), StoreError> {
        self.check()?;
        self.inner.delete_session(h).await
    }
    async fn purge_sessions(
        &self,
        now: DateTime<Utc>,
        cut: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.purge_sessions(now, cut).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.check()?;
        self.inner.ping().await
    }
}

#[tokio::test]
async fn ready_reports_a_dead_store_and_requests_fail_with_a_generic_500() {
    let store = Arc::new(Unplugged {
        inner: SqliteStore::in_memory().unwrap(),
        dead: AtomicBool::new(false),
    });
    let server = testing::spawn_with_store(testing::config(), store.clone()).await;
    let client = TestClient::new(server.url());
    assert_eq!(client.get("/ready").await.status, 200);

    store.dead.store(true, Ordering::SeqCst);
    let ready = client.get("/ready").await;
    assert_eq!(ready.status, 503);
    assert_eq!(ready.json()["checks"]["store"]["status"], "down");
    assert_eq!(
        client.get("/health").await.status,
        200,
        "alive even without its store"
    );

    let res = testing::log_in(&client, "a@example.com", "whatever1").await;
    assert_eq!(res.status, 500);
    assert_eq!(res.code(), "internal_error");
    assert!(
        !res.text.contains("database connection lost"),
        "cause leaked: {}",
        res.text
    );
}
