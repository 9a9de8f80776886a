use async_trait::async_trait;
use chrono::{DateTime, Utc};
use platform::sqlite::{Changes, Migrated, RowExt, Schema, millis, row_by_id};
use platform::{Role, StoreError};
use rusqlite::{OptionalExtension, Row, params};
use uuid::Uuid;

use super::AuthStore;
use crate::domain::User;
use crate::session::Session;

const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    first_name    TEXT NOT NULL,
    last_name     TEXT NOT NULL,
    role          TEXT NOT NULL,
    is_active     INTEGER NOT NULL,
    last_login    INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions(expires_at);
CREATE INDEX sessions_by_last_seen ON sessions(last_seen_at);
"#];

const USER_COLUMNS: &str = "u.id, u.email, u.first_name, u.last_name, u.role, u.is_active, u.last_login, u.created_at, u.updated_at";

/// Reads the user from the row, starting at column `at`.
fn user_from(row: &Row<'_>, at: usize) -> rusqlite::Result<User> {
    let role: String = row.get(at + 4)?;
    Ok(User {
        id: row.uuid(at)?,
        email: row.get(at + 1)?,
        first_name: row.get(at + 2)?,
        last_name: row.get(at + 3)?,
        role: Role::parse(&role).unwrap_or(Role::User),
        is_active: row.get(at + 5)?,
        last_login: row.opt_time(at + 6)?,
        created_at: row.time(at + 7)?,
        updated_at: row.time(at + 8)?,
    })
}

/// The tables of `auth.db`.
pub enum AuthSchema {}

impl Schema for AuthSchema {
    const MIGRATIONS: &'static [&'static str] = MIGRATIONS;
}

pub type SqliteStore = Migrated<AuthSchema>;

#[async_trait]
impl AuthStore for SqliteStore {
    async fn insert_user(&self, user: &User, password_hash: &str) -> Result<(), StoreError> {
        let u = user.clone();
        let hash = password_hash.to_string();
        self.db
            .write(move |c| {
                c.execute(
                    "INSERT INTO users (id, email, password_hash, first_name, last_name, role, is_active, last_login, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    params![
                        u.id.to_string(),
                        u.email,
                        hash,
                        u.first_name,
                        u.last_name,
                        u.role.as_str(),
                        u.is_active,
                        u.last_login.map(millis),
                        millis(u.created_at),
                        millis(u.updated_at)
                    ],
                )?;
                Ok(Changes::Keep(()))
            })
            .await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>, StoreError> {
        let email = email.to_string();
        self.db
            .read(move |c| {
                Ok(c.query_row(
                    &format!(
                        "SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = ?1"
                    ),
                    [email],
                    |r| Ok((user_from(r, 0)?, r.get(9)?)),
                )
                .optional()?)
            })
            .await
    }

    async fn user_by_id(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        self.db
            .read(move |c| {
                Ok(row_by_id(
                    c,
                    &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?1"),
                    id,
                    |r| user_from(r, 0),
                )?)
            })
            .await
    }

    async fn set_role(&self, id: Uuid, role: Role, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.db
            .write(move |c| {
                c.execute(
                    "UPDATE users SET role = ?2, updated_at = ?3 WHERE id = ?1",
                    params![id.to_string(), role.as_str(), millis(at)],
                )?;
                Ok(Changes::Keep(()))
            })
            .await
    }

    async fn set_active(
        &self,
        id: Uuid,
        active: bool,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.db
            .write(move |c| {
                c.execute(
                    "UPDATE users SET is_active = ?2, updated_at = ?3 WHERE id = ?1",
                    params![id.to_string(), active, millis(at)],
                )?;
                Ok(Changes::Keep(()))
            })
            .await
    }

    async fn record_login(&self, id: Uuid, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.db
            .write(move |c| {
                c.execute(
                    "UPDATE users SET last_login = ?2, updated_at = ?2 WHERE id = ?1",
                    params![id.to_string(), millis(at)],
                )?;
                Ok(Changes::Keep(()))
            })
            .await
    }

    async fn insert_session(&self, s: &Session) -> Result<(), StoreError> {
        let s = s.clone();
        self.db
            .write(move |c| {
                c.execute(
                    "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        s.token_hash,
                        s.user_id.to_string(),
                        millis(s.created_at),
                        millis(s.last_seen_at),
                        millis(s.expires_at)
                    ],
                )?;
                Ok(Changes::Keep(()))
            })
            .await
    }

    async fn session_with_user(
        &self,
        token_hash: &str,
    ) -> Result<Option<(Session, User)>, StoreError> {
        let token_hash = token_hash.to_string();
        self.db
            .read(move |c| {
                Ok(c.query_row(
                    &format!(
                        "SELECT {USER_COLUMNS}, s.token_hash, s.created_at, s.last_seen_at, s.expires_at
                         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1"
                    ),
                    [token_hash],
                    |r| {
                        let user = user_from(r, 0)?;
                        let session = Session {
                            token_hash: r.get(9)?,
                            user_id: user.id,
                            created_at: r.time(10)?,
                            last_seen_at: r.time(11)?,
                            expires_at: r.time(12)?,
                        };
                        Ok((session, user))
                    },
                )
                .optional()?)
            })
            .await
    }

    async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        let token_hash = token_hash.to_string();
        self.db
            .write(move |c| {
                c.execute(
                    "UPDATE sessions SET last_seen_at = ?2 WHERE token_hash = ?1",
                    params![token_hash, millis(at)],
                )?;
                Ok(Changes::Keep(()))
            })
            .await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let token_hash = token_hash.to_string();
        self.db
            .write(move |c| {
                c.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
                Ok(Changes::Keep(()))
            })
            .await
    }

    async fn purge_sessions(
        &self,
        now: DateTime<Utc>,
        idle_cutoff: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.db
            .write(move |c| {
                let n = c.execute(
                    "DELETE FROM sessions WHERE expires_at <= ?1 OR last_seen_at < ?2",
                    params![millis(now), millis(idle_cutoff)],
                )?;
                Ok(Changes::Keep(n as u64))
            })
            .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await
    }
}
