//! The event store port and its adapters: SQLite (default) and MongoDB (`MONGODB_URI`). Every
//! write that other services must hear about carries its outbox message, stored in the same
//! transaction.

mod mongo;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use platform::StoreError;
use platform::config::StoreConfig;
use platform::outbox::{OutboxMessage, OutboxStore};
use uuid::Uuid;

pub use mongo::MongoStore;
pub use sqlite::SqliteStore;

use crate::domain::{Category, Event};
use crate::staff::Roster;

/// What the public catalogue shows: published, active events that have not ended, soonest
/// first (ties broken by id so pages never overlap).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogFilter {
    pub category: Option<Category>,
    /// Lower-cased; matches the whole city name.
    pub city: Option<String>,
    /// Lower-cased; a substring of the title or description.
    pub q: Option<String>,
    /// Starts at or after.
    pub from: Option<DateTime<Utc>>,
    /// Starts at or before.
    pub to: Option<DateTime<Utc>>,
    /// From 1.
    pub page: u32,
    pub limit: u32,
}

impl CatalogFilter {
    pub fn offset(&self) -> u64 {
        u64::from(self.page.saturating_sub(1)) * u64::from(self.limit)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CatalogPage {
    pub events: Vec<Event>,
    /// Matching events across all pages.
    pub total: u64,
}

#[async_trait]
pub trait EventStore: Send + Sync + 'static {
    /// Stores a new event (and `fact`, atomically).
    async fn insert(&self, event: &Event, fact: Option<&OutboxMessage>) -> Result<(), StoreError>;
    async fn get(&self, id: Uuid) -> Result<Option<Event>, StoreError>;
    /// Replaces the event (and stores `fact`, atomically) only if the stored version is still
    /// `expected_version`; `false` means someone else changed it first and nothing was written.
    async fn replace(
        &self,
        event: &Event,
        expected_version: u64,
        fact: Option<&OutboxMessage>,
    ) -> Result<bool, StoreError>;
    /// Events that have not ended by `now` and match `filter`, one page of them.
    async fn catalog(
        &self,
        filter: &CatalogFilter,
        now: DateTime<Utc>,
    ) -> Result<CatalogPage, StoreError>;
    /// Everything `user` created, in every status, newest first.
    async fn created_by(&self, user: Uuid) -> Result<Vec<Event>, StoreError>;
    async fn count(&self) -> Result<u64, StoreError>;
    /// The event's check-in staff; version 0 and empty before anyone was named.
    async fn staff(&self, event_id: Uuid) -> Result<Roster, StoreError>;
    /// Stores `roster` (and `fact`, atomically) only if the stored list is still at
    /// `expected_version`; `false` means someone else changed it first and nothing was written.
    async fn save_staff(
        &self,
        event_id: Uuid,
        roster: &Roster,
        expected_version: u64,
        fact: &OutboxMessage,
    ) -> Result<bool, StoreError>;
    async fn ping(&self) -> Result<(), StoreError>;
    /// The outbox written by this store, for the relay.
    fn outbox(&self) -> Arc<dyn OutboxStore>;
}

/// Opens the store the configuration names.
pub async fn open(config: &StoreConfig) -> anyhow::Result<Arc<dyn EventStore>> {
    Ok(match config {
        StoreConfig::Sqlite { path } => Arc::new(SqliteStore::open(path)?),
        StoreConfig::Mongo { uri, database } => Arc::new(MongoStore::connect(uri, database).await?),
    })
}
