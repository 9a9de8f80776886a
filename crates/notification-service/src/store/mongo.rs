//! `notification_db`: `events` and `orders` (the projection), `processed_facts` and `mails`
//! (`_id` = fact id and recipient). Recording a fact is one multi-document transaction (MongoDB
//! as a replica set); claiming a mail is one conditional `update_one`.

use api_types::notifications::NotificationKind;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use contracts::catalog::Price;
use contracts::orders::{CancelReason, OrderCustomer, OrderLine};
use mongodb::bson::{self, doc};
use mongodb::{ClientSession, Collection};
use platform::StoreError;
use platform::mongo::{
    ProcessedFacts, Schema, ServiceDb, TxResult, decode_all, find_sorted, from_bson_time, index,
    parse_uuid, to_bson_time,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::NotificationStore;
use crate::domain::{
    EventRecord, FactRecord, Letter, Mail, MailKey, MailState, OrderRecord, OrderStatus, Recorded,
};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventDoc {
    #[serde(rename = "_id")]
    id: String,
    version: i64,
    title: String,
    date_time: bson::DateTime,
    duration: i64,
    venue_name: String,
    venue_city: String,
    cancelled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderDoc {
    #[serde(rename = "_id")]
    id: String,
    user_id: String,
    event_id: String,
    booking_reference: String,
    #[serde(default)]
    customer: Option<OrderCustomer>,
    lines: Vec<OrderLine>,
    total: Price,
    expires_at: bson::DateTime,
    status: String,
    #[serde(default)]
    cancel_reason: Option<String>,
    paid: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MailDoc {
    #[serde(rename = "_id")]
    id: String,
    fact_id: String,
    recipient: String,
    user_id: String,
    kind: String,
    /// The letter's JSON as a document: ids, times and amounts as the strings and numbers of its
    /// JSON form, whatever the BSON encoder's defaults.
    letter: bson::Document,
    state: String,
    #[serde(default)]
    claimed_at: Option<bson::DateTime>,
    #[serde(default)]
    sent_at: Option<bson::DateTime>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    error: Option<String>,
    created_at: bson::DateTime,
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::corrupt(format!("notification_db: {what}"))
}

/// A UUID has no space and an address none either, so the pair is unambiguous.
fn mail_id(key: &MailKey) -> String {
    format!("{} {}", key.fact_id, key.recipient)
}

impl EventDoc {
    fn from_record(e: &EventRecord) -> Self {
        Self {
            id: e.id.to_string(),
            version: e.version as i64,
            title: e.title.clone(),
            date_time: to_bson_time(e.date_time),
            duration: i64::from(e.duration),
            venue_name: e.venue_name.clone(),
            venue_city: e.venue_city.clone(),
            cancelled: e.cancelled,
        }
    }

    fn into_record(self) -> Result<EventRecord, StoreError> {
        Ok(EventRecord {
            id: parse_uuid(&self.id)?,
            version: self.version as u64,
            title: self.title,
            date_time: from_bson_time(self.date_time),
            duration: u32::try_from(self.duration).map_err(corrupt)?,
            venue_name: self.venue_name,
            venue_city: self.venue_city,
            cancelled: self.cancelled,
        })
    }
}

impl OrderDoc {
    fn from_record(o: &OrderRecord) -> Self {
        Self {
            id: o.id.to_string(),
            user_id: o.user_id.to_string(),
            event_id: o.event_id.to_string(),
            booking_reference: o.booking_reference.clone(),
            customer: o.customer.clone(),
            lines: o.lines.clone(),
            total: o.total.clone(),
            expires_at: to_bson_time(o.expires_at),
            status: o.status.as_str().to_string(),
            cancel_reason: o.cancel_reason.map(|r| r.as_str().to_string()),
            paid: o.paid,
        }
    }

    fn into_record(self) -> Result<OrderRecord, StoreError> {
        Ok(OrderRecord {
            id: parse_uuid(&self.id)?,
            user_id: parse_uuid(&self.user_id)?,
            event_id: parse_uuid(&self.event_id)?,
            booking_reference: self.booking_reference,
            customer: self.customer,
            lines: self.lines,
            total: self.total,
            expires_at: from_bson_time(self.expires_at),
            status: OrderStatus::parse(&self.status)
                .ok_or_else(|| corrupt(format!("order status {:?}", self.status)))?,
            cancel_reason: self
                .cancel_reason
                .map(|r| CancelReason::parse(&r).ok_or_else(|| corrupt(format!("reason {r:?}"))))
                .transpose()?,
            paid: self.paid,
        })
    }
}

fn letter_to_bson(letter: &Letter) -> Result<bson::Document, StoreError> {
    let json = serde_json::to_value(letter).map_err(StoreError::backend)?;
    bson::to_document(&json).map_err(StoreError::backend)
}

fn letter_from_bson(doc: bson::Document) -> Result<Letter, StoreError> {
    let json: serde_json::Value =
        bson::from_document(doc).map_err(|e| corrupt(format!("letter: {e}")))?;
    serde_json::from_value(json).map_err(|e| corrupt(format!("letter: {e}")))
}

impl MailDoc {
    fn from_mail(m: &Mail) -> Result<Self, StoreError> {
        Ok(Self {
            id: mail_id(&m.key),
            fact_id: m.key.fact_id.clone(),
            recipient: m.key.recipient.clone(),
            user_id: m.user_id.to_string(),
            kind: m.kind.as_str().to_string(),
            letter: letter_to_bson(&m.letter)?,
            state: m.state.name().to_string(),
            claimed_at: None,
            sent_at: None,
            subject: None,
            error: None,
            created_at: to_bson_time(m.created_at),
        })
    }

    fn into_mail(self) -> Result<Mail, StoreError> {
        let state = match self.state.as_str() {
            "pending" => MailState::Pending,
            "sending" => MailState::Sending {
                claimed_at: from_bson_time(self.claimed_at.ok_or_else(|| corrupt("claimedAt"))?),
            },
            "sent" => MailState::Sent {
                at: from_bson_time(self.sent_at.ok_or_else(|| corrupt("sentAt"))?),
                subject: self.subject.unwrap_or_default(),
            },
            "failed" => MailState::Failed {
                reason: self.error.unwrap_or_default(),
            },
            other => return Err(corrupt(format!("mail state {other:?}"))),
        };
        Ok(Mail {
            key: MailKey {
                fact_id: self.fact_id,
                recipient: self.recipient,
            },
            user_id: parse_uuid(&self.user_id)?,
            kind: NotificationKind::parse(&self.kind)
                .ok_or_else(|| corrupt(format!("mail kind {:?}", self.kind)))?,
            letter: letter_from_bson(self.letter)?,
            state,
            created_at: from_bson_time(self.created_at),
        })
    }
}

pub struct MongoStore {
    db: ServiceDb,
    events: Collection<EventDoc>,
    orders: Collection<OrderDoc>,
    processed: ProcessedFacts,
    mails: Collection<MailDoc>,
}

/// The indexes behind the queries on orders and mails.
fn schema() -> Schema {
    Schema {
        indexes: vec![
            (
                "orders",
                vec![
                    index(doc! {"eventId": 1, "paid": 1}, "paid_by_event"),
                    index(doc! {"status": 1, "expiresAt": 1}, "pending_by_expiry"),
                ],
            ),
            (
                "mails",
                vec![
                    index(doc! {"factId": 1}, "by_fact"),
                    index(doc! {"state": 1, "createdAt": 1}, "unsent"),
                    index(doc! {"userId": 1, "state": 1, "sentAt": -1}, "sent_to"),
                ],
            ),
        ],
        ..Schema::default()
    }
}

impl MongoStore {
    pub async fn connect(uri: &str, database: &str) -> Result<Self, StoreError> {
        let db = ServiceDb::open(uri, database, schema()).await?;
        Ok(Self {
            events: db.collection("events"),
            orders: db.collection("orders"),
            processed: ProcessedFacts::new(&db, "processed_facts"),
            mails: db.collection("mails"),
            db,
        })
    }

    /// Stores `e` unless the stored version is the same or newer.
    async fn upsert_event_in(&self, session: &mut ClientSession, e: &EventRecord) -> TxResult<()> {
        let current = self
            .events
            .find_one(doc! {"_id": e.id.to_string()})
            .session(&mut *session)
            .await?;
        if current.is_some_and(|c| c.version >= e.version as i64) {
            return Ok(());
        }
        self.events
            .replace_one(doc! {"_id": e.id.to_string()}, EventDoc::from_record(e))
            .upsert(true)
            .session(&mut *session)
            .await?;
        Ok(())
    }

    async fn record_in(
        &self,
        session: &mut ClientSession,
        fact: &FactRecord,
    ) -> TxResult<Recorded> {
        if !self
            .processed
            .first_time(&mut *session, &fact.fact_id, &fact.subject, fact.at)
            .await?
        {
            return Ok(Recorded::Duplicate);
        }
        if let Some(e) = &fact.event {
            self.upsert_event_in(&mut *session, e).await?;
        }
        if let Some(o) = &fact.order {
            self.orders
                .replace_one(doc! {"_id": o.id.to_string()}, OrderDoc::from_record(o))
                .upsert(true)
                .session(&mut *session)
                .await?;
        }
        for m in &fact.mails {
            // `$setOnInsert`: a mail recorded before keeps its state, and no duplicate key error
            // aborts the transaction.
            let mut doc =
                bson::to_document(&MailDoc::from_mail(m)?).map_err(StoreError::backend)?;
            // The filter's `_id` is the inserted document's.
            doc.remove("_id");
            self.mails
                .update_one(doc! {"_id": mail_id(&m.key)}, doc! {"$setOnInsert": doc})
                .upsert(true)
                .session(&mut *session)
                .await?;
        }
        Ok(Recorded::Applied)
    }

    /// Moves one mail from `from` (a filter on its state) to the `$set` given.
    async fn transition(
        &self,
        key: &MailKey,
        from: bson::Document,
        set: bson::Document,
    ) -> Result<bool, StoreError> {
        let mut filter = doc! {"_id": mail_id(key)};
        filter.extend(from);
        let result = self.mails.update_one(filter, doc! {"$set": set}).await?;
        Ok(result.modified_count == 1)
    }
}

#[async_trait]
impl NotificationStore for MongoStore {
    async fn event(&self, id: Uuid) -> Result<Option<EventRecord>, StoreError> {
        self.events
            .find_one(doc! {"_id": id.to_string()})
            .await?
            .map(EventDoc::into_record)
            .transpose()
    }

    async fn order(&self, id: Uuid) -> Result<Option<OrderRecord>, StoreError> {
        self.orders
            .find_one(doc! {"_id": id.to_string()})
            .await?
            .map(OrderDoc::into_record)
            .transpose()
    }

    async fn paid_orders_of_event(&self, event_id: Uuid) -> Result<Vec<OrderRecord>, StoreError> {
        find_sorted(
            &self.orders,
            doc! {"eventId": event_id.to_string(), "paid": true},
            doc! {"_id": 1},
            OrderDoc::into_record,
        )
        .await
    }

    async fn holds_ending(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<OrderRecord>, StoreError> {
        find_sorted(
            &self.orders,
            doc! {
                "status": OrderStatus::Pending.as_str(),
                "expiresAt": {"$gt": to_bson_time(from), "$lte": to_bson_time(until)},
            },
            doc! {"expiresAt": 1, "_id": 1},
            OrderDoc::into_record,
        )
        .await
    }

    async fn record(&self, fact: &FactRecord) -> Result<Recorded, StoreError> {
        self.db
            .tx()
            .run_with(self, fact, |store, session, fact| {
                Box::pin(store.record_in(session, fact))
            })
            .await
    }

    async fn unsent(
        &self,
        fact_id: Option<&str>,
        recorded_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Mail>, StoreError> {
        let mut filter = doc! {"state": {"$in": ["pending", "sending"]}};
        match fact_id {
            Some(id) => filter.insert("factId", id),
            None => filter.insert("createdAt", doc! {"$lte": to_bson_time(recorded_before)}),
        };
        let found = self
            .mails
            .find(filter)
            .sort(doc! {"createdAt": 1, "_id": 1})
            .limit(i64::from(limit))
            .await?;
        decode_all(found, MailDoc::into_mail).await
    }

    async fn claim(
        &self,
        key: &MailKey,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.transition(
            key,
            doc! {"$or": [
                {"state": "pending"},
                {"state": "sending", "claimedAt": {"$lt": to_bson_time(stale_before)}},
            ]},
            doc! {"state": "sending", "claimedAt": to_bson_time(now)},
        )
        .await
    }

    async fn mark_sent(
        &self,
        key: &MailKey,
        subject: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.transition(
            key,
            doc! {"state": "sending"},
            doc! {"state": "sent", "sentAt": to_bson_time(at), "subject": subject, "claimedAt": null},
        )
        .await
        .map(|_| ())
    }

    async fn release(&self, key: &MailKey) -> Result<(), StoreError> {
        self.transition(
            key,
            doc! {"state": "sending"},
            doc! {"state": "pending", "claimedAt": null},
        )
        .await
        .map(|_| ())
    }

    async fn mark_failed(&self, key: &MailKey, reason: &str) -> Result<(), StoreError> {
        self.transition(
            key,
            doc! {"state": "sending"},
            doc! {"state": "failed", "error": reason, "claimedAt": null},
        )
        .await
        .map(|_| ())
    }

    async fn sent_to(&self, user_id: Uuid, limit: u32) -> Result<Vec<Mail>, StoreError> {
        let found = self
            .mails
            .find(doc! {"userId": user_id.to_string(), "state": "sent"})
            .sort(doc! {"sentAt": -1, "createdAt": -1, "_id": -1})
            .limit(i64::from(limit))
            .await?;
        decode_all(found, MailDoc::into_mail).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn price() -> Price {
        Price {
            minor_units: 5100,
            decimal: "51.00".into(),
            currency: "EUR".into(),
        }
    }

    #[test]
    fn a_letter_reads_back_from_its_document_as_it_was() {
        let letter = Letter {
            name: "Ada Lovelace".into(),
            first_name: "Ada".into(),
            booking_references: vec!["TK-1".into()],
            order_id: Some(Uuid::now_v7()),
            lines: vec![OrderLine {
                ticket_type: "General".into(),
                quantity: 2,
                unit_price: price(),
                subtotal: price(),
            }],
            total: Some(price()),
            expires_at: Some(at("2030-01-01T12:15:00.123Z")),
            cancel_reason: Some(CancelReason::BuyerRefund),
            ..Letter::default()
        };
        let doc = letter_to_bson(&letter).unwrap();
        assert_eq!(doc.get_str("firstName").unwrap(), "Ada");
        assert_eq!(letter_from_bson(doc).unwrap(), letter);
    }

    #[test]
    fn an_order_reads_back_from_its_document_as_it_was() {
        let order = OrderRecord {
            id: Uuid::now_v7(),
            user_id: Uuid::now_v7(),
            event_id: Uuid::now_v7(),
            booking_reference: "TK-1".into(),
            customer: Some(OrderCustomer {
                first_name: "Ada".into(),
                last_name: "Lovelace".into(),
                email: "ada@example.com".into(),
            }),
            lines: vec![OrderLine {
                ticket_type: "General".into(),
                quantity: 2,
                unit_price: price(),
                subtotal: price(),
            }],
            total: price(),
            expires_at: at("2030-01-01T12:15:00.123Z"),
            status: OrderStatus::Cancelled,
            cancel_reason: Some(CancelReason::EventCancelled),
            paid: true,
        };
        let doc = bson::to_document(&OrderDoc::from_record(&order)).unwrap();
        let back: OrderDoc = bson::from_document(doc).unwrap();
        assert_eq!(back.into_record().unwrap(), order);
    }
}
