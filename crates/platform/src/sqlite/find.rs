//! The reads behind most store calls: the row with a given id, or every row a query finds, each
//! decoded, through the connection's statement cache.

use rusqlite::{Connection, OptionalExtension, Params, Row};
use uuid::Uuid;

/// The row `sql` finds for `id` (its `?1`, as the `TEXT` a UUID is kept as), decoded; `None`
/// when there is none.
pub fn row_by_id<T>(
    c: &Connection,
    sql: &str,
    id: Uuid,
    decode: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Option<T>> {
    c.prepare_cached(sql)?
        .query_row([id.to_string()], decode)
        .optional()
}

/// Every row `sql` finds with `params`, in the query's order, each decoded.
pub fn rows<T, P: Params>(
    c: &Connection,
    sql: &str,
    params: P,
    decode: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    c.prepare_cached(sql)?.query_map(params, decode)?.collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::RowExt;

    #[test]
    fn a_row_is_found_by_its_id_and_rows_come_in_the_query_order() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL)")
            .unwrap();
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
        for (n, id) in ids.iter().enumerate() {
            c.execute("INSERT INTO t VALUES (?1, ?2)", (id.to_string(), n))
                .unwrap();
        }
        let by_id = "SELECT n FROM t WHERE id = ?1";
        assert_eq!(
            row_by_id(&c, by_id, ids[1], |r| r.get::<_, i64>(0)).unwrap(),
            Some(1)
        );
        assert_eq!(
            row_by_id(&c, by_id, Uuid::new_v4(), |r| r.get::<_, i64>(0)).unwrap(),
            None
        );
        let found = rows(
            &c,
            "SELECT id FROM t WHERE n >= ?1 ORDER BY n DESC",
            [1],
            |r| r.uuid(0),
        );
        assert_eq!(found.unwrap(), vec![ids[2], ids[1]]);
    }
}
