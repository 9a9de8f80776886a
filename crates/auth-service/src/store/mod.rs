//! The auth store port and its adapters: SQLite (default) and MongoDB (`MONGODB_URI`).

mod mongo;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use platform::config::StoreConfig;
use platform::{Role, StoreError};
use uuid::Uuid;

pub use mongo::MongoStore;
pub use sqlite::SqliteStore;

use crate::domain::User;
use crate::session::Session;

#[async_trait]
pub trait AuthStore: Send + Sync + 'static {
    /// Fails with [`StoreError::Duplicate`] when the email is taken.
    async fn insert_user(&self, user: &User, password_hash: &str) -> Result<(), StoreError>;
    /// The user and their password hash.
    async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>, StoreError>;
    async fn user_by_id(&self, id: Uuid) -> Result<Option<User>, StoreError>;
    async fn set_role(&self, id: Uuid, role: Role, at: DateTime<Utc>) -> Result<(), StoreError>;
    async fn set_active(&self, id: Uuid, active: bool, at: DateTime<Utc>)
    -> Result<(), StoreError>;
    async fn record_login(&self, id: Uuid, at: DateTime<Utc>) -> Result<(), StoreError>;

    async fn insert_session(&self, session: &Session) -> Result<(), StoreError>;
    /// The session with this token hash and its user, whatever their state.
    async fn session_with_user(
        &self,
        token_hash: &str,
    ) -> Result<Option<(Session, User)>, StoreError>;
    async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> Result<(), StoreError>;
    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;
    /// Deletes sessions past their lifetime or last seen before `idle_cutoff`; returns how many.
    async fn purge_sessions(
        &self,
        now: DateTime<Utc>,
        idle_cutoff: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    async fn ping(&self) -> Result<(), StoreError>;
}

/// Opens the store the configuration names.
pub async fn open(config: &StoreConfig) -> anyhow::Result<Arc<dyn AuthStore>> {
    Ok(match config {
        StoreConfig::Sqlite { path } => Arc::new(SqliteStore::open(path)?),
        StoreConfig::Mongo { uri, database } => Arc::new(MongoStore::connect(uri, database).await?),
    })
}
