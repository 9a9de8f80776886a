//! One contract for every auth store adapter: SQLite always, MongoDB when `TEST_MONGODB_URI` is set.

use std::sync::Arc;

use auth_service::domain::User;
use auth_service::session::Session;
use auth_service::store::{AuthStore, MongoStore, SqliteStore};
use chrono::{Duration, Utc};
use platform::{Role, StoreError};
use uuid::Uuid;

fn user(email: &str) -> User {
    // Millisecond precision: what both stores keep.
    let now = chrono::DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap();
    User {
        id: Uuid::new_v4(),
        email: email.into(),
        first_name: "Grace".into(),
        last_name: "Hopper".into(),
        role: Role::User,
        is_active: true,
        last_login: None,
        created_at: now,
        updated_at: now,
    }
}

fn session(user_id: Uuid, hash: &str, age: Duration, lifetime: Duration) -> Session {
    let now = chrono::DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap();
    Session {
        token_hash: hash.into(),
        user_id,
        created_at: now - age,
        last_seen_at: now - age,
        expires_at: now - age + lifetime,
    }
}

/// The session stored under `hash` and its user, if there is one.
async fn session_of(store: &Arc<dyn AuthStore>, hash: &str) -> Option<(Session, User)> {
    store.session_with_user(hash).await.unwrap()
}

async fn users_round_trip_and_emails_are_unique(store: Arc<dyn AuthStore>) {
    let u = user("grace@example.com");
    store.insert_user(&u, "hash-1").await.unwrap();
    let (found, hash) = store
        .user_by_email("grace@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, u);
    assert_eq!(hash, "hash-1");
    assert_eq!(store.user_by_id(u.id).await.unwrap().unwrap(), u);
    assert!(
        store
            .user_by_email("nobody@example.com")
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.user_by_id(Uuid::new_v4()).await.unwrap().is_none());

    let again = user("grace@example.com");
    assert!(matches!(
        store.insert_user(&again, "hash-2").await,
        Err(StoreError::Duplicate(_))
    ));
}

async fn roles_activity_and_logins_are_recorded(store: Arc<dyn AuthStore>) {
    let u = user("flags@example.com");
    store.insert_user(&u, "h").await.unwrap();
    let at = u.created_at + Duration::seconds(5);
    store.set_role(u.id, Role::Admin, at).await.unwrap();
    store.set_active(u.id, false, at).await.unwrap();
    store.record_login(u.id, at).await.unwrap();
    let got = store.user_by_id(u.id).await.unwrap().unwrap();
    assert_eq!(got.role, Role::Admin);
    assert!(!got.is_active);
    assert_eq!(got.last_login, Some(at));
    assert_eq!(got.updated_at, at);
}

async fn sessions_are_found_touched_and_deleted(store: Arc<dyn AuthStore>) {
    let u = user("sess@example.com");
    store.insert_user(&u, "h").await.unwrap();
    let s = session(u.id, "token-hash-a", Duration::zero(), Duration::hours(1));
    store.insert_session(&s).await.unwrap();
    let (got, owner) = session_of(&store, "token-hash-a").await.unwrap();
    assert_eq!(got, s);
    assert_eq!(owner.id, u.id);

    let later = s.last_seen_at + Duration::minutes(3);
    store.touch_session("token-hash-a", later).await.unwrap();
    let (got, _) = session_of(&store, "token-hash-a").await.unwrap();
    assert_eq!(got.last_seen_at, later);

    store.delete_session("token-hash-a").await.unwrap();
    assert!(session_of(&store, "token-hash-a").await.is_none());
    store.delete_session("token-hash-a").await.unwrap();
}

async fn purging_removes_expired_and_idle_sessions_only(store: Arc<dyn AuthStore>) {
    let u = user("purge@example.com");
    store.insert_user(&u, "h").await.unwrap();
    // (token, age, lifetime): "idle" has not been seen for two hours, "expired" outlived its hour.
    for (hash, age, lifetime) in [
        ("live", Duration::zero(), Duration::hours(1)),
        ("expired", Duration::hours(2), Duration::hours(1)),
        ("idle", Duration::hours(2), Duration::days(7)),
    ] {
        let s = session(u.id, hash, age, lifetime);
        store.insert_session(&s).await.unwrap();
    }
    let now = Utc::now();
    let purged = store
        .purge_sessions(now, now - Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(purged, 2);
    assert!(session_of(&store, "live").await.is_some());
    assert!(session_of(&store, "expired").await.is_none());
    assert!(session_of(&store, "idle").await.is_none());
    store.ping().await.unwrap();
}

platform::store_contract! {
    store: dyn AuthStore,
    sqlite: SqliteStore::in_memory(),
    mongodb: MongoStore::connect,
    cases: [
        users_round_trip_and_emails_are_unique,
        roles_activity_and_logins_are_recorded,
        sessions_are_found_touched_and_deleted,
        purging_removes_expired_and_idle_sessions_only,
    ],
}

#[tokio::test]
async fn the_sqlite_store_keeps_data_in_its_file_across_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/auth.db");
    let u = user("file@example.com");
    SqliteStore::open(&path)
        .unwrap()
        .insert_user(&u, "h")
        .await
        .unwrap();
    let reopened = SqliteStore::open(&path).unwrap();
    assert_eq!(reopened.user_by_id(u.id).await.unwrap().unwrap(), u);
}
