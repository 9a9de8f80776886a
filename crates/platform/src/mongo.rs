//! What every MongoDB adapter shares: the one transaction runner (and its retry policy) and the
//! conversions between domain values and BSON.

mod attempts;
mod convert;
mod transaction;

pub use attempts::TxAttempts;
pub use convert::{from_bson_time, money, parse_uuid, to_bson_time};
pub use transaction::{Transactions, TxError, TxResult};
