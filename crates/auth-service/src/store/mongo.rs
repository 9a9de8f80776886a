use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{self, doc};
use mongodb::{Collection, IndexModel};
use platform::mongo::{
    Schema, ServiceDb, from_bson_time, parse_uuid, to_bson_time, ttl_index, unique_index,
};
use platform::{Role, StoreError};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::AuthStore;
use crate::domain::User;
use crate::session::Session;

/// `auth_db.users`; `_id` is the user's UUID as a string so it reads well in the shell.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserDoc {
    #[serde(rename = "_id")]
    id: String,
    email: String,
    /// The bcrypt hash (the seed's field name).
    password: String,
    first_name: String,
    last_name: String,
    role: String,
    is_active: bool,
    last_login: Option<bson::DateTime>,
    created_at: bson::DateTime,
    updated_at: bson::DateTime,
}

/// `auth_db.sessions`; `_id` is the SHA-256 of the token.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionDoc {
    #[serde(rename = "_id")]
    token_hash: String,
    user_id: String,
    created_at: bson::DateTime,
    last_seen_at: bson::DateTime,
    expires_at: bson::DateTime,
}

impl UserDoc {
    fn from_user(u: &User, password_hash: &str) -> Self {
        Self {
            id: u.id.to_string(),
            email: u.email.clone(),
            password: password_hash.to_string(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            role: u.role.as_str().to_string(),
            is_active: u.is_active,
            last_login: u.last_login.map(to_bson_time),
            created_at: to_bson_time(u.created_at),
            updated_at: to_bson_time(u.updated_at),
        }
    }

    fn into_user(self) -> Result<(User, String), StoreError> {
        let user = User {
            id: parse_uuid(&self.id)?,
            email: self.email,
            first_name: self.first_name,
            last_name: self.last_name,
            role: Role::parse(&self.role).unwrap_or(Role::User),
            is_active: self.is_active,
            last_login: self.last_login.map(from_bson_time),
            created_at: from_bson_time(self.created_at),
            updated_at: from_bson_time(self.updated_at),
        };
        Ok((user, self.password))
    }
}

pub struct MongoStore {
    db: ServiceDb,
    users: Collection<UserDoc>,
    sessions: Collection<SessionDoc>,
}

/// A unique email; sessions deleted by the server once expired, and found by last use.
fn schema() -> Schema {
    Schema {
        indexes: vec![
            (
                "users",
                vec![unique_index(doc! {"email": 1}, "email_unique")],
            ),
            (
                "sessions",
                vec![
                    ttl_index(doc! {"expiresAt": 1}, "expires_ttl", Duration::ZERO),
                    // Under the server's default name, as first deployed.
                    IndexModel::builder().keys(doc! {"lastSeenAt": 1}).build(),
                ],
            ),
        ],
        ..Schema::default()
    }
}

impl MongoStore {
    /// Connects and makes sure the indexes exist (unique email; TTL on session expiry).
    pub async fn connect(uri: &str, database: &str) -> Result<Self, StoreError> {
        let db = ServiceDb::open(uri, database, schema()).await?;
        Ok(Self {
            users: db.collection("users"),
            sessions: db.collection("sessions"),
            db,
        })
    }
}

#[async_trait]
impl AuthStore for MongoStore {
    async fn insert_user(&self, user: &User, password_hash: &str) -> Result<(), StoreError> {
        self.users
            .insert_one(UserDoc::from_user(user, password_hash))
            .await?;
        Ok(())
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<(User, String)>, StoreError> {
        match self.users.find_one(doc! {"email": email}).await? {
            Some(d) => Ok(Some(d.into_user()?)),
            None => Ok(None),
        }
    }

    async fn user_by_id(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        match self.users.find_one(doc! {"_id": id.to_string()}).await? {
            Some(d) => Ok(Some(d.into_user()?.0)),
            None => Ok(None),
        }
    }

    async fn set_role(&self, id: Uuid, role: Role, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.users
            .update_one(
                doc! {"_id": id.to_string()},
                doc! {"$set": {"role": role.as_str(), "updatedAt": to_bson_time(at)}},
            )
            .await?;
        Ok(())
    }

    async fn set_active(
        &self,
        id: Uuid,
        active: bool,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.users
            .update_one(
                doc! {"_id": id.to_string()},
                doc! {"$set": {"isActive": active, "updatedAt": to_bson_time(at)}},
            )
            .await?;
        Ok(())
    }

    async fn record_login(&self, id: Uuid, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.users
            .update_one(
                doc! {"_id": id.to_string()},
                doc! {"$set": {"lastLogin": to_bson_time(at), "updatedAt": to_bson_time(at)}},
            )
            .await?;
        Ok(())
    }

    async fn insert_session(&self, s: &Session) -> Result<(), StoreError> {
        self.sessions
            .insert_one(SessionDoc {
                token_hash: s.token_hash.clone(),
                user_id: s.user_id.to_string(),
                created_at: to_bson_time(s.created_at),
                last_seen_at: to_bson_time(s.last_seen_at),
                expires_at: to_bson_time(s.expires_at),
            })
            .await?;
        Ok(())
    }

    async fn session_with_user(
        &self,
        token_hash: &str,
    ) -> Result<Option<(Session, User)>, StoreError> {
        let Some(s) = self.sessions.find_one(doc! {"_id": token_hash}).await? else {
            return Ok(None);
        };
        let user_id = parse_uuid(&s.user_id)?;
        let Some(user) = self.user_by_id(user_id).await? else {
            return Ok(None);
        };
        let session = Session {
            token_hash: s.token_hash,
            user_id,
            created_at: from_bson_time(s.created_at),
            last_seen_at: from_bson_time(s.last_seen_at),
            expires_at: from_bson_time(s.expires_at),
        };
        Ok(Some((session, user)))
    }

    async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.sessions
            .update_one(
                doc! {"_id": token_hash},
                doc! {"$set": {"lastSeenAt": to_bson_time(at)}},
            )
            .await?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.sessions.delete_one(doc! {"_id": token_hash}).await?;
        Ok(())
    }

    async fn purge_sessions(
        &self,
        now: DateTime<Utc>,
        idle_cutoff: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let result = self
            .sessions
            .delete_many(doc! {"$or": [
                {"expiresAt": {"$lte": to_bson_time(now)}},
                {"lastSeenAt": {"$lt": to_bson_time(idle_cutoff)}},
            ]})
            .await?;
        Ok(result.deleted_count)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await
    }
}
