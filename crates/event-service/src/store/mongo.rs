//! `event_db.events` (and `event_db.outbox`). A write and its outbox message share one
//! multi-document transaction, which needs MongoDB running as a replica set (one node is enough).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::Collection;
use mongodb::bson::{self, Document, doc};
use platform::StoreError;
use platform::mongo::{
    PageOf, Schema, ServiceDb, TxError, find_newest_first, find_page, from_bson_time, index,
    parse_uuid, to_bson_time,
};
use platform::outbox::{self, OutboxMessage, OutboxStore};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{CatalogFilter, CatalogPage, EventStore};
use crate::domain::{
    Category, Event, Organizer, QueueSettings, RefundPolicy, SaleStart, Status, TicketType, Venue,
};
use crate::staff::{Roster, StaffEntry};
use platform::money::{Currency, Money};

/// The seed's event document; prices are exact integers (`priceMinor`, cents) and `cityKey`,
/// `searchText` and `endsAt` are derived fields the catalogue query filters on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventDoc {
    #[serde(rename = "_id")]
    id: String,
    title: String,
    description: String,
    category: String,
    venue: VenueDoc,
    date_time: bson::DateTime,
    duration: i64,
    ticket_types: Vec<TicketTypeDoc>,
    currency: String,
    organizer: OrganizerDoc,
    status: String,
    created_by: String,
    is_active: bool,
    version: i64,
    created_at: bson::DateTime,
    updated_at: bson::DateTime,
    ends_at: bson::DateTime,
    city_key: String,
    search_text: String,
    /// Absent from documents written before refund policies existed: refunds not offered.
    #[serde(default)]
    refund_policy: RefundPolicyDoc,
    /// Absent from documents written before on-sale moments existed: on sale at once, no queue.
    #[serde(default)]
    on_sale_at: Option<bson::DateTime>,
    #[serde(default)]
    queue: Option<QueueDoc>,
    /// Absent from documents written before the switch existed: on.
    #[serde(default = "api_types::waitlist::on_by_default")]
    waitlist_enabled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueueDoc {
    enabled: bool,
    admit_per_minute: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct RefundPolicyDoc {
    allowed: bool,
    until_hours_before: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VenueDoc {
    name: String,
    address: String,
    city: String,
    capacity: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TicketTypeDoc {
    name: String,
    price_minor: i64,
    quantity: i64,
    description: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrganizerDoc {
    name: String,
    email: String,
    #[serde(default)]
    phone: Option<String>,
}

fn corrupt(id: &str, what: impl std::fmt::Display) -> StoreError {
    StoreError::corrupt(format!("event {id} in event_db: {what}"))
}

fn small(id: &str, field: &str, v: i64) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| corrupt(id, format!("{field} {v} out of range")))
}

impl EventDoc {
    fn from_event(e: &Event) -> Self {
        Self {
            id: e.id.to_string(),
            title: e.title.clone(),
            description: e.description.clone(),
            category: e.category.as_str().to_string(),
            venue: VenueDoc {
                name: e.venue.name.clone(),
                address: e.venue.address.clone(),
                city: e.venue.city.clone(),
                capacity: i64::from(e.venue.capacity),
            },
            date_time: to_bson_time(e.date_time),
            duration: i64::from(e.duration),
            ticket_types: e
                .ticket_types
                .iter()
                .map(|t| TicketTypeDoc {
                    name: t.name.clone(),
                    price_minor: t.price.minor_units(),
                    quantity: i64::from(t.quantity),
                    description: t.description.clone(),
                })
                .collect(),
            currency: e.currency.as_str().to_string(),
            organizer: OrganizerDoc {
                name: e.organizer.name.clone(),
                email: e.organizer.email.clone(),
                phone: e.organizer.phone.clone(),
            },
            status: e.status.as_str().to_string(),
            created_by: e.created_by.to_string(),
            is_active: e.is_active,
            version: e.version as i64,
            created_at: to_bson_time(e.created_at),
            updated_at: to_bson_time(e.updated_at),
            ends_at: to_bson_time(e.ends_at()),
            city_key: e.city_key(),
            search_text: e.search_text(),
            refund_policy: RefundPolicyDoc {
                allowed: e.refund_policy.allowed,
                until_hours_before: i64::from(e.refund_policy.until_hours_before),
            },
            on_sale_at: e.sale.on_sale_at.map(to_bson_time),
            queue: Some(QueueDoc {
                enabled: e.sale.queue.enabled,
                admit_per_minute: i64::from(e.sale.queue.admit_per_minute),
            }),
            waitlist_enabled: e.waitlist_enabled,
        }
    }

    fn into_event(self) -> Result<Event, StoreError> {
        let id = self.id;
        let currency = Currency::parse(&self.currency).map_err(|m| corrupt(&id, m))?;
        let ticket_types = self
            .ticket_types
            .into_iter()
            .map(|t| {
                Ok(TicketType {
                    price: Money::from_minor_units(t.price_minor, currency),
                    quantity: small(&id, "quantity", t.quantity)?,
                    name: t.name,
                    description: t.description,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Event {
            title: self.title,
            description: self.description,
            category: Category::parse(&self.category)
                .ok_or_else(|| corrupt(&id, format!("category {:?}", self.category)))?,
            venue: Venue {
                capacity: small(&id, "capacity", self.venue.capacity)?,
                name: self.venue.name,
                address: self.venue.address,
                city: self.venue.city,
            },
            date_time: from_bson_time(self.date_time),
            duration: small(&id, "duration", self.duration)?,
            ticket_types,
            currency,
            organizer: Organizer {
                name: self.organizer.name,
                email: self.organizer.email,
                phone: self.organizer.phone,
            },
            status: Status::parse(&self.status)
                .ok_or_else(|| corrupt(&id, format!("status {:?}", self.status)))?,
            refund_policy: RefundPolicy {
                allowed: self.refund_policy.allowed,
                until_hours_before: small(
                    &id,
                    "refundPolicy.untilHoursBefore",
                    self.refund_policy.until_hours_before,
                )?,
            },
            sale: SaleStart {
                on_sale_at: self.on_sale_at.map(from_bson_time),
                queue: match self.queue {
                    Some(q) => QueueSettings {
                        enabled: q.enabled,
                        admit_per_minute: small(&id, "queue.admitPerMinute", q.admit_per_minute)?,
                    },
                    None => QueueSettings::default(),
                },
            },
            waitlist_enabled: self.waitlist_enabled,
            created_by: parse_uuid(&self.created_by)?,
            is_active: self.is_active,
            version: u64::try_from(self.version).map_err(|e| corrupt(&id, e))?,
            created_at: from_bson_time(self.created_at),
            updated_at: from_bson_time(self.updated_at),
            id: parse_uuid(&id)?,
        })
    }
}

/// Escapes a literal for use inside a regular expression.
fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\^$.|?*+()[]{}/-".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn catalog_query(filter: &CatalogFilter, now: DateTime<Utc>) -> Document {
    let mut query = doc! {
        "status": Status::Published.as_str(),
        "isActive": true,
        "endsAt": {"$gt": to_bson_time(now)},
    };
    if let Some(category) = filter.category {
        query.insert("category", category.as_str());
    }
    if let Some(city) = &filter.city {
        query.insert("cityKey", city.as_str());
    }
    if let Some(q) = &filter.q {
        query.insert("searchText", doc! {"$regex": regex_escape(q)});
    }
    let mut range = Document::new();
    if let Some(from) = filter.from {
        range.insert("$gte", to_bson_time(from));
    }
    if let Some(to) = filter.to {
        range.insert("$lte", to_bson_time(to));
    }
    if !range.is_empty() {
        query.insert("dateTime", range);
    }
    query
}

/// An event's check-in staff (`event_staff`, `_id` = event id): the list and its version.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StaffDoc {
    #[serde(rename = "_id")]
    id: String,
    version: i64,
    members: Vec<StaffMemberDoc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StaffMemberDoc {
    email: String,
    added_at: bson::DateTime,
}

pub struct MongoStore {
    db: ServiceDb,
    events: Collection<EventDoc>,
    staff: Collection<StaffDoc>,
}

/// The indexes behind the catalogue queries, the outbox, and the staff lists (written inside
/// transactions, so created up front).
fn schema() -> Schema {
    Schema {
        indexes: vec![(
            "events",
            vec![
                index(doc! {"status": 1, "dateTime": 1, "_id": 1}, "catalog"),
                index(doc! {"category": 1, "dateTime": 1}, "by_category"),
                index(doc! {"cityKey": 1, "dateTime": 1}, "by_city"),
                index(doc! {"createdBy": 1, "createdAt": -1}, "by_creator"),
            ],
        )],
        created_up_front: &["event_staff"],
        outbox: true,
    }
}

impl MongoStore {
    /// Connects and makes sure the indexes behind the catalogue queries exist.
    pub async fn connect(uri: &str, database: &str) -> Result<Self, StoreError> {
        let db = ServiceDb::open(uri, database, schema()).await?;
        Ok(Self {
            events: db.collection("events"),
            staff: db.collection("event_staff"),
            db,
        })
    }
}

/// A replace found another version than the one it expected: nothing is written.
struct VersionChanged;

impl MongoStore {
    /// Replaces the document `filter` finds (the version that was read) in the collection
    /// `which` names with `doc` and stores `fact`, in one transaction; `false` when the filter
    /// found nothing and nothing was written.
    async fn replace_with_fact<T>(
        &self,
        which: fn(&Self) -> &Collection<T>,
        filter: Document,
        doc: T,
        fact: &OutboxMessage,
    ) -> Result<bool, StoreError>
    where
        T: Serialize + Clone + Send + Sync + 'static,
    {
        let replaced = self
            .db
            .tx()
            .run_or_stop(self, |store, session| {
                let (filter, doc, fact) = (filter.clone(), doc.clone(), fact.clone());
                Box::pin(async move {
                    let result = which(store)
                        .replace_one(filter, doc)
                        .session(&mut *session)
                        .await?;
                    if result.matched_count != 1 {
                        return Err(TxError::Stop(VersionChanged));
                    }
                    outbox::insert_mongo(store.db.database(), session, &fact).await?;
                    Ok(())
                })
            })
            .await?;
        Ok(replaced.is_ok())
    }
}

#[async_trait]
impl EventStore for MongoStore {
    async fn insert(&self, event: &Event, fact: Option<&OutboxMessage>) -> Result<(), StoreError> {
        let doc = EventDoc::from_event(event);
        match fact {
            None => {
                self.events.insert_one(doc).await?;
            }
            Some(fact) => {
                self.db
                    .tx()
                    .run(self, |store, session| {
                        let (doc, fact) = (doc.clone(), fact.clone());
                        Box::pin(async move {
                            store.events.insert_one(doc).session(&mut *session).await?;
                            outbox::insert_mongo(store.db.database(), session, &fact).await?;
                            Ok(())
                        })
                    })
                    .await?;
            }
        }
        Ok(())
    }

    async fn get(&self, id: Uuid) -> Result<Option<Event>, StoreError> {
        match self.events.find_one(doc! {"_id": id.to_string()}).await? {
            Some(d) => Ok(Some(d.into_event()?)),
            None => Ok(None),
        }
    }

    async fn replace(
        &self,
        event: &Event,
        expected_version: u64,
        fact: Option<&OutboxMessage>,
    ) -> Result<bool, StoreError> {
        let doc = EventDoc::from_event(event);
        let filter = doc! {"_id": event.id.to_string(), "version": expected_version as i64};
        match fact {
            None => {
                let result = self.events.replace_one(filter, doc).await?;
                Ok(result.matched_count == 1)
            }
            Some(fact) => {
                self.replace_with_fact(|s| &s.events, filter, doc, fact)
                    .await
            }
        }
    }

    async fn catalog(
        &self,
        filter: &CatalogFilter,
        now: DateTime<Utc>,
    ) -> Result<CatalogPage, StoreError> {
        let page = PageOf {
            sort: doc! {"dateTime": 1, "_id": 1},
            offset: filter.offset(),
            limit: filter.limit,
        };
        let query = catalog_query(filter, now);
        let (events, total) = find_page(&self.events, query, page, EventDoc::into_event).await?;
        Ok(CatalogPage { events, total })
    }

    async fn created_by(&self, user: Uuid) -> Result<Vec<Event>, StoreError> {
        find_newest_first(
            &self.events,
            doc! {"createdBy": user.to_string()},
            EventDoc::into_event,
        )
        .await
    }

    async fn count(&self) -> Result<u64, StoreError> {
        Ok(self.events.count_documents(doc! {}).await?)
    }

    async fn staff(&self, event_id: Uuid) -> Result<Roster, StoreError> {
        let Some(d) = self
            .staff
            .find_one(doc! {"_id": event_id.to_string()})
            .await?
        else {
            return Ok(Roster::default());
        };
        Ok(Roster {
            version: u64::try_from(d.version)
                .map_err(|_| StoreError::corrupt(format!("staff version {}", d.version)))?,
            members: d
                .members
                .into_iter()
                .map(|m| StaffEntry {
                    email: m.email,
                    added_at: from_bson_time(m.added_at),
                })
                .collect(),
        })
    }

    async fn save_staff(
        &self,
        event_id: Uuid,
        roster: &Roster,
        expected_version: u64,
        fact: &OutboxMessage,
    ) -> Result<bool, StoreError> {
        let doc = StaffDoc {
            id: event_id.to_string(),
            version: roster.version as i64,
            members: roster
                .members
                .iter()
                .map(|m| StaffMemberDoc {
                    email: m.email.clone(),
                    added_at: to_bson_time(m.added_at),
                })
                .collect(),
        };
        // Every list after the first replaces the version that was read.
        if expected_version != 0 {
            let filter = doc! {"_id": &doc.id, "version": expected_version as i64};
            return self
                .replace_with_fact(|s| &s.staff, filter, doc, fact)
                .await;
        }
        // The first list is an insert: a concurrent first list collides on `_id`.
        let saved = self
            .db
            .tx()
            .run_or_stop(self, |store, session| {
                let (doc, fact) = (doc.clone(), fact.clone());
                Box::pin(async move {
                    match store.staff.insert_one(doc).session(&mut *session).await {
                        Ok(_) => {}
                        Err(e) if platform::store::is_duplicate_key(&e) => {
                            return Err(TxError::Stop(VersionChanged));
                        }
                        Err(e) => return Err(e.into()),
                    }
                    outbox::insert_mongo(store.db.database(), session, &fact).await?;
                    Ok(())
                })
            })
            .await?;
        Ok(saved.is_ok())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await
    }

    fn outbox(&self) -> Arc<dyn OutboxStore> {
        self.db.outbox()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refund_policy_round_trips_and_an_old_document_reads_as_refunds_not_offered() {
        let mut event = crate::domain::tests::event(Status::Published, chrono::Duration::days(3));
        event.refund_policy = RefundPolicy {
            allowed: true,
            until_hours_before: 72,
        };
        let mut written = bson::to_document(&EventDoc::from_event(&event)).expect("a document");
        assert_eq!(
            written.get_document("refundPolicy").unwrap(),
            &doc! {"allowed": true, "untilHoursBefore": 72_i64}
        );
        let read: EventDoc = bson::from_document(written.clone()).expect("it reads");
        assert_eq!(
            read.into_event().unwrap().refund_policy,
            event.refund_policy
        );

        written.remove("refundPolicy");
        let old: EventDoc = bson::from_document(written).expect("an old document reads");
        assert_eq!(
            old.into_event().unwrap().refund_policy,
            RefundPolicy::default()
        );
    }

    #[test]
    fn regex_metacharacters_in_a_search_are_literal() {
        assert_eq!(regex_escape("c++ (live)"), "c\\+\\+ \\(live\\)");
        assert_eq!(regex_escape("rock"), "rock");
    }

    #[test]
    fn the_catalog_query_combines_every_filter() {
        let filter = CatalogFilter {
            category: Some(Category::Music),
            city: Some("paris".into()),
            q: Some("jazz".into()),
            from: Some(Utc::now()),
            to: Some(Utc::now()),
            page: 1,
            limit: 20,
        };
        let q = catalog_query(&filter, Utc::now());
        for key in [
            "status",
            "isActive",
            "endsAt",
            "category",
            "cityKey",
            "searchText",
            "dateTime",
        ] {
            assert!(q.contains_key(key), "{key} missing from {q}");
        }
        assert_eq!(q.get_document("dateTime").unwrap().len(), 2);
    }
}
