//! The waitlist on MongoDB: the `waitlist` collection, one document per entry (`_id` = entry
//! id). An open entry (waiting or offered) carries `open` = `<eventId>:<ticketType>:<userId>`,
//! unique by a partial index, so a buyer has one open entry per type however joins race; ending
//! the entry unsets it. Offers are made in the transaction that frees the seats: entries move
//! by updates filtered on the status they were read in, seats by the store's filtered `$inc`,
//! and two transactions offering to the same entry conflict and are retried whole.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{self, doc};
use mongodb::{ClientSession, Collection, IndexModel};
use platform::StoreError;
use platform::mongo::{
    TxError, TxResult, decode_all, find_sorted, from_bson_time, index, parse_uuid, to_bson_time,
    unique_where,
};
use platform::store::is_duplicate_key;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{IdDoc, MongoStore, OrderDoc, corrupt, count, stock_id};
use crate::lifecycle::StockChange;
use crate::store::waitlist::{JoinResult, TypeLength, WaitlistStore};
use crate::waitlist::{self, Entry, EntryCommand, EntryOutcome, EntryStatus, EntryUpdate, Line};

pub(super) const COLLECTION: &str = "waitlist";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WaitlistDoc {
    #[serde(rename = "_id")]
    id: String,
    event_id: String,
    event_title: String,
    ticket_type: String,
    user_id: String,
    email: String,
    first_name: String,
    quantity: i64,
    offer_secs: i64,
    status: EntryStatus,
    joined_at: bson::DateTime,
    #[serde(default)]
    offer_expires_at: Option<bson::DateTime>,
    #[serde(default)]
    order_id: Option<String>,
    updated_at: bson::DateTime,
    /// Set while the entry is open; see the module's notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    open: Option<String>,
}

fn open_key(event_id: Uuid, ticket_type: &str, user_id: Uuid) -> String {
    format!("{event_id}:{ticket_type}:{user_id}")
}

impl WaitlistDoc {
    fn from_entry(e: &Entry) -> Self {
        Self {
            id: e.id.to_string(),
            event_id: e.event_id.to_string(),
            event_title: e.event_title.clone(),
            ticket_type: e.ticket_type.clone(),
            user_id: e.user_id.to_string(),
            email: e.email.clone(),
            first_name: e.first_name.clone(),
            quantity: i64::from(e.quantity),
            offer_secs: i64::from(e.offer_secs),
            status: e.status,
            joined_at: to_bson_time(e.joined_at),
            offer_expires_at: e.offer_expires_at.map(to_bson_time),
            order_id: e.order_id.map(|o| o.to_string()),
            updated_at: to_bson_time(e.updated_at),
            open: e
                .status
                .is_open()
                .then(|| open_key(e.event_id, &e.ticket_type, e.user_id)),
        }
    }

    fn into_entry(self) -> Result<Entry, StoreError> {
        Ok(Entry {
            id: parse_uuid(&self.id)?,
            event_id: parse_uuid(&self.event_id)?,
            event_title: self.event_title,
            ticket_type: self.ticket_type,
            user_id: parse_uuid(&self.user_id)?,
            email: self.email,
            first_name: self.first_name,
            quantity: count("quantity", self.quantity)?,
            offer_secs: count("offerSecs", self.offer_secs)?,
            status: self.status,
            joined_at: from_bson_time(self.joined_at),
            offer_expires_at: self.offer_expires_at.map(from_bson_time),
            order_id: self.order_id.as_deref().map(parse_uuid).transpose()?,
            updated_at: from_bson_time(self.updated_at),
        })
    }
}

/// The indexes: one open entry per buyer and type, the line of a type in join order, offers by
/// expiry, a buyer's entries of an event.
pub(super) fn indexes() -> Vec<IndexModel> {
    vec![
        unique_where(
            doc! {"open": 1},
            "one_open_entry_per_buyer",
            doc! {"open": {"$exists": true}},
        ),
        index(
            doc! {"eventId": 1, "ticketType": 1, "status": 1, "joinedAt": 1, "_id": 1},
            "line",
        ),
        index(doc! {"status": 1, "offerExpiresAt": 1}, "offers_by_expiry"),
        index(doc! {"userId": 1, "eventId": 1}, "by_user"),
    ]
}

/// Why joining stops: the answer (an open entry exists, or the request does not fit), or `None`
/// when a racing join of the same buyer inserted first (its entry is read after the abort).
type JoinStop = Option<JoinResult>;

/// The waitlist's reads and writes inside a transaction.
impl MongoStore {
    fn waitlist(&self) -> Collection<WaitlistDoc> {
        self.db.collection(COLLECTION)
    }

    async fn entry_in<E>(&self, s: &mut ClientSession, id: Uuid) -> TxResult<Option<Entry>, E> {
        Ok(self
            .waitlist()
            .find_one(doc! {"_id": id.to_string()})
            .session(&mut *s)
            .await?
            .map(WaitlistDoc::into_entry)
            .transpose()?)
    }

    async fn line_in<E>(
        &self,
        s: &mut ClientSession,
        event_id: Uuid,
        ticket_type: &str,
    ) -> TxResult<Vec<Entry>, E> {
        let mut cursor = self
            .waitlist()
            .find(doc! {
                "eventId": event_id.to_string(),
                "ticketType": ticket_type,
                "status": EntryStatus::Waiting.as_str(),
            })
            .sort(doc! {"joinedAt": 1, "_id": 1})
            .session(&mut *s)
            .await?;
        let mut line = Vec::new();
        while let Some(d) = cursor.next(&mut *s).await {
            line.push(d?.into_entry()?);
        }
        Ok(line)
    }

    async fn available_in<E>(
        &self,
        s: &mut ClientSession,
        event_id: Uuid,
        ticket_type: &str,
    ) -> TxResult<Option<u32>, E> {
        Ok(self
            .inventory
            .find_one(doc! {"_id": stock_id(event_id, ticket_type)})
            .session(&mut *s)
            .await?
            .map(|d| u32::try_from(d.available.max(0)).unwrap_or(u32::MAX)))
    }

    /// Whether the event's lines take entries and get offers.
    async fn line_of_event_in<E>(
        &self,
        s: &mut ClientSession,
        event_id: Uuid,
    ) -> TxResult<Line, E> {
        let event = self
            .events
            .find_one(doc! {"_id": event_id.to_string()})
            .session(&mut *s)
            .await?;
        Ok(match event {
            Some(e) => Line::of(Some(e.status), e.waitlist_enabled),
            None => Line::of(None, false),
        })
    }

    /// Writes an entry's new state, only while it still has the status it was read in.
    async fn update_entry<E>(&self, s: &mut ClientSession, u: &EntryUpdate) -> TxResult<(), E> {
        let e = &u.entry;
        let mut update = doc! {"$set": {
            "status": e.status.as_str(),
            "offerExpiresAt": e.offer_expires_at.map(to_bson_time),
            "orderId": e.order_id.map(|o| o.to_string()),
            "updatedAt": to_bson_time(e.updated_at),
        }};
        if !e.status.is_open() {
            update.insert("$unset", doc! {"open": ""});
        }
        let result = self
            .waitlist()
            .update_one(
                doc! {"_id": e.id.to_string(), "status": u.from.as_str()},
                update,
            )
            .session(&mut *s)
            .await?;
        if result.matched_count != 1 {
            return Err(corrupt(format!(
                "waitlist entry {} changed inside a transaction",
                e.id
            ))
            .into());
        }
        Ok(())
    }

    async fn must_change_stock<E>(
        &self,
        s: &mut ClientSession,
        c: &StockChange,
    ) -> TxResult<(), E> {
        if self.change_stock(s, c).await? {
            return Ok(());
        }
        Err(corrupt(format!(
            "stock {:?} cannot take {c:?} for the waitlist",
            stock_id(c.event_id, &c.ticket_type)
        ))
        .into())
    }

    /// After `stock` was written: the seats it gave back go to the waitlists first
    /// ([`waitlist::offers`]), in the same transaction.
    pub(super) async fn offer_freed<E>(
        &self,
        s: &mut ClientSession,
        stock: &[StockChange],
    ) -> TxResult<(), E> {
        for (event_id, ticket_type) in waitlist::freed(stock) {
            let open = self.line_of_event_in(s, event_id).await?;
            if open != Line::Open {
                continue;
            }
            let Some(free) = self.available_in(s, event_id, &ticket_type).await? else {
                continue;
            };
            let line = self.line_in(s, event_id, &ticket_type).await?;
            for offer in waitlist::offers(open, free, &line, platform::time::now()) {
                self.update_entry(s, &offer.update).await?;
                self.must_change_stock(s, &offer.hold).await?;
                self.db
                    .insert_facts(s, std::slice::from_ref(&offer.fact))
                    .await?;
            }
        }
        Ok(())
    }

    async fn open_entry_in<E>(
        &self,
        s: &mut ClientSession,
        e: &Entry,
    ) -> TxResult<Option<Entry>, E> {
        Ok(self
            .waitlist()
            .find_one(doc! {"open": open_key(e.event_id, &e.ticket_type, e.user_id)})
            .session(&mut *s)
            .await?
            .map(WaitlistDoc::into_entry)
            .transpose()?)
    }

    async fn position_in<E>(&self, s: &mut ClientSession, e: &Entry) -> TxResult<Option<u32>, E> {
        if e.status != EntryStatus::Waiting {
            return Ok(None);
        }
        let line = self.line_in(s, e.event_id, &e.ticket_type).await?;
        Ok(waitlist::position(e, &line))
    }

    async fn join_in(
        &self,
        s: &mut ClientSession,
        entry: &Entry,
    ) -> TxResult<JoinResult, JoinStop> {
        if let Some(open) = self.open_entry_in(s, entry).await? {
            let position = self.position_in(s, &open).await?;
            return Err(TxError::Stop(Some(JoinResult::AlreadyIn(open, position))));
        }
        match self.line_of_event_in(s, entry.event_id).await? {
            Line::Open => {}
            Line::Off => return Err(TxError::Stop(Some(JoinResult::Off))),
            Line::NotOnSale => return Err(TxError::Stop(Some(JoinResult::NotOnSale))),
        }
        match self
            .available_in(s, entry.event_id, &entry.ticket_type)
            .await?
        {
            None => return Err(TxError::Stop(Some(JoinResult::NotOnSale))),
            Some(available) if available >= entry.quantity => {
                return Err(TxError::Stop(Some(JoinResult::NotSoldOut { available })));
            }
            Some(_) => {}
        }
        match self
            .waitlist()
            .insert_one(WaitlistDoc::from_entry(entry))
            .session(&mut *s)
            .await
        {
            Ok(_) => {}
            Err(e) if is_duplicate_key(&e) => return Err(TxError::Stop(None)),
            Err(e) => return Err(e.into()),
        }
        let position = self.position_in(s, entry).await?.unwrap_or(1);
        Ok(JoinResult::Joined(entry.clone(), position))
    }

    async fn settle_in(
        &self,
        s: &mut ClientSession,
        entry_id: Uuid,
        command: &EntryCommand,
        traceparent: Option<&str>,
    ) -> TxResult<EntryOutcome> {
        let entry = self.entry_in(s, entry_id).await?;
        let d = waitlist::decide(entry, command, platform::time::now(), traceparent);
        if let Some(update) = &d.update {
            self.update_entry(s, update).await?;
            self.db.insert_facts(s, &d.facts).await?;
        }
        if let Some(placement) = &d.placement {
            self.orders
                .insert_one(OrderDoc::from_order(&placement.order))
                .session(&mut *s)
                .await?;
            self.db.insert_facts(s, &placement.facts).await?;
        }
        if let Some(release) = &d.release {
            self.must_change_stock(s, release).await?;
            self.offer_freed(s, std::slice::from_ref(release)).await?;
        }
        Ok(d.outcome)
    }
}

#[async_trait]
impl WaitlistStore for MongoStore {
    async fn join_waitlist(&self, entry: &Entry) -> Result<JoinResult, StoreError> {
        let joined = self
            .db
            .tx()
            .run_or_stop_with(self, entry, |store, s, entry| {
                Box::pin(store.join_in(s, entry))
            })
            .await?;
        match joined {
            Ok(result) | Err(Some(result)) => Ok(result),
            // A racing join of the same buyer won: answer with its entry.
            Err(None) => {
                let found = self
                    .waitlist()
                    .find_one(
                        doc! {"open": open_key(entry.event_id, &entry.ticket_type, entry.user_id)},
                    )
                    .await?
                    .map(WaitlistDoc::into_entry)
                    .transpose()?;
                match found {
                    Some(open) => Ok(JoinResult::AlreadyIn(open, None)),
                    None => Err(StoreError::Duplicate(entry.id.to_string())),
                }
            }
        }
    }

    async fn waitlist_entry(&self, id: Uuid) -> Result<Option<Entry>, StoreError> {
        self.waitlist()
            .find_one(doc! {"_id": id.to_string()})
            .await?
            .map(WaitlistDoc::into_entry)
            .transpose()
    }

    async fn waitlist_of_user(
        &self,
        event_id: Uuid,
        user_id: Uuid,
    ) -> Result<Vec<(Entry, Option<u32>)>, StoreError> {
        let mut entries = find_sorted(
            &self.waitlist(),
            doc! {"userId": user_id.to_string(), "eventId": event_id.to_string()},
            doc! {"joinedAt": -1, "_id": -1},
            WaitlistDoc::into_entry,
        )
        .await?;
        entries.sort_by_key(|e| !e.status.is_open());
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let position = if e.status == EntryStatus::Waiting {
                // Entries waiting before this one: the line's index serves the count.
                let ahead = self
                    .waitlist()
                    .count_documents(doc! {
                        "eventId": e.event_id.to_string(),
                        "ticketType": &e.ticket_type,
                        "status": EntryStatus::Waiting.as_str(),
                        "$or": [
                            {"joinedAt": {"$lt": to_bson_time(e.joined_at)}},
                            {"joinedAt": to_bson_time(e.joined_at), "_id": {"$lt": e.id.to_string()}},
                        ],
                    })
                    .await?;
                Some(u32::try_from(ahead).unwrap_or(u32::MAX).saturating_add(1))
            } else {
                None
            };
            out.push((e, position));
        }
        Ok(out)
    }

    async fn settle_entry(
        &self,
        entry_id: Uuid,
        command: &EntryCommand,
        traceparent: Option<&str>,
    ) -> Result<EntryOutcome, StoreError> {
        self.db
            .tx()
            .run(self, |store, s| {
                let command = command.clone();
                let traceparent = traceparent.map(str::to_string);
                Box::pin(async move {
                    store
                        .settle_in(s, entry_id, &command, traceparent.as_deref())
                        .await
                })
            })
            .await
    }

    async fn offers_due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Uuid>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let ids = self.waitlist().clone_with_type::<IdDoc>();
        let cursor = ids
            .find(doc! {
                "status": EntryStatus::Offered.as_str(),
                "offerExpiresAt": {"$lte": to_bson_time(now)},
            })
            .projection(doc! {"_id": 1})
            .sort(doc! {"offerExpiresAt": 1})
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .await?;
        decode_all(cursor, |d| parse_uuid(&d.id)).await
    }

    async fn entries_to_close(&self, limit: usize) -> Result<Vec<Uuid>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let event_ids = self.cancelled_events().await?;
        if event_ids.is_empty() {
            return Ok(Vec::new());
        }
        let open = [EntryStatus::Waiting.as_str(), EntryStatus::Offered.as_str()];
        let ids = self.waitlist().clone_with_type::<IdDoc>();
        let cursor = ids
            // The `line` index serves it, by event.
            .find(doc! {"eventId": {"$in": event_ids}, "status": {"$in": open.as_slice()}})
            .projection(doc! {"_id": 1})
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .await?;
        decode_all(cursor, |d| parse_uuid(&d.id)).await
    }

    async fn waitlist_lengths(&self, event_id: Uuid) -> Result<Vec<TypeLength>, StoreError> {
        let types = find_sorted(
            &self.inventory,
            doc! {"eventId": event_id.to_string()},
            doc! {"position": 1},
            |d| Ok(d.ticket_type),
        )
        .await?;
        let open = self
            .waitlist()
            .find(doc! {
                "eventId": event_id.to_string(),
                "status": {"$in": [EntryStatus::Waiting.as_str(), EntryStatus::Offered.as_str()]},
            })
            .await?;
        let open = decode_all(open, WaitlistDoc::into_entry).await?;
        Ok(types
            .into_iter()
            .map(|ticket_type| {
                let of_type = || open.iter().filter(|e| e.ticket_type == ticket_type);
                let waiting = || of_type().filter(|e| e.status == EntryStatus::Waiting);
                TypeLength {
                    waiting: waiting().count() as u32,
                    waiting_seats: waiting().map(|e| e.quantity).sum(),
                    offered: of_type()
                        .filter(|e| e.status == EntryStatus::Offered)
                        .count() as u32,
                    ticket_type,
                }
            })
            .collect())
    }
}
