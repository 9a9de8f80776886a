//! The reads behind listings: all a query finds in a given order, or one page of it with the
//! count of all it matches.

use mongodb::Collection;
use mongodb::bson::{Document, doc};
use serde::de::DeserializeOwned;

use super::decode_all;
use crate::store::StoreError;

/// The documents of `collection` that `filter` matches, in `sort` order, each decoded.
pub async fn find_sorted<D, T>(
    collection: &Collection<D>,
    filter: Document,
    sort: Document,
    decode: impl FnMut(D) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError>
where
    D: DeserializeOwned + Unpin + Send + Sync,
{
    decode_all(collection.find(filter).sort(sort).await?, decode).await
}

/// The order of the listings that show the newest first ("my orders", "my events"): by
/// `createdAt`, descending, and by `_id` among documents created in the same millisecond, so
/// that the order is total.
pub fn newest_first() -> Document {
    doc! {"createdAt": -1, "_id": -1}
}

/// The documents of `collection` that `filter` matches, [`newest_first`], each decoded.
pub async fn find_newest_first<D, T>(
    collection: &Collection<D>,
    filter: Document,
    decode: impl FnMut(D) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError>
where
    D: DeserializeOwned + Unpin + Send + Sync,
{
    find_sorted(collection, filter, newest_first(), decode).await
}

/// Where a page starts and how long it is; `sort` must order the results totally (end it on
/// `_id`) so that pages never overlap.
pub struct PageOf {
    pub sort: Document,
    pub offset: u64,
    pub limit: u32,
}

/// The documents of `collection` that `filter` matches on the page `page`, each decoded, and how
/// many it matches on all pages.
pub async fn find_page<D, T>(
    collection: &Collection<D>,
    filter: Document,
    page: PageOf,
    decode: impl FnMut(D) -> Result<T, StoreError>,
) -> Result<(Vec<T>, u64), StoreError>
where
    D: DeserializeOwned + Unpin + Send + Sync,
{
    let total = collection.count_documents(filter.clone()).await?;
    let found = collection
        .find(filter)
        .sort(page.sort)
        .skip(page.offset)
        .limit(i64::from(page.limit))
        .await?;
    Ok((decode_all(found, decode).await?, total))
}
