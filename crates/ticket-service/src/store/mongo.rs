//! `ticket_db` on MongoDB. Multi-document transactions need MongoDB running as a replica set (a
//! single node is enough: `mongod --replSet rs0` + `rs.initiate()`).
//!
//! Collections:
//! - `events`: the catalogue snapshot of each event and its `version` (`_id` = event id), with
//!   its organizer (`organizerId`) and `refundPolicy`.
//! - `inventory`: one document per event and ticket type (`_id` = `<eventId>:<ticketType>`) with
//!   `capacity`, `sold`, `held` and a maintained `available` (= capacity - sold - held), so a
//!   reservation is one conditional update filtered on `available`.
//! - `orders`: the seed's order model in camelCase (`tickets`, `customerInfo`, unique
//!   `bookingReference`, ...), `totalAmount` and prices in minor units; `paidAt`, `cancelledAt`,
//!   `refund` and the back office's `search` text. Fields added since the first release are
//!   optional on read, and older documents get them once (`schema_migrations`).
//! - `tickets` (one per seat, `_id` = its unique code), `payment_attempts`, `processed_events`,
//!   `idempotency_keys` (`_id` = `<userId>:<key>`, unique per user and key) and `outbox`.
//! - Check-in: `event_keys` (`_id` = `<eventId>:<version>`, the secret in hex), `event_staff`
//!   (`_id` = event id, the catalogue's list and its `version`), `checkins` (`_id` = ticket code:
//!   `firstAt`, `firstGate`, `inside`) and `checkin_scans` (`_id` = `<eventId>:<nonce>`, the
//!   answer the scan got, as JSON text).
//! - `waitlist`: one document per waitlist entry (see `waitlist.rs` beside this file).
//!
//! Race safety, the same contract as the SQLite adapter:
//! - Every change of seats or order status runs in one transaction (`platform::mongo`'s runner:
//!   snapshot reads, majority writes) together with its outbox row (and processed-event id, idempotency record). What
//!   changes is decided by `crate::lifecycle` on the order read in that transaction; this
//!   adapter only writes it back. Seats move by `$inc` filtered on the stock that must be there
//!   (`available: {$gte: q}` to reserve, `held: {$gte: q}` to release or sell), never by reading
//!   and writing back; status changes are conditional on the status the order was read in. Two
//!   transactions writing the same document conflict (`WriteConflict`, labelled
//!   `TransientTransactionError`), and the loser is retried as a whole on a fresh snapshot,
//!   where the rules run again on what the winner wrote.
//! - A duplicate `_id` in `processed_events` is how a redelivered message is recognised.
//! - A batch (the cancellation cascade) is one transaction over many orders, each decided and
//!   written as alone; a conflict with any of them retries the whole batch.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{self, Document, doc};
use mongodb::{ClientSession, Collection};
use platform::StoreError;
use platform::money::{Currency, Money};
use platform::mongo::{
    KeyOwner, PageOf, Schema, ServiceDb, TxError, TxResult, decode_all, find_newest_first,
    find_page, find_sorted, from_bson_time, index, newest_first, parse_uuid, to_bson_time,
    unique_index,
};
use platform::outbox::OutboxStore;
use platform::store::is_duplicate_key;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    BookResult, Booking, Command, DoorTicket, EventInfo, EventStatus, EventStock, EventTicket,
    IdempotencyRecord, OrderPage, OrderQuery, RefundPolicy, Sale, Scan, Stock, StoredKey,
    StoredResponse, TicketCheckin, TicketStore, Transition,
};
use crate::checkin::{self, CheckinWrite, ScanTarget, Scanned};
use crate::lifecycle::{self, Decision, OrderUpdate, StockChange};
use crate::order::{
    AttemptStatus, CancelReason, CustomerInfo, IssuedTicket, Order, OrderDetails, OrderLine,
    OrderStatus, PaymentAttempt, Refund,
};
use api_types::checkin::{CheckinCounter, CheckinResponse};

mod waitlist;

/// The migration that gave older orders `paidAt`, `cancelledAt` and `search`.
const AFTER_THE_SALE: &str = "after_the_sale";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventDoc {
    #[serde(rename = "_id")]
    id: String,
    title: String,
    date_time: bson::DateTime,
    status: EventStatus,
    version: i64,
    currency: String,
    #[serde(default)]
    organizer_id: Option<String>,
    #[serde(default)]
    refund_policy: RefundPolicy,
    /// Absent from documents written before the switch existed: on.
    #[serde(default = "api_types::waitlist::on_by_default")]
    waitlist_enabled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InventoryDoc {
    #[serde(rename = "_id")]
    id: String,
    event_id: String,
    ticket_type: String,
    position: i64,
    price: i64,
    capacity: i64,
    sold: i64,
    held: i64,
    /// `capacity - sold - held`, kept by every update of the other three.
    available: i64,
}

/// The seed's order line: `{ticketType: {name, price}, quantity, subtotal}` (minor units).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineDoc {
    ticket_type: TicketTypeDoc,
    quantity: i64,
    subtotal: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TicketTypeDoc {
    name: String,
    price: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderDoc {
    #[serde(rename = "_id")]
    id: String,
    user_id: String,
    event_id: String,
    event_title: String,
    event_date_time: bson::DateTime,
    tickets: Vec<LineDoc>,
    total_amount: i64,
    currency: String,
    customer_info: CustomerInfo,
    booking_reference: String,
    status: OrderStatus,
    #[serde(default)]
    cancel_reason: Option<CancelReason>,
    #[serde(default)]
    payment_id: Option<String>,
    #[serde(default)]
    failed_payments: i64,
    expires_at: bson::DateTime,
    created_at: bson::DateTime,
    updated_at: bson::DateTime,
    #[serde(default)]
    paid_at: Option<bson::DateTime>,
    #[serde(default)]
    cancelled_at: Option<bson::DateTime>,
    #[serde(default)]
    refund: Option<RefundDoc>,
    /// [`crate::sales::search_text`], written once with the order.
    #[serde(default)]
    search: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefundDoc {
    amount: i64,
    refunded_at: bson::DateTime,
    reason: CancelReason,
}

/// One e-ticket; `_id` is its code, unique by the primary key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TicketDoc {
    #[serde(rename = "_id")]
    code: String,
    order_id: String,
    ticket_type: String,
    seq: i64,
    #[serde(default)]
    void: bool,
}

/// A ticket of an event with its order, as `tickets_of_event` projects it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventTicketDoc {
    code: String,
    ticket_type: String,
    #[serde(default)]
    void: bool,
    order_id: String,
    booking_reference: String,
    status: OrderStatus,
    customer_info: CustomerInfo,
    /// From the `checkins` lookup; absent when the ticket never entered.
    #[serde(default)]
    check_in: Option<CheckinDoc>,
}

/// `_id` is `<eventId>:<version>`: one document per key version, so version 1 exists once.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventKeyDoc {
    #[serde(rename = "_id")]
    id: String,
    event_id: String,
    version: i32,
    /// 32 bytes in hex.
    secret: String,
    created_at: bson::DateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StaffDoc {
    #[serde(rename = "_id")]
    id: String,
    version: i64,
    staff: Vec<String>,
}

/// A ticket's check-in; `_id` is its code.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CheckinDoc {
    #[serde(rename = "_id")]
    code: String,
    event_id: String,
    first_at: bson::DateTime,
    #[serde(default)]
    first_gate: Option<String>,
    inside: bool,
}

impl CheckinDoc {
    fn into_check_in(self) -> TicketCheckin {
        TicketCheckin {
            first_at: from_bson_time(self.first_at),
            first_gate: self.first_gate,
            inside: self.inside,
        }
    }
}

/// A scan's answer; `_id` is `<eventId>:<nonce>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScanDoc {
    #[serde(rename = "_id")]
    id: String,
    answer: String,
    at: bson::DateTime,
}

/// An order as the summary counts it, as `sales_of_event` projects it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SaleDoc {
    status: OrderStatus,
    total_amount: i64,
    currency: String,
    tickets: Vec<QuantityDoc>,
    #[serde(default)]
    paid_at: Option<bson::DateTime>,
    #[serde(default)]
    refund: Option<RefundAmountDoc>,
}

#[derive(Debug, Deserialize)]
struct QuantityDoc {
    quantity: i64,
}

#[derive(Debug, Deserialize)]
struct RefundAmountDoc {
    amount: i64,
}

/// `_id` is `<paymentId>:<status>`: an attempt is recorded once per payment and outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AttemptDoc {
    #[serde(rename = "_id")]
    id: String,
    payment_id: String,
    order_id: String,
    status: AttemptStatus,
    #[serde(default)]
    response_code: Option<String>,
    #[serde(default)]
    response_message: Option<String>,
    at: bson::DateTime,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProcessedDoc {
    #[serde(rename = "_id")]
    id: String,
    at: bson::DateTime,
}

/// A used key with the answer it stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyDoc {
    #[serde(flatten)]
    owner: KeyOwner,
    request_hash: String,
    status: i32,
    body: String,
    created_at: bson::DateTime,
}

/// Just the `_id`, for queries that list ids.
#[derive(Debug, Deserialize)]
struct IdDoc {
    #[serde(rename = "_id")]
    id: String,
}

/// Why a transaction body stops: the message was handled before.
struct Redelivered;

/// Why a transaction body stops: the stored event is as new as the one offered, or newer.
struct NotNewer;

/// Why a scan's transaction stops: its nonce was answered before (the answer), or is being
/// answered by a concurrent transaction that stored it first (`None`: read it).
struct Replayed(Option<CheckinResponse>);

fn key_doc_id(event_id: Uuid, version: u8) -> String {
    format!("{event_id}:{version}")
}

fn scan_id(event_id: Uuid, nonce: &str) -> String {
    format!("{event_id}:{nonce}")
}

fn into_key(d: EventKeyDoc) -> Result<StoredKey, StoreError> {
    let secret: [u8; 32] = hex::decode(&d.secret)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| corrupt(format!("event key {} is not 32 bytes of hex", d.id)))?;
    let version =
        u8::try_from(d.version).map_err(|_| corrupt(format!("key version {}", d.version)))?;
    Ok(StoredKey { version, secret })
}

fn answer_of(d: &ScanDoc) -> Result<CheckinResponse, StoreError> {
    serde_json::from_str(&d.answer).map_err(|e| corrupt(format!("scan {}: {e}", d.id)))
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::corrupt(format!("ticket_db: {what}"))
}

fn count(field: &str, v: i64) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| corrupt(format!("{field} = {v}")))
}

fn currency(s: &str) -> Result<Currency, StoreError> {
    Currency::parse(s).map_err(|_| corrupt(format!("currency {s:?}")))
}

fn stock_id(event_id: Uuid, ticket_type: &str) -> String {
    format!("{event_id}:{ticket_type}")
}

fn attempt_id(a: &PaymentAttempt) -> String {
    format!("{}:{}", a.payment_id, a.status.as_str())
}

impl EventDoc {
    fn into_info(self) -> Result<EventInfo, StoreError> {
        Ok(EventInfo {
            id: parse_uuid(&self.id)?,
            title: self.title,
            date_time: from_bson_time(self.date_time),
            status: self.status,
            version: u64::try_from(self.version)
                .map_err(|_| corrupt(format!("event version {}", self.version)))?,
            currency: currency(&self.currency)?,
            ticket_types: Vec::new(),
            organizer_id: self.organizer_id.as_deref().map(parse_uuid).transpose()?,
            refund_policy: self.refund_policy,
            waitlist_enabled: self.waitlist_enabled,
        })
    }
}

impl InventoryDoc {
    fn into_stock(self, currency: Currency) -> Result<Stock, StoreError> {
        Ok(Stock {
            ticket_type: self.ticket_type,
            price: Money::from_minor_units(self.price, currency),
            capacity: count("capacity", self.capacity)?,
            sold: count("sold", self.sold)?,
            held: count("held", self.held)?,
        })
    }
}

impl OrderDoc {
    fn from_order(o: &Order) -> Self {
        Self {
            id: o.id.to_string(),
            user_id: o.user_id.to_string(),
            event_id: o.event_id.to_string(),
            event_title: o.event_title.clone(),
            event_date_time: to_bson_time(o.event_date_time),
            tickets: o
                .lines
                .iter()
                .map(|l| LineDoc {
                    ticket_type: TicketTypeDoc {
                        name: l.ticket_type.clone(),
                        price: l.unit_price.minor_units(),
                    },
                    quantity: i64::from(l.quantity),
                    subtotal: l.subtotal.minor_units(),
                })
                .collect(),
            total_amount: o.total_amount.minor_units(),
            currency: o.currency().to_string(),
            customer_info: o.customer.clone(),
            booking_reference: o.booking_reference.clone(),
            status: o.status,
            cancel_reason: o.cancel_reason,
            payment_id: o.payment_id.map(|p| p.to_string()),
            failed_payments: i64::from(o.failed_payments),
            expires_at: to_bson_time(o.expires_at),
            created_at: to_bson_time(o.created_at),
            updated_at: to_bson_time(o.updated_at),
            paid_at: o.paid_at.map(to_bson_time),
            cancelled_at: o.cancelled_at.map(to_bson_time),
            refund: o.refund.as_ref().map(RefundDoc::from_refund),
            search: crate::sales::search_text(o),
        }
    }

    fn into_order(self) -> Result<Order, StoreError> {
        let currency = currency(&self.currency)?;
        let lines = self
            .tickets
            .into_iter()
            .map(|l| {
                Ok(OrderLine {
                    ticket_type: l.ticket_type.name,
                    quantity: count("quantity", l.quantity)?,
                    unit_price: Money::from_minor_units(l.ticket_type.price, currency),
                    subtotal: Money::from_minor_units(l.subtotal, currency),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Order {
            id: parse_uuid(&self.id)?,
            user_id: parse_uuid(&self.user_id)?,
            event_id: parse_uuid(&self.event_id)?,
            event_title: self.event_title,
            event_date_time: from_bson_time(self.event_date_time),
            booking_reference: self.booking_reference,
            status: self.status,
            cancel_reason: self.cancel_reason,
            lines,
            total_amount: Money::from_minor_units(self.total_amount, currency),
            customer: self.customer_info,
            payment_id: self.payment_id.as_deref().map(parse_uuid).transpose()?,
            failed_payments: count("failedPayments", self.failed_payments)?,
            expires_at: from_bson_time(self.expires_at),
            created_at: from_bson_time(self.created_at),
            updated_at: from_bson_time(self.updated_at),
            paid_at: self.paid_at.map(from_bson_time),
            cancelled_at: self.cancelled_at.map(from_bson_time),
            refund: self.refund.map(|r| Refund {
                amount: Money::from_minor_units(r.amount, currency),
                refunded_at: from_bson_time(r.refunded_at),
                reason: r.reason,
            }),
        })
    }
}

impl RefundDoc {
    fn from_refund(r: &Refund) -> Self {
        Self {
            amount: r.amount.minor_units(),
            refunded_at: to_bson_time(r.refunded_at),
            reason: r.reason,
        }
    }
}

impl EventTicketDoc {
    fn into_ticket(self) -> Result<EventTicket, StoreError> {
        Ok(EventTicket {
            code: self.code,
            ticket_type: self.ticket_type,
            void: self.void,
            order_id: parse_uuid(&self.order_id)?,
            booking_reference: self.booking_reference,
            order_status: self.status,
            holder: self.customer_info,
            check_in: self.check_in.map(CheckinDoc::into_check_in),
        })
    }
}

impl SaleDoc {
    fn into_sale(self) -> Result<Sale, StoreError> {
        let currency = currency(&self.currency)?;
        let mut tickets = 0;
        for line in &self.tickets {
            tickets += count("quantity", line.quantity)?;
        }
        Ok(Sale {
            status: self.status,
            total: Money::from_minor_units(self.total_amount, currency),
            tickets,
            paid_at: self.paid_at.map(from_bson_time),
            refunded: self
                .refund
                .map(|r| Money::from_minor_units(r.amount, currency)),
        })
    }
}

impl AttemptDoc {
    fn into_attempt(self) -> Result<PaymentAttempt, StoreError> {
        Ok(PaymentAttempt {
            payment_id: parse_uuid(&self.payment_id)?,
            status: self.status,
            response_code: self.response_code,
            response_message: self.response_message,
            at: from_bson_time(self.at),
        })
    }
}

impl KeyDoc {
    fn new(r: &IdempotencyRecord, at: DateTime<Utc>) -> Self {
        Self {
            owner: KeyOwner::new(r.user_id, &r.key),
            request_hash: r.response.request_hash.clone(),
            status: i32::from(r.response.status),
            body: r.response.body.clone(),
            created_at: to_bson_time(at),
        }
    }

    fn into_response(self) -> StoredResponse {
        StoredResponse {
            request_hash: self.request_hash,
            status: u16::try_from(self.status).unwrap_or(500),
            body: self.body,
        }
    }
}

pub struct MongoStore {
    db: ServiceDb,
    events: Collection<EventDoc>,
    inventory: Collection<InventoryDoc>,
    orders: Collection<OrderDoc>,
    tickets: Collection<TicketDoc>,
    attempts: Collection<AttemptDoc>,
    processed: Collection<ProcessedDoc>,
    keys: Collection<KeyDoc>,
    event_keys: Collection<EventKeyDoc>,
    staff: Collection<StaffDoc>,
    checkins: Collection<CheckinDoc>,
    scans: Collection<ScanDoc>,
}

/// The indexes behind the order, stock, ticket and check-in queries, the outbox, and the
/// collections written inside transactions (created up front).
fn schema() -> Schema {
    Schema {
        indexes: vec![
            (
                "orders",
                vec![
                    unique_index(doc! {"bookingReference": 1}, "booking_reference_unique"),
                    index(doc! {"userId": 1, "createdAt": -1, "_id": -1}, "by_user"),
                    index(doc! {"status": 1, "expiresAt": 1}, "by_status_expiry"),
                    index(doc! {"eventId": 1, "status": 1}, "by_event_status"),
                    index(
                        doc! {"eventId": 1, "createdAt": -1, "_id": -1},
                        "by_event_created",
                    ),
                ],
            ),
            ("events", vec![index(doc! {"status": 1}, "by_status")]),
            (
                "inventory",
                vec![index(doc! {"eventId": 1, "position": 1}, "by_event")],
            ),
            (
                "tickets",
                vec![index(doc! {"orderId": 1, "seq": 1}, "by_order")],
            ),
            (
                "payment_attempts",
                vec![index(doc! {"orderId": 1, "at": 1, "status": 1}, "by_order")],
            ),
            (
                "event_keys",
                vec![index(doc! {"eventId": 1, "version": 1}, "by_event")],
            ),
            ("checkins", vec![index(doc! {"eventId": 1}, "by_event")]),
            (waitlist::COLLECTION, waitlist::indexes()),
        ],
        created_up_front: &[
            "events",
            "processed_events",
            "idempotency_keys",
            "checkin_scans",
            waitlist::COLLECTION,
        ],
        outbox: true,
    }
}

impl MongoStore {
    /// Connects and makes sure the collections and indexes exist.
    pub async fn connect(uri: &str, database: &str) -> Result<Self, StoreError> {
        let db = ServiceDb::open(uri, database, schema()).await?;
        let store = Self {
            events: db.collection("events"),
            inventory: db.collection("inventory"),
            orders: db.collection("orders"),
            tickets: db.collection("tickets"),
            attempts: db.collection("payment_attempts"),
            processed: db.collection("processed_events"),
            keys: db.collection("idempotency_keys"),
            event_keys: db.collection("event_keys"),
            staff: db.collection("event_staff"),
            checkins: db.collection("checkins"),
            scans: db.collection("checkin_scans"),
            db,
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Gives documents written before a field existed what can be known of it, once per
    /// database (recorded in `schema_migrations`). Idempotent, so replicas starting together
    /// may both run it.
    async fn migrate(&self) -> Result<(), StoreError> {
        let migrations = self.db.collection::<Document>("schema_migrations");
        if migrations
            .find_one(doc! {"_id": AFTER_THE_SALE})
            .await?
            .is_some()
        {
            return Ok(());
        }
        // The confirming or cancelling time of an older order was its last update; its search
        // text is lower-cased by MongoDB (`$toLower`: ASCII only; new orders by the service).
        self.orders
            .update_many(
                doc! {"status": OrderStatus::Confirmed.as_str(), "paidAt": {"$exists": false}},
                vec![doc! {"$set": {"paidAt": "$updatedAt"}}],
            )
            .await?;
        self.orders
            .update_many(
                doc! {"status": OrderStatus::Cancelled.as_str(), "cancelledAt": {"$exists": false}},
                vec![doc! {"$set": {"cancelledAt": "$updatedAt"}}],
            )
            .await?;
        self.orders
            .update_many(
                doc! {"search": {"$exists": false}},
                vec![doc! {"$set": {"search": {"$toLower": {"$concat": [
                    "$customerInfo.firstName", " ", "$customerInfo.lastName", "\n",
                    "$customerInfo.email", "\n", "$bookingReference",
                ]}}}}],
            )
            .await?;
        migrations
            .update_one(
                doc! {"_id": AFTER_THE_SALE},
                doc! {"$setOnInsert": {"at": to_bson_time(platform::time::now())}},
            )
            .upsert(true)
            .await?;
        Ok(())
    }
}

/// The writes of one transaction body, each on the transaction's session. Those a stopping body
/// calls are generic over what it stops with.
impl MongoStore {
    async fn order_in<E>(&self, s: &mut ClientSession, id: Uuid) -> TxResult<Option<Order>, E> {
        Ok(self
            .orders
            .find_one(doc! {"_id": id.to_string()})
            .session(&mut *s)
            .await?
            .map(OrderDoc::into_order)
            .transpose()?)
    }

    /// Records `id` as processed; false when it was already. After false the server has
    /// aborted the transaction (a duplicate key does that): stop the body.
    async fn first_time<E>(&self, s: &mut ClientSession, id: Uuid) -> TxResult<bool, E> {
        let processed = ProcessedDoc {
            id: id.to_string(),
            at: to_bson_time(platform::time::now()),
        };
        match self.processed.insert_one(processed).session(&mut *s).await {
            Ok(_) => Ok(true),
            Err(e) if is_duplicate_key(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes what changes in an order's life, only while it still has the status it was read
    /// in. Read and write share the transaction's snapshot, and a concurrent change makes the
    /// write conflict (and the whole body run again), so a miss means corrupt data.
    async fn update_order<E>(
        &self,
        s: &mut ClientSession,
        update: &OrderUpdate,
    ) -> TxResult<(), E> {
        let o = &update.order;
        let result = self
            .orders
            .update_one(
                doc! {"_id": o.id.to_string(), "status": update.from.as_str()},
                doc! {"$set": {
                    "status": o.status.as_str(),
                    "cancelReason": o.cancel_reason.map(CancelReason::as_str),
                    "paymentId": o.payment_id.map(|p| p.to_string()),
                    "failedPayments": i64::from(o.failed_payments),
                    "updatedAt": to_bson_time(o.updated_at),
                    "paidAt": o.paid_at.map(to_bson_time),
                    "cancelledAt": o.cancelled_at.map(to_bson_time),
                    "refund": o.refund.as_ref().map(|r| doc! {
                        "amount": r.amount.minor_units(),
                        "refundedAt": to_bson_time(r.refunded_at),
                        "reason": r.reason.as_str(),
                    }),
                }},
            )
            .session(&mut *s)
            .await?;
        if result.matched_count != 1 {
            return Err(corrupt(format!("order {} changed inside a transaction", o.id)).into());
        }
        Ok(())
    }

    /// Moves seats of one ticket type with one `$inc`, filtered on the seats it needs: held or
    /// sold ones it takes back, available ones it takes (the counterpart of SQLite's
    /// conditional update and `CHECK`). False when the filter missed.
    async fn change_stock<E>(&self, s: &mut ClientSession, c: &StockChange) -> TxResult<bool, E> {
        let mut filter = doc! {"_id": stock_id(c.event_id, &c.ticket_type)};
        if c.held < 0 {
            filter.insert("held", doc! {"$gte": -c.held});
        }
        if c.sold < 0 {
            filter.insert("sold", doc! {"$gte": -c.sold});
        }
        if c.taken() > 0 {
            filter.insert("available", doc! {"$gte": c.taken()});
            // `closed` is set by a cancellation in its own transaction: writing the same
            // documents makes the two conflict, so a booking can never slip past a cancellation
            // (snapshot reads alone would allow it).
            filter.insert("closed", doc! {"$ne": true});
        }
        let result = self
            .inventory
            .update_one(
                filter,
                doc! {"$inc": {"held": c.held, "sold": c.sold, "available": -c.taken()}},
            )
            .session(&mut *s)
            .await?;
        Ok(result.matched_count == 1)
    }

    /// Writes a lifecycle decision on `order_id`.
    async fn write<E>(
        &self,
        s: &mut ClientSession,
        order_id: Uuid,
        d: &Decision,
    ) -> TxResult<(), E> {
        if let Some(update) = &d.update {
            self.update_order(s, update).await?;
        }
        for c in &d.stock {
            if !self.change_stock(s, c).await? {
                return Err(corrupt(format!(
                    "stock {:?} cannot take {c:?} for order {order_id}",
                    stock_id(c.event_id, &c.ticket_type)
                ))
                .into());
            }
        }
        let tickets: Vec<TicketDoc> = d
            .tickets
            .iter()
            .enumerate()
            .map(|(seq, t)| TicketDoc {
                code: t.code.clone(),
                order_id: order_id.to_string(),
                ticket_type: t.ticket_type.clone(),
                seq: seq as i64,
                void: t.void,
            })
            .collect();
        if !tickets.is_empty() {
            self.tickets.insert_many(tickets).session(&mut *s).await?;
        }
        if d.void_tickets {
            self.tickets
                .update_many(
                    doc! {"orderId": order_id.to_string()},
                    doc! {"$set": {"void": true}},
                )
                .session(&mut *s)
                .await?;
        }
        if let Some(a) = &d.attempt {
            // `$setOnInsert`: recorded once per payment and outcome, with no duplicate key
            // error that would abort the transaction.
            self.attempts
                .update_one(
                    doc! {"_id": attempt_id(a)},
                    doc! {"$setOnInsert": {
                        "paymentId": a.payment_id.to_string(),
                        "orderId": order_id.to_string(),
                        "status": a.status.as_str(),
                        "responseCode": a.response_code.as_deref(),
                        "responseMessage": a.response_message.as_deref(),
                        "at": to_bson_time(a.at),
                    }},
                )
                .upsert(true)
                .session(&mut *s)
                .await?;
        }
        self.db.insert_facts(s, &d.facts).await?;
        // Seats given back go to the waitlist first, before anyone else can book them.
        self.offer_freed(s, &d.stock).await
    }

    async fn apply_in(
        &self,
        s: &mut ClientSession,
        order_id: Uuid,
        command: &Command,
        message: Option<Uuid>,
        traceparent: Option<&str>,
    ) -> TxResult<Transition, Redelivered> {
        if let Some(id) = message
            && !self.first_time(s, id).await?
        {
            return Err(TxError::Stop(Redelivered));
        }
        self.decide_in(s, order_id, command, traceparent).await
    }

    /// Reads the order, decides `command` on it and writes the decision, in the transaction.
    async fn decide_in<E>(
        &self,
        s: &mut ClientSession,
        order_id: Uuid,
        command: &Command,
        traceparent: Option<&str>,
    ) -> TxResult<Transition, E> {
        let order = self.order_in(s, order_id).await?;
        let decision = lifecycle::decide(order, command, platform::time::now(), traceparent);
        self.write(s, order_id, &decision).await?;
        Ok(decision.transition)
    }

    async fn apply_event_in(
        &self,
        s: &mut ClientSession,
        info: &EventInfo,
    ) -> TxResult<(), NotNewer> {
        let id = info.id.to_string();
        let version = i64::try_from(info.version)
            .map_err(|_| corrupt(format!("event version {}", info.version)))?;
        // Matches only an older stored version; with none stored the upsert inserts. A newer or
        // equal version makes the upsert's insert collide with the stored `_id`.
        let mut set = doc! {
            "title": &info.title,
            "dateTime": to_bson_time(info.date_time),
            "status": info.status.as_str(),
            "version": version,
            "currency": info.currency.as_str(),
            "refundPolicy": {
                "allowed": info.refund_policy.allowed,
                "untilHoursBefore": i64::from(info.refund_policy.until_hours_before),
            },
            "waitlistEnabled": info.waitlist_enabled,
        };
        // A change that does not say who organizes the event keeps the organizer stored.
        if let Some(organizer) = info.organizer_id {
            set.insert("organizerId", organizer.to_string());
        }
        let stored = self
            .events
            .update_one(
                doc! {"_id": &id, "version": {"$lt": version}},
                doc! {"$set": set},
            )
            .upsert(true)
            .session(&mut *s)
            .await;
        match stored {
            Ok(_) => {}
            Err(e) if is_duplicate_key(&e) => return Err(TxError::Stop(NotNewer)),
            Err(e) => return Err(e.into()),
        }
        for (position, t) in info.ticket_types.iter().enumerate() {
            let capacity = i64::from(t.quantity);
            // An update pipeline: capacity only grows, `available` is recomputed from it.
            let pipeline = vec![
                doc! {"$set": {
                    "eventId": {"$literal": &id},
                    "ticketType": {"$literal": &t.name},
                    "position": position as i64,
                    "price": t.price.minor_units(),
                    "capacity": {"$max": [{"$ifNull": ["$capacity", 0_i64]}, capacity]},
                    "sold": {"$ifNull": ["$sold", 0_i64]},
                    "held": {"$ifNull": ["$held", 0_i64]},
                }},
                doc! {"$set": {
                    "available": {"$subtract": ["$capacity", {"$add": ["$sold", "$held"]}]},
                }},
            ];
            self.inventory
                .update_one(doc! {"_id": stock_id(info.id, &t.name)}, pipeline)
                .upsert(true)
                .session(&mut *s)
                .await?;
        }
        if !info.status.is_on_sale() {
            self.inventory
                .update_many(doc! {"eventId": &id}, doc! {"$set": {"closed": true}})
                .session(&mut *s)
                .await?;
        }
        Ok(())
    }

    /// Stops with the answer of a booking that takes nothing (the key was used, the event is
    /// closed, a line sold out, ...), or with `None` when a concurrent booking stored the
    /// idempotency key first (the caller reads it).
    async fn book_in(
        &self,
        s: &mut ClientSession,
        booking: &Booking,
    ) -> TxResult<BookResult, Option<BookResult>> {
        if let Some(idem) = &booking.idempotency {
            let used = self
                .keys
                .find_one(doc! {"_id": KeyOwner::id(idem.user_id, &idem.key)})
                .session(&mut *s)
                .await?;
            if let Some(stored) = used {
                return Err(TxError::Stop(Some(BookResult::KeyUsed(
                    stored.into_response(),
                ))));
            }
        }
        let placed = lifecycle::place(&booking.order, booking.traceparent.as_deref());
        let order = &placed.order;
        let on_sale = self
            .events
            .find_one(doc! {"_id": order.event_id.to_string()})
            .session(&mut *s)
            .await?
            .is_some_and(|e| e.status.is_on_sale());
        if !on_sale {
            return Err(TxError::Stop(Some(BookResult::EventClosed)));
        }
        for hold in &placed.stock {
            if self.change_stock(s, hold).await? {
                continue;
            }
            let available = self
                .inventory
                .find_one(doc! {"_id": stock_id(hold.event_id, &hold.ticket_type)})
                .session(&mut *s)
                .await?
                .map_or(0, |d| d.available.max(0));
            if available >= hold.taken() {
                // Seats were there: a cancellation closed the stock.
                return Err(TxError::Stop(Some(BookResult::EventClosed)));
            }
            let available = u32::try_from(available).unwrap_or(u32::MAX);
            // Aborting rolls back the lines already held.
            return Err(TxError::Stop(Some(BookResult::SoldOut {
                ticket_type: hold.ticket_type.clone(),
                available,
            })));
        }
        match self
            .orders
            .insert_one(OrderDoc::from_order(order))
            .session(&mut *s)
            .await
        {
            Ok(_) => {}
            Err(e) if is_duplicate_key(&e) => {
                return Err(TxError::Stop(Some(BookResult::ReferenceTaken)));
            }
            Err(e) => return Err(e.into()),
        }
        self.db.insert_facts(s, &placed.facts).await?;
        if let Some(idem) = &booking.idempotency {
            match self
                .keys
                .insert_one(KeyDoc::new(idem, order.created_at))
                .session(&mut *s)
                .await
            {
                Ok(_) => {}
                Err(e) if is_duplicate_key(&e) => return Err(TxError::Stop(None)),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(BookResult::Booked)
    }

    /// One scan, in the transaction: the replay of its nonce, or the decision on the ticket as
    /// read here, written with conditional writes.
    async fn check_in_in(
        &self,
        s: &mut ClientSession,
        scan: &Scan,
    ) -> TxResult<CheckinResponse, Replayed> {
        let id = scan_id(scan.event_id, &scan.nonce);
        if let Some(stored) = self
            .scans
            .find_one(doc! {"_id": &id})
            .session(&mut *s)
            .await?
        {
            return Err(TxError::Stop(Replayed(Some(answer_of(&stored)?))));
        }
        let ticket = match &scan.target {
            ScanTarget::Code(code) => self.door_ticket(s, code).await?,
            ScanTarget::Refused(_) => None,
        };
        let counter = self.counter(s, scan.event_id).await?;
        let decision = checkin::decide(scan, ticket.as_ref(), counter);
        if let Some(w) = &decision.write
            && !self.write_checkin(s, w).await?
        {
            return Err(corrupt(format!("check-in {w:?} missed inside its transaction")).into());
        }
        self.db.insert_facts(s, &decision.facts).await?;
        let stored = ScanDoc {
            id,
            answer: serde_json::to_string(&decision.response).map_err(StoreError::backend)?,
            at: to_bson_time(platform::time::now()),
        };
        match self.scans.insert_one(stored).session(&mut *s).await {
            Ok(_) => Ok(decision.response),
            Err(e) if is_duplicate_key(&e) => Err(TxError::Stop(Replayed(None))),
            Err(e) => Err(e.into()),
        }
    }

    async fn door_ticket<E>(
        &self,
        s: &mut ClientSession,
        code: &str,
    ) -> TxResult<Option<DoorTicket>, E> {
        let Some(ticket) = self
            .tickets
            .find_one(doc! {"_id": code})
            .session(&mut *s)
            .await?
        else {
            return Ok(None);
        };
        let order = self
            .order_in(s, parse_uuid(&ticket.order_id)?)
            .await?
            .ok_or_else(|| corrupt(format!("ticket {code} has no order")))?;
        let check_in = self
            .checkins
            .find_one(doc! {"_id": code})
            .session(&mut *s)
            .await?
            .map(CheckinDoc::into_check_in);
        Ok(Some(DoorTicket {
            code: ticket.code,
            event_id: order.event_id,
            order_id: order.id,
            ticket_type: ticket.ticket_type,
            void: ticket.void,
            order_status: order.status,
            holder_name: order.customer.full_name(),
            check_in,
        }))
    }

    async fn counter<E>(
        &self,
        s: &mut ClientSession,
        event_id: Uuid,
    ) -> TxResult<CheckinCounter, E> {
        let event = event_id.to_string();
        let checked_in = self
            .checkins
            .count_documents(doc! {"eventId": &event})
            .session(&mut *s)
            .await?;
        let mut cursor = self
            .inventory
            .find(doc! {"eventId": &event})
            .session(&mut *s)
            .await?;
        let mut sold = 0_i64;
        while let Some(stock) = cursor.next(&mut *s).await.transpose()? {
            sold += stock.sold;
        }
        Ok(CheckinCounter {
            checked_in: count("checked in", checked_in as i64)?,
            sold: count("sold", sold)?,
        })
    }

    /// Writes a check-in decision, each change filtered on the state it was decided on; false
    /// when the filter missed. A concurrent scan of the same ticket writes the same document,
    /// so one of the two transactions conflicts and runs again on what the other wrote.
    async fn write_checkin<E>(&self, s: &mut ClientSession, w: &CheckinWrite) -> TxResult<bool, E> {
        let result = match w {
            CheckinWrite::FirstEntry {
                code,
                event_id,
                at,
                gate,
            } => {
                let inserted = self
                    .checkins
                    .update_one(
                        doc! {"_id": code},
                        doc! {"$setOnInsert": {
                            "eventId": event_id.to_string(),
                            "firstAt": to_bson_time(*at),
                            "firstGate": gate.as_deref(),
                            "inside": true,
                        }},
                    )
                    .upsert(true)
                    .session(&mut *s)
                    .await?;
                return Ok(inserted.upserted_id.is_some());
            }
            CheckinWrite::Reentry { code } => {
                self.checkins
                    .update_one(
                        doc! {"_id": code, "inside": false},
                        doc! {"$set": {"inside": true}},
                    )
                    .session(&mut *s)
                    .await?
            }
            CheckinWrite::Exit { code } => {
                self.checkins
                    .update_one(
                        doc! {"_id": code, "inside": true},
                        doc! {"$set": {"inside": false}},
                    )
                    .session(&mut *s)
                    .await?
            }
            CheckinWrite::Earlier { code, at, gate } => {
                self.checkins
                    .update_one(
                        doc! {"_id": code, "firstAt": {"$gt": to_bson_time(*at)}},
                        doc! {"$set": {"firstAt": to_bson_time(*at), "firstGate": gate.as_deref()}},
                    )
                    .session(&mut *s)
                    .await?
            }
        };
        Ok(result.matched_count == 1)
    }

    /// The ids of the cancelled events: what the cancellation cascade works on.
    async fn cancelled_events(&self) -> Result<Vec<String>, StoreError> {
        let events = self.events.clone_with_type::<IdDoc>();
        let cursor = events
            .find(doc! {"status": EventStatus::Cancelled.as_str()})
            .projection(doc! {"_id": 1})
            .await?;
        decode_all(cursor, |e| Ok(e.id)).await
    }

    async fn ids(
        &self,
        filter: Document,
        sort: Document,
        limit: Option<i64>,
    ) -> Result<Vec<Uuid>, StoreError> {
        let orders = self.orders.clone_with_type::<IdDoc>();
        let mut find = orders.find(filter).projection(doc! {"_id": 1}).sort(sort);
        if let Some(limit) = limit {
            find = find.limit(limit);
        }
        decode_all(find.await?, |d| parse_uuid(&d.id)).await
    }
}

#[async_trait]
impl TicketStore for MongoStore {
    async fn event_stock(&self, event_id: Uuid) -> Result<Option<EventStock>, StoreError> {
        let Some(event) = self
            .events
            .find_one(doc! {"_id": event_id.to_string()})
            .await?
        else {
            return Ok(None);
        };
        let event = event.into_info()?;
        let stock = find_sorted(
            &self.inventory,
            doc! {"eventId": event_id.to_string()},
            doc! {"position": 1},
            |d| d.into_stock(event.currency),
        )
        .await?;
        Ok(Some(EventStock::from_stock(event, stock)))
    }

    async fn apply_event(&self, info: &EventInfo) -> Result<bool, StoreError> {
        let stored = self
            .db
            .tx()
            .run_or_stop_with(self, info, |store, s, info| {
                Box::pin(store.apply_event_in(s, info))
            })
            .await?;
        Ok(stored.is_ok())
    }

    async fn book(&self, booking: &Booking) -> Result<BookResult, StoreError> {
        let result = self
            .db
            .tx()
            .run_or_stop_with(self, booking, |store, s, booking| {
                Box::pin(store.book_in(s, booking))
            })
            .await?;
        if let Ok(result) | Err(Some(result)) = result {
            return Ok(result);
        }
        // Only a booking with a key can lose the race for it.
        let Some(idem) = &booking.idempotency else {
            return Err(corrupt("booking without a key lost a key race"));
        };
        match self.idempotent_response(idem.user_id, &idem.key).await? {
            Some(stored) => Ok(BookResult::KeyUsed(stored)),
            None => Err(StoreError::Duplicate(KeyOwner::id(idem.user_id, &idem.key))),
        }
    }

    async fn idempotent_response(
        &self,
        user_id: Uuid,
        key: &str,
    ) -> Result<Option<StoredResponse>, StoreError> {
        Ok(self
            .keys
            .find_one(doc! {"_id": KeyOwner::id(user_id, key)})
            .await?
            .map(KeyDoc::into_response))
    }

    async fn order(&self, id: Uuid) -> Result<Option<OrderDetails>, StoreError> {
        let Some(order) = self.orders.find_one(doc! {"_id": id.to_string()}).await? else {
            return Ok(None);
        };
        let order = order.into_order()?;
        let of_order = doc! {"orderId": id.to_string()};
        let attempts = find_sorted(
            &self.attempts,
            of_order.clone(),
            doc! {"at": 1, "status": 1},
            AttemptDoc::into_attempt,
        )
        .await?;
        let tickets = find_sorted(&self.tickets, of_order, doc! {"seq": 1}, |t| {
            Ok(IssuedTicket {
                code: t.code,
                ticket_type: t.ticket_type,
                void: t.void,
                signed_code: None,
            })
        })
        .await?;
        Ok(Some(OrderDetails {
            order,
            attempts,
            tickets,
        }))
    }

    async fn orders_of_user(&self, user_id: Uuid) -> Result<Vec<Order>, StoreError> {
        find_newest_first(
            &self.orders,
            doc! {"userId": user_id.to_string()},
            OrderDoc::into_order,
        )
        .await
    }

    async fn apply(
        &self,
        order_id: Uuid,
        command: &Command,
        message: Option<Uuid>,
        traceparent: Option<&str>,
    ) -> Result<Transition, StoreError> {
        let applied = self
            .db
            .tx()
            .run_or_stop(self, |store, s| {
                let command = command.clone();
                let traceparent = traceparent.map(str::to_string);
                Box::pin(async move {
                    store
                        .apply_in(s, order_id, &command, message, traceparent.as_deref())
                        .await
                })
            })
            .await?;
        Ok(applied.unwrap_or(Transition::Duplicate))
    }

    async fn apply_batch(
        &self,
        order_ids: &[Uuid],
        command: &Command,
        traceparent: Option<&str>,
    ) -> Result<Vec<Transition>, StoreError> {
        self.db
            .tx()
            .run(self, |store, s| {
                let order_ids = order_ids.to_vec();
                let command = command.clone();
                let traceparent = traceparent.map(str::to_string);
                Box::pin(async move {
                    let mut transitions = Vec::with_capacity(order_ids.len());
                    for id in order_ids {
                        transitions.push(
                            store
                                .decide_in(s, id, &command, traceparent.as_deref())
                                .await?,
                        );
                    }
                    Ok(transitions)
                })
            })
            .await
    }

    async fn due_for_expiry(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Uuid>, StoreError> {
        // A limit of 0 means "no limit" to MongoDB; to SQLite (and this trait) it means none.
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.ids(
            doc! {"status": OrderStatus::Pending.as_str(), "expiresAt": {"$lte": to_bson_time(now)}},
            doc! {"expiresAt": 1},
            Some(i64::try_from(limit).unwrap_or(i64::MAX)),
        )
        .await
    }

    async fn orders_to_cascade(&self, limit: usize) -> Result<Vec<Uuid>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let event_ids = self.cancelled_events().await?;
        if event_ids.is_empty() {
            return Ok(Vec::new());
        }
        let open = [
            OrderStatus::Pending.as_str(),
            OrderStatus::Confirmed.as_str(),
        ];
        self.ids(
            doc! {"eventId": {"$in": event_ids}, "status": {"$in": open.as_slice()}},
            doc! {"eventId": 1, "status": 1},
            Some(i64::try_from(limit).unwrap_or(i64::MAX)),
        )
        .await
    }

    async fn orders_of_event(
        &self,
        event_id: Uuid,
        query: &OrderQuery,
    ) -> Result<OrderPage, StoreError> {
        // The filter of `OrderQuery::matches`.
        let mut filter = doc! {"eventId": event_id.to_string()};
        if let Some(status) = query.status {
            filter.insert("status", status.as_str());
        }
        if let Some(term) = &query.search {
            filter.insert(
                "$expr",
                doc! {"$gte": [{"$indexOfCP": ["$search", term.as_str()]}, 0_i64]},
            );
        }
        let page = PageOf {
            sort: newest_first(),
            offset: query.offset(),
            limit: query.limit,
        };
        let (orders, total) = find_page(&self.orders, filter, page, OrderDoc::into_order).await?;
        Ok(OrderPage { orders, total })
    }

    async fn tickets_of_event(&self, event_id: Uuid) -> Result<Vec<EventTicket>, StoreError> {
        let pipeline = [
            doc! {"$match": {"eventId": event_id.to_string()}},
            doc! {"$lookup": {
                "from": "tickets", "localField": "_id", "foreignField": "orderId", "as": "issued",
            }},
            doc! {"$unwind": "$issued"},
            doc! {"$lookup": {
                "from": "checkins", "localField": "issued._id", "foreignField": "_id",
                "as": "checkins",
            }},
            doc! {"$sort": {"createdAt": 1, "_id": 1, "issued.seq": 1}},
            doc! {"$project": {
                "_id": 0,
                "code": "$issued._id",
                "ticketType": "$issued.ticketType",
                "void": "$issued.void",
                "orderId": "$_id",
                "bookingReference": 1,
                "status": 1,
                "customerInfo": 1,
                "checkIn": {"$arrayElemAt": ["$checkins", 0]},
            }},
        ];
        let cursor = self
            .orders
            .aggregate(pipeline)
            .allow_disk_use(true)
            .with_type::<EventTicketDoc>()
            .await?;
        decode_all(cursor, EventTicketDoc::into_ticket).await
    }

    async fn sales_of_event(&self, event_id: Uuid) -> Result<Vec<Sale>, StoreError> {
        let cursor = self
            .orders
            .clone_with_type::<SaleDoc>()
            .find(doc! {"eventId": event_id.to_string()})
            .projection(doc! {
                "status": 1, "totalAmount": 1, "currency": 1, "tickets.quantity": 1,
                "paidAt": 1, "refund.amount": 1,
            })
            .await?;
        decode_all(cursor, SaleDoc::into_sale).await
    }

    fn outbox(&self) -> Arc<dyn OutboxStore> {
        self.db.outbox()
    }

    async fn event_keys(&self, event_id: Uuid) -> Result<Vec<StoredKey>, StoreError> {
        find_sorted(
            &self.event_keys,
            doc! {"eventId": event_id.to_string()},
            doc! {"version": 1},
            into_key,
        )
        .await
    }

    async fn ensure_event_key(
        &self,
        event_id: Uuid,
        secret: [u8; 32],
    ) -> Result<Vec<StoredKey>, StoreError> {
        // Version 1 has a fixed `_id`: of two racing upserts one inserts, the other matches it
        // (or fails on the duplicate key, which says the same).
        let created = self
            .event_keys
            .update_one(
                doc! {"_id": key_doc_id(event_id, 1)},
                doc! {"$setOnInsert": {
                    "eventId": event_id.to_string(),
                    "version": 1_i32,
                    "secret": hex::encode(secret),
                    "createdAt": to_bson_time(platform::time::now()),
                }},
            )
            .upsert(true)
            .await;
        match created {
            Ok(_) => {}
            Err(e) if is_duplicate_key(&e) => {}
            Err(e) => return Err(e.into()),
        }
        self.event_keys(event_id).await
    }

    async fn apply_staff(
        &self,
        event_id: Uuid,
        staff_version: u64,
        staff: &[String],
    ) -> Result<bool, StoreError> {
        let version = i64::try_from(staff_version)
            .map_err(|_| corrupt(format!("staff version {staff_version}")))?;
        // Matches only an older stored list; with none stored the upsert inserts, and with a
        // newer or equal one the insert collides with its `_id`.
        let stored = self
            .staff
            .update_one(
                doc! {"_id": event_id.to_string(), "version": {"$lt": version}},
                doc! {"$set": {"version": version, "staff": staff}},
            )
            .upsert(true)
            .await;
        match stored {
            Ok(r) => Ok(r.matched_count == 1 || r.upserted_id.is_some()),
            Err(e) if is_duplicate_key(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn event_staff(&self, event_id: Uuid) -> Result<Vec<String>, StoreError> {
        Ok(self
            .staff
            .find_one(doc! {"_id": event_id.to_string()})
            .await?
            .map(|d| d.staff)
            .unwrap_or_default())
    }

    async fn scan(&self, scan: &Scan) -> Result<Scanned, StoreError> {
        let result = self
            .db
            .tx()
            .run_or_stop_with(self, scan, |store, s, scan| {
                Box::pin(store.check_in_in(s, scan))
            })
            .await?;
        match result {
            Ok(answer) => Ok(Scanned::Decided(answer)),
            Err(Replayed(Some(answer))) => Ok(Scanned::Replayed(answer)),
            // A concurrent scan with the same nonce committed first: its answer is the one.
            Err(Replayed(None)) => {
                let stored = self
                    .scans
                    .find_one(doc! {"_id": scan_id(scan.event_id, &scan.nonce)})
                    .await?
                    .ok_or_else(|| corrupt("a scan's nonce vanished"))?;
                Ok(Scanned::Replayed(answer_of(&stored)?))
            }
        }
    }

    async fn purge_bookkeeping(
        &self,
        processed_before: DateTime<Utc>,
        keys_before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let processed = self
            .processed
            .delete_many(doc! {"at": {"$lt": to_bson_time(processed_before)}})
            .await?;
        let keys = self
            .keys
            .delete_many(doc! {"createdAt": {"$lt": to_bson_time(keys_before)}})
            .await?;
        let scans = self
            .scans
            .delete_many(doc! {"at": {"$lt": to_bson_time(processed_before)}})
            .await?;
        Ok(processed.deleted_count + keys.deleted_count + scans.deleted_count)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await
    }
}
