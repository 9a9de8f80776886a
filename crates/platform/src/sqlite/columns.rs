//! Domain values to and from SQLite columns, the same way in every service: times as Unix
//! milliseconds (`INTEGER`: compact, and ordered for range queries), UUIDs as `TEXT`, money as
//! integer minor units beside a currency code, nested values (lines, a customer) as JSON `TEXT`.

use chrono::{DateTime, Utc};
use rusqlite::Row;
use rusqlite::types::Type;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::money::{Currency, Money};

pub fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The error of a column whose value does not decode.
pub fn bad_column(col: usize, what: impl Into<String>) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, Type::Text, what.into().into())
}

/// Typed reads of a row's columns.
pub trait RowExt {
    fn uuid(&self, col: usize) -> rusqlite::Result<Uuid>;
    fn opt_uuid(&self, col: usize) -> rusqlite::Result<Option<Uuid>>;
    fn time(&self, col: usize) -> rusqlite::Result<DateTime<Utc>>;
    fn opt_time(&self, col: usize) -> rusqlite::Result<Option<DateTime<Utc>>>;
    fn currency(&self, col: usize) -> rusqlite::Result<Currency>;
    /// An amount kept as minor units in `minor_col` and its currency code in `currency_col`.
    fn money(&self, minor_col: usize, currency_col: usize) -> rusqlite::Result<Money>;
    /// A text column read with a domain type's `parse` (statuses, categories, ...).
    fn parsed<T>(&self, col: usize, parse: impl FnOnce(&str) -> Option<T>) -> rusqlite::Result<T>;
    /// A JSON text column.
    fn json<T: DeserializeOwned>(&self, col: usize) -> rusqlite::Result<T>;
}

impl RowExt for Row<'_> {
    fn uuid(&self, col: usize) -> rusqlite::Result<Uuid> {
        let s: String = self.get(col)?;
        Uuid::parse_str(&s).map_err(|e| bad_column(col, e.to_string()))
    }

    fn opt_uuid(&self, col: usize) -> rusqlite::Result<Option<Uuid>> {
        match self.get::<_, Option<String>>(col)? {
            Some(s) => Uuid::parse_str(&s)
                .map(Some)
                .map_err(|e| bad_column(col, e.to_string())),
            None => Ok(None),
        }
    }

    fn time(&self, col: usize) -> rusqlite::Result<DateTime<Utc>> {
        Ok(from_millis(self.get(col)?))
    }

    fn opt_time(&self, col: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
        Ok(self.get::<_, Option<i64>>(col)?.map(from_millis))
    }

    fn currency(&self, col: usize) -> rusqlite::Result<Currency> {
        let s: String = self.get(col)?;
        Currency::parse(&s).map_err(|e| bad_column(col, format!("currency {s:?}: {e}")))
    }

    fn money(&self, minor_col: usize, currency_col: usize) -> rusqlite::Result<Money> {
        Ok(Money::from_minor_units(
            self.get(minor_col)?,
            self.currency(currency_col)?,
        ))
    }

    fn parsed<T>(&self, col: usize, parse: impl FnOnce(&str) -> Option<T>) -> rusqlite::Result<T> {
        let s: String = self.get(col)?;
        parse(&s).ok_or_else(|| bad_column(col, format!("unknown value {s:?}")))
    }

    fn json<T: DeserializeOwned>(&self, col: usize) -> rusqlite::Result<T> {
        let text: String = self.get(col)?;
        serde_json::from_str(&text).map_err(|e| bad_column(col, e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;

    fn read<T>(sql: &str, f: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>) -> rusqlite::Result<T> {
        Connection::open_in_memory().unwrap().query_row(sql, [], f)
    }

    #[test]
    fn typed_columns_read_back_what_was_written() {
        let id = Uuid::new_v4();
        let at = from_millis(1_767_225_600_123);
        let sql = format!(
            "SELECT '{id}', NULL, {}, NULL, 'EUR', 2550, 'b', '[1,2]'",
            millis(at)
        );
        let row = read(&sql, |r| {
            Ok((
                r.uuid(0)?,
                r.opt_uuid(1)?,
                r.time(2)?,
                r.opt_time(3)?,
                r.money(5, 4)?,
                r.parsed(6, |s| (s == "b").then_some('b'))?,
                r.json::<Vec<u8>>(7)?,
            ))
        })
        .unwrap();
        assert_eq!(row.0, id);
        assert_eq!(row.1, None);
        assert_eq!(row.2, at);
        assert_eq!(row.3, None);
        assert_eq!(row.4.minor_units(), 2550);
        assert_eq!(row.4.currency().as_str(), "EUR");
        assert_eq!(row.5, 'b');
        assert_eq!(row.6, vec![1, 2]);
    }

    #[test]
    fn a_value_that_does_not_decode_names_its_column() {
        let err = read("SELECT 'x', 'nope'", |r| r.parsed(1, |_| None::<()>)).unwrap_err();
        assert!(
            matches!(err, rusqlite::Error::FromSqlConversionFailure(1, ..)),
            "{err:?}"
        );
        assert!(read("SELECT 'not-a-uuid'", |r| r.uuid(0)).is_err());
        assert!(read("SELECT 'euros'", |r| r.currency(0)).is_err());
        let err = read("SELECT '[1,'", |r| r.json::<Vec<u8>>(0)).unwrap_err();
        assert!(
            matches!(err, rusqlite::Error::FromSqlConversionFailure(0, ..)),
            "{err:?}"
        );
    }
}
