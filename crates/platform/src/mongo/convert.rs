//! Domain values to and from what MongoDB documents hold: times as BSON dates (milliseconds),
//! UUIDs as strings (readable in the shell), money as integer minor units beside a currency code;
//! and whole query results decoded at once.

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::{Cursor, bson};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::money::{Currency, Money};
use crate::store::StoreError;

pub fn to_bson_time(t: DateTime<Utc>) -> bson::DateTime {
    bson::DateTime::from_millis(t.timestamp_millis())
}

pub fn from_bson_time(t: bson::DateTime) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or_default()
}

/// A stored id; one that does not parse is corrupt data.
pub fn parse_uuid(s: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(s).map_err(|_| StoreError::corrupt(format!("bad uuid {s:?}")))
}

/// A stored amount: minor units and a currency code.
pub fn money(minor_units: i64, currency: &str) -> Result<Money, StoreError> {
    let currency = Currency::parse(currency)
        .map_err(|why| StoreError::corrupt(format!("bad currency {currency:?}: {why}")))?;
    Ok(Money::from_minor_units(minor_units, currency))
}

/// Reads every document a query found and decodes each into its domain value.
pub async fn decode_all<D, T>(
    cursor: Cursor<D>,
    decode: impl FnMut(D) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError>
where
    D: DeserializeOwned + Unpin + Send + Sync,
{
    let docs: Vec<D> = cursor.try_collect().await?;
    docs.into_iter().map(decode).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_reads_back_at_millisecond_precision() {
        let t = DateTime::from_timestamp_millis(1_767_225_600_123).unwrap();
        assert_eq!(from_bson_time(to_bson_time(t)), t);
        let finer = t + chrono::Duration::microseconds(456);
        assert_eq!(from_bson_time(to_bson_time(finer)), t);
    }

    #[test]
    fn ids_and_amounts_that_do_not_parse_are_corrupt_data() {
        let id = Uuid::new_v4();
        assert_eq!(parse_uuid(&id.to_string()).unwrap(), id);
        assert!(parse_uuid("not-a-uuid").is_err());
        assert_eq!(money(2550, "EUR").unwrap().minor_units(), 2550);
        assert!(money(2550, "euros").is_err());
    }
}
