//! What every MongoDB adapter shares: the one transaction runner (and its retry policy), the
//! conversions between domain values and BSON, and named index definitions.

mod attempts;
mod convert;
mod indexes;
mod transaction;

pub use attempts::TxAttempts;
pub use convert::{decode_all, from_bson_time, money, parse_uuid, to_bson_time};
pub use indexes::{index, unique_index};
pub use transaction::{Transactions, TxError, TxResult};

use mongodb::{Client, Database};

use crate::store::StoreError;

/// A service's database on the MongoDB at `uri`. The driver connects lazily and reconnects by
/// itself; a bad URI fails here.
pub async fn connect(uri: &str, database: &str) -> Result<Database, StoreError> {
    Ok(Client::with_uri_str(uri).await?.database(database))
}
