//! Query strings read from their raw pairs, so that every unknown or repeated parameter can be
//! named in the answer (axum's `Query` would drop unknown ones and keep one of two repeats).

use axum::extract::Query;
use axum::extract::rejection::QueryRejection;

use crate::error::FieldErrors;

/// A route's query string as raw pairs: a handler takes it as is and reads it with [`read`], so
/// that a query it cannot parse at all is refused like any other bad parameter.
pub type RawQuery = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// The pairs of `query`, or why it cannot be read at all, under the field `query` (answered as
/// `invalid_query`).
pub fn read(query: RawQuery) -> Result<Vec<(String, String)>, FieldErrors> {
    query.map(|Query(pairs)| pairs).map_err(|e| {
        let mut fields = FieldErrors::new();
        fields.insert("query".into(), vec![e.body_text()]);
        fields
    })
}

/// A query's `(name, value)` pairs, checked against the parameters a route knows.
pub struct QueryPairs<'a> {
    pairs: &'a [(String, String)],
}

impl<'a> QueryPairs<'a> {
    /// Names in `errors` every parameter not in `known` and every one given more than once.
    pub fn check(pairs: &'a [(String, String)], known: &[&str], errors: &mut FieldErrors) -> Self {
        for (i, (name, _)) in pairs.iter().enumerate() {
            let message = if !known.contains(&name.as_str()) {
                format!("Unknown parameter; use {}.", known.join(", "))
            } else if pairs[..i].iter().any(|(n, _)| n == name) {
                "Given more than once.".to_string()
            } else {
                continue;
            };
            errors.entry(name.clone()).or_default().push(message);
        }
        Self { pairs }
    }

    /// The trimmed value of `name`; an empty one counts as absent (what an untouched form field
    /// sends).
    pub fn value(&self, name: &str) -> Option<&'a str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }
}

/// Owned pairs, as a route's `Query<Vec<(String, String)>>` holds them, from borrowed ones (a
/// query written out in a test).
pub fn pairs(raw: &[(&str, &str)]) -> Vec<(String, String)> {
    raw.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_repeated_parameters_are_named_and_empty_values_are_absent() {
        let raw = pairs(&[("q", " rust "), ("page", ""), ("q", "x"), ("sort", "asc")]);
        let mut errors = FieldErrors::new();
        let query = QueryPairs::check(&raw, &["q", "page"], &mut errors);
        assert_eq!(errors["q"], ["Given more than once."]);
        assert_eq!(errors["sort"], ["Unknown parameter; use q, page."]);
        assert_eq!(errors.len(), 2);
        assert_eq!(query.value("q"), Some("rust"));
        assert_eq!(query.value("page"), None);
        assert_eq!(query.value("missing"), None);
    }
}
