//! Index definitions, each with a name an operator recognises in `db.collection.getIndexes()`.
//! Names are part of a deployed database: an index created again under another name is refused.

use std::time::Duration;

use mongodb::IndexModel;
use mongodb::bson::Document;
use mongodb::options::IndexOptions;

pub fn index(keys: Document, name: &str) -> IndexModel {
    with_options(keys, IndexOptions::builder().name(name.to_string()).build())
}

/// The store's guard against duplicates: a second document with the same keys is refused with
/// code 11000, which the adapters report as `StoreError::Duplicate`.
pub fn unique_index(keys: Document, name: &str) -> IndexModel {
    with_options(
        keys,
        IndexOptions::builder()
            .name(name.to_string())
            .unique(true)
            .build(),
    )
}

/// A unique index over the documents `filter` matches only (e.g. those holding a field while
/// they are open): two such documents with the same keys are refused.
pub fn unique_where(keys: Document, name: &str, filter: Document) -> IndexModel {
    with_options(
        keys,
        IndexOptions::builder()
            .name(name.to_string())
            .unique(true)
            .partial_filter_expression(filter)
            .build(),
    )
}

/// The server deletes a document once the time in `keys`' field is `after` in the past.
pub fn ttl_index(keys: Document, name: &str, after: Duration) -> IndexModel {
    with_options(
        keys,
        IndexOptions::builder()
            .name(name.to_string())
            .expire_after(after)
            .build(),
    )
}

fn with_options(keys: Document, options: IndexOptions) -> IndexModel {
    IndexModel::builder().keys(keys).options(options).build()
}

#[cfg(test)]
mod tests {
    use mongodb::bson::doc;

    use super::*;

    #[test]
    fn a_unique_index_is_named_and_unique_and_a_plain_one_only_named() {
        let unique = unique_index(doc! {"email": 1}, "email_unique");
        let options = unique.options.unwrap();
        assert_eq!(options.name.as_deref(), Some("email_unique"));
        assert_eq!(options.unique, Some(true));
        let plain = index(doc! {"status": 1, "dateTime": 1}, "catalog");
        assert_eq!(plain.keys, doc! {"status": 1, "dateTime": 1});
        assert_eq!(plain.options.unwrap().unique, None);
    }

    #[test]
    fn a_partial_index_is_unique_over_its_filter_and_a_ttl_one_expires() {
        let open = unique_where(
            doc! {"open": 1},
            "one_open",
            doc! {"open": {"$exists": true}},
        );
        let options = open.options.unwrap();
        assert_eq!(options.unique, Some(true));
        assert_eq!(
            options.partial_filter_expression,
            Some(doc! {"open": {"$exists": true}})
        );
        let ttl = ttl_index(doc! {"expiresAt": 1}, "expires_ttl", Duration::ZERO);
        let options = ttl.options.unwrap();
        assert_eq!(options.name.as_deref(), Some("expires_ttl"));
        assert_eq!(options.expire_after, Some(Duration::ZERO));
    }
}
