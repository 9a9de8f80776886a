use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use platform::StoreError;
use platform::money::{Currency, Money};
use platform::outbox::{OutboxMessage, OutboxStore, SQLITE_DDL, SqliteOutbox, insert_sqlite};
use platform::sqlite::{
    Cached, Changes, Migrated, RowExt, Schema, bad_column, millis, row_by_id, rows,
};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    BookResult, Booking, Command, DoorTicket, Draft, EventInfo, EventStatus, EventStock,
    EventTicket, OrderPage, OrderQuery, Placed, RefundPolicy, Sale, Scan, Stock, StoredKey,
    StoredResponse, TicketCheckin, TicketStore, Transition,
};
use crate::checkin::{self, CheckinWrite, ScanTarget, Scanned};
use crate::lifecycle::{self, Decision, OrderUpdate, StockChange};
use crate::order::{
    AttemptStatus, CancelReason, IssuedTicket, Order, OrderDetails, OrderLine, OrderStatus,
    PaymentAttempt, Refund,
};
use api_types::checkin::{CheckinCounter, CheckinResponse};

mod waitlist;

const SCHEMA: &str = r#"
CREATE TABLE events (
    id         TEXT PRIMARY KEY,
    title      TEXT NOT NULL,
    date_time  INTEGER NOT NULL,
    status     TEXT NOT NULL,
    version    INTEGER NOT NULL,
    currency   TEXT NOT NULL
);
-- The CHECK is the last line of defence of the invariant; the conditional updates keep it.
CREATE TABLE inventory (
    event_id    TEXT NOT NULL,
    ticket_type TEXT NOT NULL,
    position    INTEGER NOT NULL,
    price       INTEGER NOT NULL,
    capacity    INTEGER NOT NULL,
    sold        INTEGER NOT NULL DEFAULT 0,
    held        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (event_id, ticket_type),
    CHECK (sold >= 0 AND held >= 0 AND sold + held <= capacity)
);
CREATE TABLE orders (
    id                TEXT PRIMARY KEY,
    user_id           TEXT NOT NULL,
    event_id          TEXT NOT NULL,
    event_title       TEXT NOT NULL,
    event_date_time   INTEGER NOT NULL,
    booking_reference TEXT NOT NULL UNIQUE,
    status            TEXT NOT NULL,
    cancel_reason     TEXT,
    lines             TEXT NOT NULL,
    total_amount      INTEGER NOT NULL,
    currency          TEXT NOT NULL,
    customer          TEXT NOT NULL,
    payment_id        TEXT,
    failed_payments   INTEGER NOT NULL DEFAULT 0,
    expires_at        INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX orders_by_user ON orders(user_id, created_at);
CREATE INDEX orders_pending_by_expiry ON orders(expires_at) WHERE status = 'pending';
CREATE INDEX orders_by_event ON orders(event_id, status);
CREATE TABLE tickets (
    code        TEXT PRIMARY KEY,
    order_id    TEXT NOT NULL REFERENCES orders(id),
    ticket_type TEXT NOT NULL,
    seq         INTEGER NOT NULL
);
CREATE INDEX tickets_by_order ON tickets(order_id, seq);
CREATE TABLE payment_attempts (
    payment_id       TEXT NOT NULL,
    order_id         TEXT NOT NULL REFERENCES orders(id),
    status           TEXT NOT NULL,
    response_code    TEXT,
    response_message TEXT,
    at               INTEGER NOT NULL,
    PRIMARY KEY (payment_id, status)
);
CREATE INDEX payment_attempts_by_order ON payment_attempts(order_id, at);
-- Ids of consumed events whose effect is not naturally idempotent.
CREATE TABLE processed_events (
    id TEXT PRIMARY KEY,
    at INTEGER NOT NULL
);
CREATE TABLE idempotency_keys (
    user_id      TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    body         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);
"#;

/// After the sale: who organizes an event and its refund policy; when an order was paid,
/// cancelled and refunded; void tickets; what a back-office search looks in. Rows of an older
/// file get what can be known: the confirming or cancelling time was the last update, and the
/// search text is lower-cased by SQLite (ASCII only; new rows by the service, fully).
const AFTER_THE_SALE: &str = r#"
ALTER TABLE events ADD COLUMN organizer_id TEXT;
ALTER TABLE events ADD COLUMN refund_allowed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN refund_until_hours_before INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN paid_at INTEGER;
ALTER TABLE orders ADD COLUMN cancelled_at INTEGER;
ALTER TABLE orders ADD COLUMN refund_amount INTEGER;
ALTER TABLE orders ADD COLUMN refunded_at INTEGER;
ALTER TABLE orders ADD COLUMN refund_reason TEXT;
ALTER TABLE orders ADD COLUMN search TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN void INTEGER NOT NULL DEFAULT 0;
UPDATE orders SET paid_at = updated_at WHERE status = 'confirmed';
UPDATE orders SET cancelled_at = updated_at WHERE status = 'cancelled';
UPDATE orders SET search = lower(
    json_extract(customer, '$.firstName') || ' ' || json_extract(customer, '$.lastName')
    || char(10) || json_extract(customer, '$.email') || char(10) || booking_reference);
CREATE INDEX orders_by_event_created ON orders(event_id, created_at);
CREATE INDEX events_by_status ON events(status);
"#;

/// Check-in at the door: each event's signing keys, its check-in staff (as the catalogue says),
/// each ticket's check-in (`first_at` keeps the earliest scan) and every scan's nonce with the
/// answer it got, so a re-uploaded scan replays it.
const CHECK_IN: &str = r#"
CREATE TABLE event_keys (
    event_id   TEXT NOT NULL,
    version    INTEGER NOT NULL,
    secret     BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (event_id, version)
);
CREATE TABLE event_staff (
    event_id TEXT PRIMARY KEY,
    version  INTEGER NOT NULL,
    staff    TEXT NOT NULL
);
CREATE TABLE checkins (
    code       TEXT PRIMARY KEY REFERENCES tickets(code),
    event_id   TEXT NOT NULL,
    first_at   INTEGER NOT NULL,
    first_gate TEXT,
    inside     INTEGER NOT NULL
);
CREATE INDEX checkins_by_event ON checkins(event_id);
CREATE TABLE checkin_scans (
    event_id TEXT NOT NULL,
    nonce    TEXT NOT NULL,
    answer   TEXT NOT NULL,
    at       INTEGER NOT NULL,
    PRIMARY KEY (event_id, nonce)
);
"#;

/// The ticket service's tables. Migrations are only ever appended: a file opened by any
/// release is moved forward from the version it records.
pub enum TicketSchema {}

impl Schema for TicketSchema {
    const MIGRATIONS: &'static [&'static str] = &[
        SCHEMA,
        SQLITE_DDL,
        AFTER_THE_SALE,
        CHECK_IN,
        waitlist::SCHEMA,
        waitlist::SWITCH,
    ];
}

pub type SqliteStore = Migrated<TicketSchema>;

/// An order line as the `lines` column keeps it: JSON, amounts in minor units of the order's
/// currency.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineRow {
    ticket_type: String,
    quantity: u32,
    unit_price: i64,
    subtotal: i64,
}

fn lines_json(lines: &[OrderLine]) -> Result<String, StoreError> {
    let rows: Vec<LineRow> = lines
        .iter()
        .map(|l| LineRow {
            ticket_type: l.ticket_type.clone(),
            quantity: l.quantity,
            unit_price: l.unit_price.minor_units(),
            subtotal: l.subtotal.minor_units(),
        })
        .collect();
    serde_json::to_string(&rows).map_err(StoreError::backend)
}

fn lines_from(rows: Vec<LineRow>, currency: Currency) -> Vec<OrderLine> {
    rows.into_iter()
        .map(|r| OrderLine {
            ticket_type: r.ticket_type,
            quantity: r.quantity,
            unit_price: Money::from_minor_units(r.unit_price, currency),
            subtotal: Money::from_minor_units(r.subtotal, currency),
        })
        .collect()
}

const ORDER_COLUMNS: &str = "id, user_id, event_id, event_title, event_date_time, booking_reference, status, \
     cancel_reason, lines, total_amount, currency, customer, payment_id, failed_payments, expires_at, \
     created_at, updated_at, paid_at, cancelled_at, refund_amount, refunded_at, refund_reason";

/// A cancel reason column, `NULL` for none.
fn cancel_reason(r: &Row<'_>, col: usize) -> rusqlite::Result<Option<CancelReason>> {
    match r.get::<_, Option<String>>(col)? {
        Some(_) => r.parsed(col, CancelReason::parse).map(Some),
        None => Ok(None),
    }
}

fn order_from(r: &Row<'_>) -> rusqlite::Result<Order> {
    let currency = r.currency(10)?;
    let refund = match (
        r.get::<_, Option<i64>>(19)?,
        r.opt_time(20)?,
        cancel_reason(r, 21)?,
    ) {
        (Some(amount), Some(refunded_at), Some(reason)) => Some(Refund {
            amount: Money::from_minor_units(amount, currency),
            refunded_at,
            reason,
        }),
        _ => None,
    };
    Ok(Order {
        id: r.uuid(0)?,
        user_id: r.uuid(1)?,
        event_id: r.uuid(2)?,
        event_title: r.get(3)?,
        event_date_time: r.time(4)?,
        booking_reference: r.get(5)?,
        status: r.parsed(6, OrderStatus::parse)?,
        cancel_reason: cancel_reason(r, 7)?,
        lines: lines_from(r.json(8)?, currency),
        total_amount: r.money(9, 10)?,
        customer: r.json(11)?,
        payment_id: r.opt_uuid(12)?,
        failed_payments: r.get(13)?,
        expires_at: r.time(14)?,
        created_at: r.time(15)?,
        updated_at: r.time(16)?,
        paid_at: r.opt_time(17)?,
        cancelled_at: r.opt_time(18)?,
        refund,
    })
}

/// The ids in the first column of `sql`'s rows: the sweeps' work lists.
fn ids<P: rusqlite::Params>(c: &Connection, sql: &str, params: P) -> rusqlite::Result<Vec<Uuid>> {
    rows(c, sql, params, |r| r.uuid(0))
}

fn load_order(c: &Connection, id: Uuid) -> rusqlite::Result<Option<Order>> {
    row_by_id(
        c,
        &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1"),
        id,
        order_from,
    )
}

fn insert_order(tx: &Connection, o: &Order) -> Result<(), StoreError> {
    tx.execute_cached(
        &format!(
            "INSERT INTO orders ({ORDER_COLUMNS}, search)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                     ?18, ?19, ?20, ?21, ?22, ?23)"
        ),
        params![
            o.id.to_string(),
            o.user_id.to_string(),
            o.event_id.to_string(),
            o.event_title,
            millis(o.event_date_time),
            o.booking_reference,
            o.status.as_str(),
            o.cancel_reason.map(CancelReason::as_str),
            lines_json(&o.lines)?,
            o.total_amount.minor_units(),
            o.currency().as_str(),
            serde_json::to_string(&o.customer).map_err(StoreError::backend)?,
            o.payment_id.map(|p| p.to_string()),
            o.failed_payments,
            millis(o.expires_at),
            millis(o.created_at),
            millis(o.updated_at),
            o.paid_at.map(millis),
            o.cancelled_at.map(millis),
            o.refund.as_ref().map(|r| r.amount.minor_units()),
            o.refund.as_ref().map(|r| millis(r.refunded_at)),
            o.refund.as_ref().map(|r| r.reason.as_str()),
            crate::sales::search_text(o),
        ],
    )?;
    Ok(())
}

/// Writes what changes in an order's life, only while it still has the status it was read in.
/// A single connection serialises transactions, so a miss means corrupt data.
fn update_order(tx: &Connection, update: &OrderUpdate) -> Result<(), StoreError> {
    let o = &update.order;
    let changed = tx.execute_cached(
        "UPDATE orders SET status = ?2, cancel_reason = ?3, payment_id = ?4, failed_payments = ?5,
         updated_at = ?6, paid_at = ?8, cancelled_at = ?9, refund_amount = ?10, refunded_at = ?11,
         refund_reason = ?12
         WHERE id = ?1 AND status = ?7",
        params![
            o.id.to_string(),
            o.status.as_str(),
            o.cancel_reason.map(CancelReason::as_str),
            o.payment_id.map(|p| p.to_string()),
            o.failed_payments,
            millis(o.updated_at),
            update.from.as_str(),
            o.paid_at.map(millis),
            o.cancelled_at.map(millis),
            o.refund.as_ref().map(|r| r.amount.minor_units()),
            o.refund.as_ref().map(|r| millis(r.refunded_at)),
            o.refund.as_ref().map(|r| r.reason.as_str()),
        ],
    )?;
    if changed != 1 {
        return Err(StoreError::corrupt(format!(
            "order {} changed inside a transaction",
            o.id
        )));
    }
    Ok(())
}

/// Moves seats of one ticket type, only if the result keeps `0 <= held`, `0 <= sold` and
/// `sold + held <= capacity`: a booking's whole reservation of a line is this one conditional
/// update. False when the condition failed (or there is no such stock).
fn change_stock(tx: &Connection, c: &StockChange) -> rusqlite::Result<bool> {
    let changed = tx.execute_cached(
        "UPDATE inventory SET held = held + ?3, sold = sold + ?4
         WHERE event_id = ?1 AND ticket_type = ?2
           AND held + ?3 >= 0 AND sold + ?4 >= 0 AND capacity - sold - held >= ?3 + ?4",
        params![c.event_id.to_string(), c.ticket_type, c.held, c.sold],
    )?;
    Ok(changed == 1)
}

fn insert_facts(tx: &Connection, facts: &[OutboxMessage]) -> Result<(), StoreError> {
    for fact in facts {
        insert_sqlite(tx, fact)?;
    }
    Ok(())
}

/// Records `id` as processed; false when it was already.
fn first_time(tx: &Connection, id: Uuid) -> rusqlite::Result<bool> {
    let n = tx.execute_cached(
        "INSERT OR IGNORE INTO processed_events (id, at) VALUES (?1, ?2)",
        params![id.to_string(), millis(platform::time::now())],
    )?;
    Ok(n == 1)
}

/// Reads the order, decides `command` on it and writes the decision, inside `tx`.
fn apply_in(
    tx: &Connection,
    order_id: Uuid,
    command: &Command,
    traceparent: Option<&str>,
) -> Result<Transition, StoreError> {
    let order = load_order(tx, order_id)?;
    let decision = lifecycle::decide(order, command, platform::time::now(), traceparent);
    write(tx, order_id, &decision)?;
    Ok(decision.transition)
}

/// Writes a lifecycle decision on `order_id`.
fn write(tx: &Connection, order_id: Uuid, d: &Decision) -> Result<(), StoreError> {
    if let Some(update) = &d.update {
        update_order(tx, update)?;
    }
    for c in &d.stock {
        if !change_stock(tx, c)? {
            return Err(StoreError::corrupt(format!(
                "stock {} / {} cannot take {c:?} for order {order_id}",
                c.event_id, c.ticket_type
            )));
        }
    }
    for (seq, ticket) in d.tickets.iter().enumerate() {
        tx.execute_cached(
            "INSERT INTO tickets (code, order_id, ticket_type, seq) VALUES (?1, ?2, ?3, ?4)",
            params![
                ticket.code,
                order_id.to_string(),
                ticket.ticket_type,
                seq as i64
            ],
        )?;
    }
    if d.void_tickets {
        tx.execute_cached(
            "UPDATE tickets SET void = 1 WHERE order_id = ?1",
            [order_id.to_string()],
        )?;
    }
    if let Some(a) = &d.attempt {
        tx.execute_cached(
            "INSERT OR IGNORE INTO payment_attempts (payment_id, order_id, status, response_code, response_message, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                a.payment_id.to_string(),
                order_id.to_string(),
                a.status.as_str(),
                a.response_code,
                a.response_message,
                millis(a.at)
            ],
        )?;
    }
    insert_facts(tx, &d.facts)?;
    // Seats given back go to the waitlist first, before anyone else can book them.
    waitlist::offer_freed(tx, &d.stock)
}

fn stored_response(r: &Row<'_>) -> rusqlite::Result<StoredResponse> {
    Ok(StoredResponse {
        request_hash: r.get(0)?,
        status: r.get(1)?,
        body: r.get(2)?,
    })
}

fn idempotent_response(
    c: &Connection,
    user_id: Uuid,
    key: &str,
) -> rusqlite::Result<Option<StoredResponse>> {
    c.query_row_cached(
        "SELECT request_hash, status, body FROM idempotency_keys WHERE user_id = ?1 AND key = ?2",
        params![user_id.to_string(), key],
        stored_response,
    )
    .optional()
}

fn book_in(tx: &Connection, booking: &Booking) -> Result<BookResult, StoreError> {
    if let Some(idem) = &booking.idempotency
        && let Some(stored) = idempotent_response(tx, idem.user_id, &idem.key)?
    {
        return Ok(BookResult::KeyUsed(stored));
    }
    let placed = lifecycle::place(&booking.order, booking.traceparent.as_deref());
    let order = &placed.order;
    let event_id = order.event_id.to_string();
    let status: Option<String> = tx
        .query_row_cached(
            "SELECT status FROM events WHERE id = ?1",
            [&event_id],
            |r| r.get(0),
        )
        .optional()?;
    if !status
        .as_deref()
        .and_then(EventStatus::parse)
        .is_some_and(EventStatus::is_on_sale)
    {
        return Ok(BookResult::EventClosed);
    }
    for hold in &placed.stock {
        if !change_stock(tx, hold)? {
            let available: u32 = tx
                .query_row_cached(
                    "SELECT capacity - sold - held FROM inventory WHERE event_id = ?1 AND ticket_type = ?2",
                    params![event_id, hold.ticket_type],
                    |r| r.get(0),
                )
                .optional()?
                .unwrap_or(0);
            // The caller drops the transaction, which rolls back the lines already held.
            return Ok(BookResult::SoldOut {
                ticket_type: hold.ticket_type.clone(),
                available,
            });
        }
    }
    if let Err(e) = insert_order(tx, order) {
        return match e {
            StoreError::Duplicate(_) => Ok(BookResult::ReferenceTaken),
            other => Err(other),
        };
    }
    insert_facts(tx, &placed.facts)?;
    if let Some(idem) = &booking.idempotency {
        tx.execute_cached(
            "INSERT INTO idempotency_keys (user_id, key, request_hash, status, body, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                idem.user_id.to_string(),
                idem.key,
                idem.response.request_hash,
                idem.response.status,
                idem.response.body,
                millis(order.created_at)
            ],
        )?;
    }
    Ok(BookResult::Booked)
}

/// A check-in from the three `checkins` columns starting at `col` (all `NULL`: none).
fn check_in_from(r: &Row<'_>, col: usize) -> rusqlite::Result<Option<TicketCheckin>> {
    Ok(match r.opt_time(col)? {
        Some(first_at) => Some(TicketCheckin {
            first_at,
            first_gate: r.get(col + 1)?,
            inside: r.get(col + 2)?,
        }),
        None => None,
    })
}

fn door_ticket(c: &Connection, code: &str) -> rusqlite::Result<Option<DoorTicket>> {
    c.query_row_cached(
        "SELECT t.code, o.event_id, o.id, t.ticket_type, t.void, o.status, o.customer,
                c.first_at, c.first_gate, c.inside
         FROM tickets t JOIN orders o ON o.id = t.order_id LEFT JOIN checkins c ON c.code = t.code
         WHERE t.code = ?1",
        [code],
        |r| {
            let holder: crate::order::CustomerInfo = r.json(6)?;
            Ok(DoorTicket {
                code: r.get(0)?,
                event_id: r.uuid(1)?,
                order_id: r.uuid(2)?,
                ticket_type: r.get(3)?,
                void: r.get(4)?,
                order_status: r.parsed(5, OrderStatus::parse)?,
                holder_name: holder.full_name(),
                check_in: check_in_from(r, 7)?,
            })
        },
    )
    .optional()
}

/// Tickets of the event that entered, and seats sold.
fn counter(c: &Connection, event_id: Uuid) -> rusqlite::Result<CheckinCounter> {
    c.query_row_cached(
        "SELECT (SELECT count(*) FROM checkins WHERE event_id = ?1),
                (SELECT coalesce(sum(sold), 0) FROM inventory WHERE event_id = ?1)",
        [event_id.to_string()],
        |r| {
            Ok(CheckinCounter {
                checked_in: r.get(0)?,
                sold: r.get(1)?,
            })
        },
    )
}

/// Writes a check-in decision, each change conditional on the state it was decided on; false
/// when the condition missed.
fn write_checkin(tx: &Connection, w: &CheckinWrite) -> rusqlite::Result<bool> {
    let changed = match w {
        CheckinWrite::FirstEntry {
            code,
            event_id,
            at,
            gate,
        } => tx.execute_cached(
            "INSERT OR IGNORE INTO checkins (code, event_id, first_at, first_gate, inside)
             VALUES (?1, ?2, ?3, ?4, 1)",
            params![code, event_id.to_string(), millis(*at), gate],
        )?,
        CheckinWrite::Reentry { code } => tx.execute_cached(
            "UPDATE checkins SET inside = 1 WHERE code = ?1 AND inside = 0",
            [code],
        )?,
        CheckinWrite::Exit { code } => tx.execute_cached(
            "UPDATE checkins SET inside = 0 WHERE code = ?1 AND inside = 1",
            [code],
        )?,
        CheckinWrite::Earlier { code, at, gate } => tx.execute_cached(
            "UPDATE checkins SET first_at = ?2, first_gate = ?3 WHERE code = ?1 AND first_at > ?2",
            params![code, millis(*at), gate],
        )?,
    };
    Ok(changed == 1)
}

fn check_in_in(tx: &Connection, scan: &Scan) -> Result<Scanned, StoreError> {
    let event_id = scan.event_id.to_string();
    let replayed: Option<CheckinResponse> = tx
        .query_row_cached(
            "SELECT answer FROM checkin_scans WHERE event_id = ?1 AND nonce = ?2",
            params![event_id, scan.nonce],
            |r| r.json(0),
        )
        .optional()?;
    if let Some(answer) = replayed {
        return Ok(Scanned::Replayed(answer));
    }
    let ticket = match &scan.target {
        ScanTarget::Code(code) => door_ticket(tx, code)?,
        ScanTarget::Refused(_) => None,
    };
    let decision = checkin::decide(scan, ticket.as_ref(), counter(tx, scan.event_id)?);
    if let Some(w) = &decision.write
        && !write_checkin(tx, w)?
    {
        return Err(StoreError::corrupt(format!(
            "check-in {w:?} missed inside its transaction"
        )));
    }
    insert_facts(tx, &decision.facts)?;
    tx.execute_cached(
        "INSERT INTO checkin_scans (event_id, nonce, answer, at) VALUES (?1, ?2, ?3, ?4)",
        params![
            event_id,
            scan.nonce,
            serde_json::to_string(&decision.response).map_err(StoreError::backend)?,
            millis(platform::time::now())
        ],
    )?;
    Ok(Scanned::Decided(decision.response))
}

fn event_keys(c: &Connection, event_id: Uuid) -> rusqlite::Result<Vec<StoredKey>> {
    rows(
        c,
        "SELECT version, secret FROM event_keys WHERE event_id = ?1 ORDER BY version",
        [event_id.to_string()],
        |r| {
            let secret: Vec<u8> = r.get(1)?;
            Ok(StoredKey {
                version: r.get(0)?,
                secret: secret
                    .try_into()
                    .map_err(|_| bad_column(1, "a key secret is 32 bytes".to_string()))?,
            })
        },
    )
}

/// The event with its stock, as stored.
fn event_stock(c: &Connection, event_id: Uuid) -> Result<Option<EventStock>, StoreError> {
    let event = row_by_id(
        c,
        "SELECT title, date_time, status, version, currency, organizer_id,
                    refund_allowed, refund_until_hours_before, waitlist_enabled
             FROM events WHERE id = ?1",
        event_id,
        |r| {
            Ok(EventInfo {
                id: event_id,
                title: r.get(0)?,
                date_time: r.time(1)?,
                status: r.parsed(2, EventStatus::parse)?,
                version: r.get::<_, i64>(3)? as u64,
                currency: r.currency(4)?,
                ticket_types: Vec::new(),
                organizer_id: r.opt_uuid(5)?,
                refund_policy: RefundPolicy {
                    allowed: r.get(6)?,
                    until_hours_before: r.get(7)?,
                },
                waitlist_enabled: r.get(8)?,
            })
        },
    )?;
    let Some(event) = event else {
        return Ok(None);
    };
    let stock = rows(
        c,
        "SELECT ticket_type, price, capacity, sold, held FROM inventory
         WHERE event_id = ?1 ORDER BY position",
        [event_id.to_string()],
        |r| {
            Ok(Stock {
                ticket_type: r.get(0)?,
                price: Money::from_minor_units(r.get(1)?, event.currency),
                capacity: r.get(2)?,
                sold: r.get(3)?,
                held: r.get(4)?,
            })
        },
    )?;
    Ok(Some(EventStock::from_stock(event, stock)))
}

/// A booking's changes are kept only when it booked: otherwise the lines already held go.
fn kept_if_booked<R>(result: BookResult, answer: impl FnOnce(BookResult) -> R) -> Changes<R> {
    if result == BookResult::Booked {
        Changes::Keep(answer(result))
    } else {
        Changes::Undo(answer(result))
    }
}

#[async_trait]
impl TicketStore for SqliteStore {
    async fn event_stock(&self, event_id: Uuid) -> Result<Option<EventStock>, StoreError> {
        self.db.read(move |c| event_stock(c, event_id)).await
    }

    async fn apply_event(&self, info: &EventInfo) -> Result<bool, StoreError> {
        let info = info.clone();
        self.db
            .write(move |tx| {
                let id = info.id.to_string();
                let stored: Option<i64> = tx
                    .query_row_cached("SELECT version FROM events WHERE id = ?1", [&id], |r| r.get(0))
                    .optional()?;
                if stored.is_some_and(|v| v as u64 >= info.version) {
                    return Ok(Changes::Undo(false));
                }
                tx.execute_cached(
                    "INSERT INTO events (id, title, date_time, status, version, currency, organizer_id,
                                         refund_allowed, refund_until_hours_before, waitlist_enabled)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                     ON CONFLICT (id) DO UPDATE SET title = ?2, date_time = ?3, status = ?4, version = ?5,
                        currency = ?6, organizer_id = COALESCE(?7, organizer_id), refund_allowed = ?8,
                        refund_until_hours_before = ?9, waitlist_enabled = ?10",
                    params![
                        id,
                        info.title,
                        millis(info.date_time),
                        info.status.as_str(),
                        info.version as i64,
                        info.currency.as_str(),
                        info.organizer_id.map(|o| o.to_string()),
                        info.refund_policy.allowed,
                        info.refund_policy.until_hours_before,
                        info.waitlist_enabled,
                    ],
                )?;
                for (position, t) in info.ticket_types.iter().enumerate() {
                    tx.execute_cached(
                        "INSERT INTO inventory (event_id, ticket_type, position, price, capacity) VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (event_id, ticket_type) DO UPDATE
                         SET position = ?3, price = ?4, capacity = MAX(capacity, ?5)",
                        params![id, t.name, position as i64, t.price.minor_units(), t.quantity],
                    )?;
                }
                Ok(Changes::Keep(true))
            })
            .await
    }

    async fn book(&self, booking: &Booking) -> Result<BookResult, StoreError> {
        let booking = booking.clone();
        self.db
            .write(move |c| Ok(kept_if_booked(book_in(c, &booking)?, |r| r)))
            .await
    }

    async fn place(
        &self,
        event_id: Uuid,
        key: Option<(Uuid, &str)>,
        draft: Draft,
    ) -> Result<Placed, StoreError> {
        let key = key.map(|(user_id, key)| (user_id, key.to_string()));
        self.db
            .write(move |c| {
                if let Some((user_id, key)) = &key
                    && let Some(stored) = idempotent_response(c, *user_id, key)?
                {
                    return Ok(Changes::Undo(Placed::KeyUsed(stored)));
                }
                let Some(stock) = event_stock(c, event_id)? else {
                    return Ok(Changes::Undo(Placed::UnknownEvent));
                };
                let booking = match draft(&stock) {
                    Ok(booking) => booking,
                    Err(refused) => return Ok(Changes::Undo(Placed::Refused(refused))),
                };
                let result = book_in(c, &booking)?;
                Ok(kept_if_booked(result, |result| {
                    Placed::Tried(Box::new(booking), result)
                }))
            })
            .await
    }

    async fn idempotent_response(
        &self,
        user_id: Uuid,
        key: &str,
    ) -> Result<Option<StoredResponse>, StoreError> {
        let key = key.to_string();
        self.db
            .read(move |c| Ok(idempotent_response(c, user_id, &key)?))
            .await
    }

    async fn order(&self, id: Uuid) -> Result<Option<OrderDetails>, StoreError> {
        self.db
            .read(move |c| {
                let Some(order) = load_order(c, id)? else {
                    return Ok(None);
                };
                let attempts = rows(
                    c,
                    "SELECT payment_id, status, response_code, response_message, at FROM payment_attempts
                     WHERE order_id = ?1 ORDER BY at, status",
                    [id.to_string()],
                    |r| {
                        Ok(PaymentAttempt {
                            payment_id: r.uuid(0)?,
                            status: r.parsed(1, AttemptStatus::parse)?,
                            response_code: r.get(2)?,
                            response_message: r.get(3)?,
                            at: r.time(4)?,
                        })
                    },
                )?;
                let tickets = rows(
                    c,
                    "SELECT code, ticket_type, void FROM tickets WHERE order_id = ?1 ORDER BY seq",
                    [id.to_string()],
                    |r| {
                        Ok(IssuedTicket { code: r.get(0)?, ticket_type: r.get(1)?, void: r.get(2)?, signed_code: None })
                    },
                )?;
                Ok(Some(OrderDetails { order, attempts, tickets }))
            })
            .await
    }

    async fn orders_of_user(&self, user_id: Uuid) -> Result<Vec<Order>, StoreError> {
        self.db
            .read(move |c| {
                Ok(rows(
                    c,
                    &format!(
                        "SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = ?1 ORDER BY created_at DESC, id DESC"
                    ),
                    [user_id.to_string()],
                    order_from,
                )?)
            })
            .await
    }

    async fn apply(
        &self,
        order_id: Uuid,
        command: &Command,
        message: Option<Uuid>,
        traceparent: Option<&str>,
    ) -> Result<Transition, StoreError> {
        let command = command.clone();
        let traceparent = traceparent.map(str::to_string);
        self.db
            .write(move |tx| {
                if let Some(id) = message
                    && !first_time(tx, id)?
                {
                    return Ok(Changes::Undo(Transition::Duplicate));
                }
                let transition = apply_in(tx, order_id, &command, traceparent.as_deref())?;
                Ok(Changes::Keep(transition))
            })
            .await
    }

    async fn apply_batch(
        &self,
        order_ids: &[Uuid],
        command: &Command,
        traceparent: Option<&str>,
    ) -> Result<Vec<Transition>, StoreError> {
        let order_ids = order_ids.to_vec();
        let command = command.clone();
        let traceparent = traceparent.map(str::to_string);
        self.db
            .write(move |tx| {
                let transitions = order_ids
                    .iter()
                    .map(|&id| apply_in(tx, id, &command, traceparent.as_deref()))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Changes::Keep(transitions))
            })
            .await
    }

    async fn due_for_expiry(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Uuid>, StoreError> {
        self.db
            .read(move |c| {
                Ok(ids(
                    c,
                    "SELECT id FROM orders WHERE status = 'pending' AND expires_at <= ?1 ORDER BY expires_at LIMIT ?2",
                    params![millis(now), limit as i64],
                )?)
            })
            .await
    }

    async fn orders_to_cascade(&self, limit: usize) -> Result<Vec<Uuid>, StoreError> {
        self.db
            .read(move |c| {
                Ok(ids(
                    c,
                    "SELECT o.id FROM events e JOIN orders o ON o.event_id = e.id
                     WHERE e.status = 'cancelled' AND o.status IN ('pending', 'confirmed')
                     LIMIT ?1",
                    [limit as i64],
                )?)
            })
            .await
    }

    async fn orders_of_event(
        &self,
        event_id: Uuid,
        query: &OrderQuery,
    ) -> Result<OrderPage, StoreError> {
        let query = query.clone();
        self.db
            .read(move |c| {
                // The filter of `OrderQuery::matches`; a missing status or search matches all.
                let filter = "event_id = ?1 AND (?2 IS NULL OR status = ?2)
                              AND (?3 IS NULL OR instr(search, ?3) > 0)";
                let (id, status) = (event_id.to_string(), query.status.map(OrderStatus::as_str));
                let total: i64 = c.query_row_cached(
                    &format!("SELECT count(*) FROM orders WHERE {filter}"),
                    params![id, status, query.search],
                    |r| r.get(0),
                )?;
                let orders = rows(
                    c,
                    &format!(
                        "SELECT {ORDER_COLUMNS} FROM orders WHERE {filter}
                     ORDER BY created_at DESC, id DESC LIMIT ?4 OFFSET ?5"
                    ),
                    params![
                        id,
                        status,
                        query.search,
                        query.limit,
                        i64::try_from(query.offset()).unwrap_or(i64::MAX),
                    ],
                    order_from,
                )?;
                Ok(OrderPage {
                    orders,
                    total: total as u64,
                })
            })
            .await
    }

    async fn tickets_of_event(&self, event_id: Uuid) -> Result<Vec<EventTicket>, StoreError> {
        self.db
            .read(move |c| {
                let tickets = rows(
                    c,
                    "SELECT t.code, t.ticket_type, t.void, o.id, o.booking_reference, o.status, o.customer,
                            c.first_at, c.first_gate, c.inside
                     FROM orders o JOIN tickets t ON t.order_id = o.id
                     LEFT JOIN checkins c ON c.code = t.code
                     WHERE o.event_id = ?1 ORDER BY o.created_at, o.id, t.seq",
                    [event_id.to_string()],
                    |r| {
                        Ok(EventTicket {
                            code: r.get(0)?,
                            ticket_type: r.get(1)?,
                            void: r.get(2)?,
                            order_id: r.uuid(3)?,
                            booking_reference: r.get(4)?,
                            order_status: r.parsed(5, OrderStatus::parse)?,
                            holder: r.json(6)?,
                            check_in: check_in_from(r, 7)?,
                        })
                    },
                )?;
                Ok(tickets)
            })
            .await
    }

    async fn sales_of_event(&self, event_id: Uuid) -> Result<Vec<Sale>, StoreError> {
        self.db
            .read(move |c| {
                let sales = rows(
                    c,
                    "SELECT status, total_amount, currency, lines, paid_at, refund_amount
                     FROM orders WHERE event_id = ?1",
                    [event_id.to_string()],
                    |r| {
                        let currency = r.currency(2)?;
                        let lines: Vec<LineRow> = r.json(3)?;
                        Ok(Sale {
                            status: r.parsed(0, OrderStatus::parse)?,
                            total: r.money(1, 2)?,
                            tickets: lines.iter().map(|l| l.quantity).sum(),
                            paid_at: r.opt_time(4)?,
                            refunded: r
                                .get::<_, Option<i64>>(5)?
                                .map(|m| Money::from_minor_units(m, currency)),
                        })
                    },
                )?;
                Ok(sales)
            })
            .await
    }

    async fn event_keys(&self, event_id: Uuid) -> Result<Vec<StoredKey>, StoreError> {
        self.db.read(move |c| Ok(event_keys(c, event_id)?)).await
    }

    async fn ensure_event_key(
        &self,
        event_id: Uuid,
        secret: [u8; 32],
    ) -> Result<Vec<StoredKey>, StoreError> {
        self.db
            .call(move |c| {
                // Version 1 exists once per event: a second insert is ignored by the key.
                c.execute_cached(
                    "INSERT OR IGNORE INTO event_keys (event_id, version, secret, created_at)
                     VALUES (?1, 1, ?2, ?3)",
                    params![
                        event_id.to_string(),
                        secret.as_slice(),
                        millis(platform::time::now())
                    ],
                )?;
                Ok(event_keys(c, event_id)?)
            })
            .await
    }

    async fn apply_staff(
        &self,
        event_id: Uuid,
        staff_version: u64,
        staff: &[String],
    ) -> Result<bool, StoreError> {
        let staff = serde_json::to_string(staff).map_err(StoreError::backend)?;
        let version = i64::try_from(staff_version).map_err(StoreError::backend)?;
        self.db
            .call(move |c| {
                let changed = c.execute_cached(
                    "INSERT INTO event_staff (event_id, version, staff) VALUES (?1, ?2, ?3)
                     ON CONFLICT (event_id) DO UPDATE SET version = ?2, staff = ?3
                     WHERE event_staff.version < ?2",
                    params![event_id.to_string(), version, staff],
                )?;
                Ok(changed == 1)
            })
            .await
    }

    async fn event_staff(&self, event_id: Uuid) -> Result<Vec<String>, StoreError> {
        self.db
            .read(move |c| {
                let staff: Option<Vec<String>> = c
                    .query_row_cached(
                        "SELECT staff FROM event_staff WHERE event_id = ?1",
                        [event_id.to_string()],
                        |r| r.json(0),
                    )
                    .optional()?;
                Ok(staff.unwrap_or_default())
            })
            .await
    }

    async fn scan(&self, scan: &Scan) -> Result<Scanned, StoreError> {
        let scan = scan.clone();
        self.db
            .write(move |tx| Ok(Changes::Keep(check_in_in(tx, &scan)?)))
            .await
    }

    async fn purge_bookkeeping(
        &self,
        processed_before: DateTime<Utc>,
        keys_before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.db
            .call(move |c| {
                let processed = c.execute_cached(
                    "DELETE FROM processed_events WHERE at < ?1",
                    [millis(processed_before)],
                )?;
                let keys = c.execute_cached(
                    "DELETE FROM idempotency_keys WHERE created_at < ?1",
                    [millis(keys_before)],
                )?;
                let scans = c.execute_cached(
                    "DELETE FROM checkin_scans WHERE at < ?1",
                    [millis(processed_before)],
                )?;
                Ok((processed + keys + scans) as u64)
            })
            .await
    }

    fn outbox(&self) -> Arc<dyn OutboxStore> {
        Arc::new(SqliteOutbox::new(self.db.clone()))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await
    }
}

#[cfg(test)]
mod tests {
    use platform::sqlite::{Sqlite, from_millis};

    use super::*;

    /// Rows as the first release wrote them: a confirmed, a cancelled and a pending order.
    const OLD_ROWS: &str = r#"
    INSERT INTO events (id, title, date_time, status, version, currency)
    VALUES ('0199a000-0000-7000-8000-000000000001', 'Jazz Night', 1900000000000, 'published', 1, 'USD');
    INSERT INTO inventory (event_id, ticket_type, position, price, capacity, sold, held)
    VALUES ('0199a000-0000-7000-8000-000000000001', 'General', 0, 2500, 10, 1, 1);
    INSERT INTO orders (id, user_id, event_id, event_title, event_date_time, booking_reference,
        status, cancel_reason, lines, total_amount, currency, customer, payment_id,
        failed_payments, expires_at, created_at, updated_at)
    VALUES
    ('0199a000-0000-7000-8000-00000000000a', '0199a000-0000-7000-8000-0000000000f1',
     '0199a000-0000-7000-8000-000000000001', 'Jazz Night', 1900000000000, 'TK-PAID0001',
     'confirmed', NULL, '[{"ticketType":"General","quantity":1,"unitPrice":2500,"subtotal":2500}]',
     2500, 'USD', '{"firstName":"Ada","lastName":"Lovelace","email":"ada@example.com","phone":null}',
     '0199a000-0000-7000-8000-0000000000b1', 0, 1000, 500, 1000),
    ('0199a000-0000-7000-8000-00000000000b', '0199a000-0000-7000-8000-0000000000f1',
     '0199a000-0000-7000-8000-000000000001', 'Jazz Night', 1900000000000, 'TK-GONE0002',
     'cancelled', 'expired', '[{"ticketType":"General","quantity":1,"unitPrice":2500,"subtotal":2500}]',
     2500, 'USD', '{"firstName":"Grace","lastName":"Hopper","email":"grace@example.com","phone":null}',
     NULL, 0, 1500, 600, 2000),
    ('0199a000-0000-7000-8000-00000000000c', '0199a000-0000-7000-8000-0000000000f1',
     '0199a000-0000-7000-8000-000000000001', 'Jazz Night', 1900000000000, 'TK-HELD0003',
     'pending', NULL, '[{"ticketType":"General","quantity":1,"unitPrice":2500,"subtotal":2500}]',
     2500, 'USD', '{"firstName":"Alan","lastName":"Turing","email":"alan@example.com","phone":null}',
     NULL, 0, 1900000000000, 700, 700);
    INSERT INTO tickets (code, order_id, ticket_type, seq)
    VALUES ('TKT-OLD-1', '0199a000-0000-7000-8000-00000000000a', 'General', 0);
    "#;

    fn id(tail: &str) -> Uuid {
        Uuid::parse_str(&format!("0199a000-0000-7000-8000-{tail:0>12}")).unwrap()
    }

    #[tokio::test]
    async fn a_file_from_before_refunds_gains_the_new_columns_with_what_can_be_known() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ticket.db");
        let first_release = Sqlite::open(&path, &TicketSchema::MIGRATIONS[..2]).unwrap();
        first_release
            .call(|c| Ok(c.execute_batch(OLD_ROWS)?))
            .await
            .unwrap();
        drop(first_release);

        let store = SqliteStore::open(&path).unwrap();
        let paid = store.order(id("a")).await.unwrap().unwrap();
        assert_eq!(paid.order.status, OrderStatus::Confirmed);
        assert_eq!(paid.order.paid_at, Some(from_millis(1000)));
        assert_eq!(
            (paid.order.cancelled_at, paid.order.refund.clone()),
            (None, None)
        );
        assert!(!paid.tickets[0].void);
        let gone = store.order(id("b")).await.unwrap().unwrap().order;
        assert_eq!(
            (gone.paid_at, gone.cancelled_at),
            (None, Some(from_millis(2000)))
        );
        let held = store.order(id("c")).await.unwrap().unwrap().order;
        assert_eq!((held.paid_at, held.cancelled_at), (None, None));

        let event = store.event_stock(id("1")).await.unwrap().unwrap().event;
        assert_eq!(event.organizer_id, None);
        assert_eq!(event.refund_policy, RefundPolicy::default());

        for (q, found) in [
            ("LOVELACE", id("a")),
            ("tk-gone", id("b")),
            ("alan@", id("c")),
        ] {
            let query = OrderQuery::new(None, Some(q), None, None);
            let page = store.orders_of_event(id("1"), &query).await.unwrap();
            assert_eq!(
                page.orders.iter().map(|o| o.id).collect::<Vec<_>>(),
                [found]
            );
        }

        // The old paid order still ends for a refund like a new one.
        let t = store
            .cancel(id("a"), CancelReason::OrganizerRefund, None)
            .await
            .unwrap();
        assert!(matches!(t, Transition::Applied(o) if o.paid_at == Some(from_millis(1000))));
        assert!(store.order(id("a")).await.unwrap().unwrap().tickets[0].void);
        drop(store);
        // Opening again migrates nothing twice.
        assert!(SqliteStore::open(&path).is_ok());
    }
}
