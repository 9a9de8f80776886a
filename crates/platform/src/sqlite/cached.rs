//! `execute` and `query_row` through the connection's statement cache: a statement a store runs
//! again is not parsed and planned again (the hot paths run the same few statements per request).

use rusqlite::{Connection, Params, Row};

pub trait Cached {
    fn execute_cached<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    fn query_row_cached<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn execute_cached<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn query_row_cached<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cached_statement_runs_again_with_other_parameters() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE t (n INTEGER)").unwrap();
        for n in 1..=3 {
            assert_eq!(
                c.execute_cached("INSERT INTO t VALUES (?1)", [n]).unwrap(),
                1
            );
        }
        let sum: i64 = c
            .query_row_cached("SELECT sum(n) FROM t WHERE n >= ?1", [2], |r| r.get(0))
            .unwrap();
        assert_eq!(sum, 5);
    }
}
