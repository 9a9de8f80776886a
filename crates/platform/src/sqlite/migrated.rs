//! A service's embedded store: one database migrated to the service's schema. Each service names
//! its schema and implements its store port for `Migrated<ItsSchema>`, so opening a file or an
//! in-memory database is written once.

use std::marker::PhantomData;
use std::path::Path;

use super::Sqlite;
use crate::store::StoreError;

/// The tables of a service's database, as a list of migrations: `MIGRATIONS[i]` moves the schema
/// from version `i` to `i + 1`.
pub trait Schema: 'static {
    const MIGRATIONS: &'static [&'static str];
}

/// A database migrated to schema `S`.
pub struct Migrated<S> {
    pub db: Sqlite,
    schema: PhantomData<fn() -> S>,
}

impl<S: Schema> Migrated<S> {
    /// Opens the file (creating it and its directory) and applies the migrations it lacks.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Ok(Self::from(Sqlite::open(path, S::MIGRATIONS)?))
    }

    /// A fresh database that lives as long as the store (tests, the in-process system).
    pub fn in_memory() -> Result<Self, StoreError> {
        Ok(Self::from(Sqlite::open_in_memory(S::MIGRATIONS)?))
    }
}

impl<S> From<Sqlite> for Migrated<S> {
    fn from(db: Sqlite) -> Self {
        Self {
            db,
            schema: PhantomData,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    enum Notes {}

    impl Schema for Notes {
        const MIGRATIONS: &'static [&'static str] = &[
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL);",
            "ALTER TABLE notes ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;",
        ];
    }

    #[tokio::test]
    async fn a_file_is_migrated_once_and_keeps_its_rows_across_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/notes.db");
        let store = Migrated::<Notes>::open(&path).unwrap();
        store
            .db
            .call(|c| Ok(c.execute("INSERT INTO notes (text, pinned) VALUES ('a', 1)", [])?))
            .await
            .unwrap();
        drop(store);
        let reopened = Migrated::<Notes>::open(&path).unwrap();
        let pinned: i64 = reopened
            .db
            .call(|c| Ok(c.query_row("SELECT pinned FROM notes", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(pinned, 1);
        assert!(Migrated::<Notes>::in_memory().is_ok());
    }
}
