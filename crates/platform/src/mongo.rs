//! What every MongoDB adapter shares: the service database opened with its schema, the one
//! transaction runner (and its retry policy), the processed fact ids of consumers, sorted finds
//! and counted pages, the conversions between domain values and BSON, named indexes, and the
//! identity of stored idempotency keys.

mod attempts;
mod convert;
mod database;
mod find;
mod indexes;
mod keys;
mod processed;
mod transaction;

pub use attempts::TxAttempts;
pub use convert::{decode_all, from_bson_time, money, parse_uuid, to_bson_time};
pub use database::{Schema, ServiceDb};
pub use find::{PageOf, find_newest_first, find_page, find_sorted, newest_first};
pub use indexes::{index, ttl_index, unique_index, unique_where};
pub use keys::KeyOwner;
pub use processed::ProcessedFacts;
pub use transaction::{Transactions, TxError, TxResult};
