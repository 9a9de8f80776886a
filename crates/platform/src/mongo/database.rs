//! A service's MongoDB database as its store opens it: connected, with the schema the store
//! needs in place, and the one transaction runner over it.

use std::sync::Arc;

use mongodb::bson::Document;
use mongodb::bson::doc;
use mongodb::error::{Error as MongoError, ErrorKind};
use mongodb::{Client, ClientSession, Collection, Database, IndexModel};

use super::Transactions;
use crate::outbox::{self, MongoOutbox, OutboxMessage, OutboxStore};
use crate::store::StoreError;

/// The server's code for "namespace exists": another replica created the collection first.
const NAMESPACE_EXISTS: i32 = 48;

/// What a store needs in its database before it serves, created at start-up if missing. Every
/// step is idempotent, so replicas starting together may both run it.
#[derive(Default)]
pub struct Schema {
    /// Each collection with the indexes it needs.
    pub indexes: Vec<(&'static str, Vec<IndexModel>)>,
    /// Collections written inside transactions, created up front: implicit creation in a
    /// transaction needs MongoDB 4.4 and conflicts when concurrent transactions race to it.
    pub created_up_front: &'static [&'static str],
    /// Whether the store keeps an outbox in this database (its index is then created too).
    pub outbox: bool,
}

impl Schema {
    async fn ensure(self, db: &Database) -> Result<(), StoreError> {
        for (collection, indexes) in self.indexes {
            db.collection::<Document>(collection)
                .create_indexes(indexes)
                .await?;
        }
        if self.outbox {
            MongoOutbox::new(db).ensure_indexes().await?;
        }
        if self.created_up_front.is_empty() {
            return Ok(());
        }
        let existing = db.list_collection_names().await?;
        for &name in self.created_up_front {
            if existing.iter().any(|n| n == name) {
                continue;
            }
            match db.create_collection(name).await {
                Ok(()) => {}
                Err(e) if namespace_exists(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

fn namespace_exists(e: &MongoError) -> bool {
    matches!(e.kind.as_ref(), ErrorKind::Command(c) if c.code == NAMESPACE_EXISTS)
}

/// A service's database on the MongoDB at `uri`. The driver connects lazily and reconnects by
/// itself; a bad URI fails here.
async fn connect(uri: &str, database: &str) -> Result<Database, StoreError> {
    Ok(Client::with_uri_str(uri).await?.database(database))
}

/// A service's database with its transaction runner. Cheap to clone.
#[derive(Clone)]
pub struct ServiceDb {
    db: Database,
    tx: Transactions,
}

impl ServiceDb {
    /// Connects to `database` on the MongoDB at `uri` and makes sure `schema` is in place.
    pub async fn open(uri: &str, database: &str, schema: Schema) -> Result<Self, StoreError> {
        let db = connect(uri, database).await?;
        schema.ensure(&db).await?;
        Ok(Self {
            tx: Transactions::new(&db),
            db,
        })
    }

    pub fn collection<T: Send + Sync>(&self, name: &str) -> Collection<T> {
        self.db.collection(name)
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The runner every multi-document transaction of the store goes through.
    pub fn tx(&self) -> &Transactions {
        &self.tx
    }

    /// Whether the server answers: the readiness check.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.run_command(doc! {"ping": 1}).await?;
        Ok(())
    }

    /// The outbox the relay publishes from.
    pub fn outbox(&self) -> Arc<dyn OutboxStore> {
        Arc::new(MongoOutbox::new(&self.db))
    }

    /// Stores `facts` in the outbox inside the transaction running on `session`, next to the
    /// state change they describe.
    pub async fn insert_facts(
        &self,
        session: &mut ClientSession,
        facts: &[OutboxMessage],
    ) -> Result<(), MongoError> {
        for fact in facts {
            outbox::insert_mongo(&self.db, &mut *session, fact).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command_error(code: i32) -> MongoError {
        let failed: mongodb::error::CommandError =
            mongodb::bson::from_document(doc! {"code": code, "errmsg": "refused"}).unwrap();
        ErrorKind::Command(failed).into()
    }

    #[test]
    fn only_the_namespace_exists_code_means_a_collection_was_created_meanwhile() {
        assert!(namespace_exists(&command_error(NAMESPACE_EXISTS)));
        assert!(!namespace_exists(&command_error(13)));
        assert!(!namespace_exists(&MongoError::custom("not a server error")));
    }
}
