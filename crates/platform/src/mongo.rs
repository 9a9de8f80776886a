//! What every MongoDB adapter shares: the one transaction runner (and its retry policy), the
//! conversions between domain values and BSON, and named index definitions.

mod attempts;
mod convert;
mod indexes;
mod transaction;

pub use attempts::TxAttempts;
pub use convert::{from_bson_time, money, parse_uuid, to_bson_time};
pub use indexes::{index, unique_index};
pub use transaction::{Transactions, TxError, TxResult};
