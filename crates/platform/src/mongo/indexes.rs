//! Index definitions, each with a name an operator recognises in `db.collection.getIndexes()`.
//! Names are part of a deployed database: an index created again under another name is refused.

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
}
