use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use contracts::orders::CancelReason;
use platform::StoreError;
use platform::outbox::{OutboxStore, SQLITE_DDL, SqliteOutbox, insert_sqlite};
use platform::sqlite::Sqlite;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use uuid::Uuid;

use super::{
    BookResult, Booking, EventInfo, EventStock, FailureResult, Stock, StoredResponse, TicketStore,
    TicketTypeInfo, Transition,
};
use crate::facts;
use crate::order::{IssuedTicket, Order, OrderDetails, OrderStatus, PaymentAttempt, issue_tickets};

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

const MIGRATIONS: &[&str] = &[SCHEMA, SQLITE_DDL];

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn conversion(e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
}

fn uuid(s: String) -> rusqlite::Result<Uuid> {
    Uuid::parse_str(&s).map_err(conversion)
}

const ORDER_COLUMNS: &str = "id, user_id, event_id, event_title, event_date_time, booking_reference, status, \
     cancel_reason, lines, total_amount, currency, customer, payment_id, failed_payments, expires_at, \
     created_at, updated_at";

fn order_from(r: &Row<'_>) -> rusqlite::Result<Order> {
    let status: String = r.get(6)?;
    let reason: Option<String> = r.get(7)?;
    let lines: String = r.get(8)?;
    let customer: String = r.get(11)?;
    Ok(Order {
        id: uuid(r.get(0)?)?,
        user_id: uuid(r.get(1)?)?,
        event_id: uuid(r.get(2)?)?,
        event_title: r.get(3)?,
        event_date_time: time(r.get(4)?),
        booking_reference: r.get(5)?,
        status: OrderStatus::parse(&status).ok_or_else(|| {
            conversion(std::io::Error::other(format!(
                "unknown order status {status:?}"
            )))
        })?,
        cancel_reason: reason.as_deref().and_then(CancelReason::parse),
        lines: serde_json::from_str(&lines).map_err(conversion)?,
        total_amount: r.get(9)?,
        currency: r.get(10)?,
        customer: serde_json::from_str(&customer).map_err(conversion)?,
        payment_id: r.get::<_, Option<String>>(12)?.map(uuid).transpose()?,
        failed_payments: r.get(13)?,
        expires_at: time(r.get(14)?),
        created_at: time(r.get(15)?),
        updated_at: time(r.get(16)?),
    })
}

fn load_order(c: &Connection, id: Uuid) -> rusqlite::Result<Option<Order>> {
    c.query_row(
        &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1"),
        [id.to_string()],
        order_from,
    )
    .optional()
}

/// Records `id` as processed; false when it was already.
fn first_time(tx: &Transaction<'_>, id: Uuid) -> rusqlite::Result<bool> {
    let n = tx.execute(
        "INSERT OR IGNORE INTO processed_events (id, at) VALUES (?1, ?2)",
        params![id.to_string(), ms(platform::time::now())],
    )?;
    Ok(n == 1)
}

/// `pending -> status`, only if still pending. Returns the order as changed when applied.
fn leave_pending(
    tx: &Transaction<'_>,
    id: Uuid,
    status: OrderStatus,
    reason: Option<CancelReason>,
    payment_id: Option<Uuid>,
) -> rusqlite::Result<Result<Order, Transition>> {
    let now = platform::time::now();
    let changed = tx.execute(
        "UPDATE orders SET status = ?2, cancel_reason = ?3, payment_id = COALESCE(?4, payment_id), updated_at = ?5
         WHERE id = ?1 AND status = 'pending'",
        params![
            id.to_string(),
            status.as_str(),
            reason.map(CancelReason::as_str),
            payment_id.map(|p| p.to_string()),
            ms(now)
        ],
    )?;
    let order = load_order(tx, id)?;
    Ok(match (changed, order) {
        (1, Some(order)) => Ok(order),
        (_, Some(order)) => Err(Transition::NotPending(order)),
        (_, None) => Err(Transition::NotFound),
    })
}

/// Moves an order's seats out of `held` (and into `sold` when `sell`). Exactly one stock row per
/// line must change; anything else is corrupt data and rolls the transaction back.
fn move_held(tx: &Transaction<'_>, order: &Order, sell: bool) -> Result<(), StoreError> {
    let sql = if sell {
        "UPDATE inventory SET held = held - ?3, sold = sold + ?3 WHERE event_id = ?1 AND ticket_type = ?2"
    } else {
        "UPDATE inventory SET held = held - ?3 WHERE event_id = ?1 AND ticket_type = ?2"
    };
    for line in &order.lines {
        let changed = tx.execute(
            sql,
            params![order.event_id.to_string(), line.ticket_type, line.quantity],
        )?;
        if changed != 1 {
            return Err(StoreError::corrupt(format!(
                "no stock row for {} / {} of order {}",
                order.event_id, line.ticket_type, order.id
            )));
        }
    }
    Ok(())
}

fn insert_attempt(
    tx: &Transaction<'_>,
    order_id: Uuid,
    a: &PaymentAttempt,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT OR IGNORE INTO payment_attempts (payment_id, order_id, status, response_code, response_message, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            a.payment_id.to_string(),
            order_id.to_string(),
            a.status,
            a.response_code,
            a.response_message,
            ms(a.at)
        ],
    )?;
    Ok(())
}

fn cancel_in(
    tx: &Transaction<'_>,
    order_id: Uuid,
    reason: CancelReason,
    traceparent: Option<&str>,
) -> Result<Transition, StoreError> {
    match leave_pending(tx, order_id, OrderStatus::Cancelled, Some(reason), None)? {
        Ok(order) => {
            move_held(tx, &order, false)?;
            insert_sqlite(tx, &facts::cancelled(&order, reason, traceparent))?;
            Ok(Transition::Applied(order))
        }
        Err(t) => Ok(t),
    }
}

pub struct SqliteStore {
    db: Sqlite,
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            db: Sqlite::open(path, MIGRATIONS)?,
        })
    }

    pub fn in_memory() -> Result<Self, StoreError> {
        Ok(Self {
            db: Sqlite::open_in_memory(MIGRATIONS)?,
        })
    }
}

#[async_trait]
impl TicketStore for SqliteStore {
    async fn event_stock(&self, event_id: Uuid) -> Result<Option<EventStock>, StoreError> {
        self.db
            .call(move |c| {
                let id = event_id.to_string();
                let event = c
                    .query_row(
                        "SELECT title, date_time, status, version, currency FROM events WHERE id = ?1",
                        [&id],
                        |r| {
                            Ok(EventInfo {
                                id: event_id,
                                title: r.get(0)?,
                                date_time: time(r.get(1)?),
                                status: r.get(2)?,
                                version: r.get::<_, i64>(3)? as u64,
                                currency: r.get(4)?,
                                ticket_types: Vec::new(),
                            })
                        },
                    )
                    .optional()?;
                let Some(mut event) = event else {
                    return Ok(None);
                };
                let mut stmt = c.prepare_cached(
                    "SELECT ticket_type, price, capacity, sold, held FROM inventory
                     WHERE event_id = ?1 ORDER BY position",
                )?;
                let stock = stmt
                    .query_map([&id], |r| {
                        Ok(Stock {
                            ticket_type: r.get(0)?,
                            price: r.get(1)?,
                            capacity: r.get(2)?,
                            sold: r.get(3)?,
                            held: r.get(4)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                event.ticket_types = stock
                    .iter()
                    .map(|s| TicketTypeInfo {
                        name: s.ticket_type.clone(),
                        price: s.price,
                        quantity: s.capacity,
                    })
                    .collect();
                Ok(Some(EventStock { event, stock }))
            })
            .await
    }

    async fn apply_event(&self, info: &EventInfo) -> Result<bool, StoreError> {
        let info = info.clone();
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                let id = info.id.to_string();
                let stored: Option<i64> = tx
                    .query_row("SELECT version FROM events WHERE id = ?1", [&id], |r| r.get(0))
                    .optional()?;
                if stored.is_some_and(|v| v as u64 >= info.version) {
                    return Ok(false);
                }
                tx.execute(
                    "INSERT INTO events (id, title, date_time, status, version, currency) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (id) DO UPDATE SET title = ?2, date_time = ?3, status = ?4, version = ?5, currency = ?6",
                    params![id, info.title, ms(info.date_time), info.status, info.version as i64, info.currency],
                )?;
                for (position, t) in info.ticket_types.iter().enumerate() {
                    tx.execute(
                        "INSERT INTO inventory (event_id, ticket_type, position, price, capacity) VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (event_id, ticket_type) DO UPDATE
                         SET position = ?3, price = ?4, capacity = MAX(capacity, ?5)",
                        params![id, t.name, position as i64, t.price, t.quantity],
                    )?;
                }
                tx.commit()?;
                Ok(true)
            })
            .await
    }

    async fn book(&self, booking: &Booking) -> Result<BookResult, StoreError> {
        let booking = booking.clone();
        self.db
            .call(move |c| {
                let order = &booking.order;
                let tx = c.transaction()?;
                if let Some(idem) = &booking.idempotency {
                    let used = tx
                        .query_row(
                            "SELECT request_hash, status, body FROM idempotency_keys WHERE user_id = ?1 AND key = ?2",
                            params![idem.user_id.to_string(), idem.key],
                            |r| Ok(StoredResponse { request_hash: r.get(0)?, status: r.get(1)?, body: r.get(2)? }),
                        )
                        .optional()?;
                    if let Some(stored) = used {
                        return Ok(BookResult::KeyUsed(stored));
                    }
                }
                let event_id = order.event_id.to_string();
                let status: Option<String> = tx
                    .query_row("SELECT status FROM events WHERE id = ?1", [&event_id], |r| r.get(0))
                    .optional()?;
                if status.as_deref() != Some("published") {
                    return Ok(BookResult::EventClosed);
                }
                for line in &order.lines {
                    // The whole reservation of a line is this one conditional update.
                    let held = tx.execute(
                        "UPDATE inventory SET held = held + ?3
                         WHERE event_id = ?1 AND ticket_type = ?2 AND capacity - sold - held >= ?3",
                        params![event_id, line.ticket_type, line.quantity],
                    )?;
                    if held == 0 {
                        let available: u32 = tx
                            .query_row(
                                "SELECT capacity - sold - held FROM inventory WHERE event_id = ?1 AND ticket_type = ?2",
                                params![event_id, line.ticket_type],
                                |r| r.get(0),
                            )
                            .optional()?
                            .unwrap_or(0);
                        // Dropping the transaction rolls back the lines already held.
                        return Ok(BookResult::SoldOut { ticket_type: line.ticket_type.clone(), available });
                    }
                }
                let inserted = tx.execute(
                    "INSERT INTO orders (id, user_id, event_id, event_title, event_date_time, booking_reference, status,
                        cancel_reason, lines, total_amount, currency, customer, payment_id, failed_payments, expires_at,
                        created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', NULL, ?7, ?8, ?9, ?10, NULL, 0, ?11, ?12, ?12)",
                    params![
                        order.id.to_string(),
                        order.user_id.to_string(),
                        event_id,
                        order.event_title,
                        ms(order.event_date_time),
                        order.booking_reference,
                        serde_json::to_string(&order.lines).map_err(StoreError::backend)?,
                        order.total_amount,
                        order.currency,
                        serde_json::to_string(&order.customer).map_err(StoreError::backend)?,
                        ms(order.expires_at),
                        ms(order.created_at),
                    ],
                );
                if let Err(e) = inserted {
                    return match StoreError::from(e) {
                        StoreError::Duplicate(_) => Ok(BookResult::ReferenceTaken),
                        other => Err(other),
                    };
                }
                insert_sqlite(&tx, &facts::created(order, booking.traceparent.as_deref()))?;
                if let Some(idem) = &booking.idempotency {
                    tx.execute(
                        "INSERT INTO idempotency_keys (user_id, key, request_hash, status, body, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![
                            idem.user_id.to_string(),
                            idem.key,
                            idem.response.request_hash,
                            idem.response.status,
                            idem.response.body,
                            ms(order.created_at)
                        ],
                    )?;
                }
                tx.commit()?;
                Ok(BookResult::Booked)
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
            .call(move |c| {
                Ok(c.query_row(
                    "SELECT request_hash, status, body FROM idempotency_keys WHERE user_id = ?1 AND key = ?2",
                    params![user_id.to_string(), key],
                    |r| Ok(StoredResponse { request_hash: r.get(0)?, status: r.get(1)?, body: r.get(2)? }),
                )
                .optional()?)
            })
            .await
    }

    async fn order(&self, id: Uuid) -> Result<Option<OrderDetails>, StoreError> {
        self.db
            .call(move |c| {
                let Some(order) = load_order(c, id)? else {
                    return Ok(None);
                };
                let mut stmt = c.prepare_cached(
                    "SELECT payment_id, status, response_code, response_message, at FROM payment_attempts
                     WHERE order_id = ?1 ORDER BY at, status",
                )?;
                let attempts = stmt
                    .query_map([id.to_string()], |r| {
                        Ok(PaymentAttempt {
                            payment_id: uuid(r.get(0)?)?,
                            status: r.get(1)?,
                            response_code: r.get(2)?,
                            response_message: r.get(3)?,
                            at: time(r.get(4)?),
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                let mut stmt = c.prepare_cached(
                    "SELECT code, ticket_type FROM tickets WHERE order_id = ?1 ORDER BY seq",
                )?;
                let tickets = stmt
                    .query_map([id.to_string()], |r| {
                        Ok(IssuedTicket { code: r.get(0)?, ticket_type: r.get(1)? })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(Some(OrderDetails { order, attempts, tickets }))
            })
            .await
    }

    async fn orders_of_user(&self, user_id: Uuid) -> Result<Vec<Order>, StoreError> {
        self.db
            .call(move |c| {
                let mut stmt = c.prepare_cached(&format!(
                    "SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = ?1 ORDER BY created_at DESC, id DESC"
                ))?;
                let orders = stmt
                    .query_map([user_id.to_string()], order_from)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(orders)
            })
            .await
    }

    async fn cancel(
        &self,
        order_id: Uuid,
        reason: CancelReason,
        traceparent: Option<&str>,
    ) -> Result<Transition, StoreError> {
        let traceparent = traceparent.map(str::to_string);
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                let result = cancel_in(&tx, order_id, reason, traceparent.as_deref())?;
                tx.commit()?;
                Ok(result)
            })
            .await
    }

    async fn confirm(
        &self,
        order_id: Uuid,
        payment: &PaymentAttempt,
        processed: Uuid,
        traceparent: Option<&str>,
    ) -> Result<Transition, StoreError> {
        let payment = payment.clone();
        let traceparent = traceparent.map(str::to_string);
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                if !first_time(&tx, processed)? {
                    return Ok(Transition::Duplicate);
                }
                let order = match leave_pending(&tx, order_id, OrderStatus::Confirmed, None, Some(payment.payment_id))? {
                    Ok(order) => order,
                    Err(other) => {
                        if !matches!(other, Transition::NotFound) {
                            insert_attempt(&tx, order_id, &payment)?;
                        }
                        tx.commit()?;
                        return Ok(other);
                    }
                };
                move_held(&tx, &order, true)?;
                for (seq, ticket) in issue_tickets(&order).iter().enumerate() {
                    tx.execute(
                        "INSERT INTO tickets (code, order_id, ticket_type, seq) VALUES (?1, ?2, ?3, ?4)",
                        params![ticket.code, order_id.to_string(), ticket.ticket_type, seq as i64],
                    )?;
                }
                insert_attempt(&tx, order_id, &payment)?;
                insert_sqlite(&tx, &facts::confirmed(&order, traceparent.as_deref()))?;
                tx.commit()?;
                Ok(Transition::Applied(order))
            })
            .await
    }

    async fn record_payment_failure(
        &self,
        order_id: Uuid,
        payment: &PaymentAttempt,
        max_failures: u32,
        processed: Uuid,
        traceparent: Option<&str>,
    ) -> Result<FailureResult, StoreError> {
        let payment = payment.clone();
        let traceparent = traceparent.map(str::to_string);
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                if !first_time(&tx, processed)? {
                    return Ok(FailureResult::Duplicate);
                }
                let counted = tx.execute(
                    "UPDATE orders SET failed_payments = failed_payments + 1, updated_at = ?2
                     WHERE id = ?1 AND status = 'pending'",
                    params![order_id.to_string(), ms(platform::time::now())],
                )?;
                let Some(order) = load_order(&tx, order_id)? else {
                    tx.commit()?;
                    return Ok(FailureResult::NotFound);
                };
                insert_attempt(&tx, order_id, &payment)?;
                let result = if counted == 0 {
                    FailureResult::NotPending(order)
                } else if order.failed_payments >= max_failures {
                    match cancel_in(
                        &tx,
                        order_id,
                        CancelReason::PaymentFailed,
                        traceparent.as_deref(),
                    )? {
                        Transition::Applied(order) => FailureResult::Cancelled(order),
                        Transition::NotPending(order) => FailureResult::NotPending(order),
                        _ => FailureResult::NotFound,
                    }
                } else {
                    FailureResult::Recorded {
                        failures: order.failed_payments,
                    }
                };
                tx.commit()?;
                Ok(result)
            })
            .await
    }

    async fn record_payment_note(
        &self,
        order_id: Uuid,
        payment: &PaymentAttempt,
        processed: Uuid,
    ) -> Result<bool, StoreError> {
        let payment = payment.clone();
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                if !first_time(&tx, processed)? {
                    return Ok(false);
                }
                if load_order(&tx, order_id)?.is_some() {
                    insert_attempt(&tx, order_id, &payment)?;
                }
                tx.commit()?;
                Ok(true)
            })
            .await
    }

    async fn due_for_expiry(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Uuid>, StoreError> {
        self.db
            .call(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT id FROM orders WHERE status = 'pending' AND expires_at <= ?1 ORDER BY expires_at LIMIT ?2",
                )?;
                let ids = stmt
                    .query_map(params![ms(now), limit as i64], |r| uuid(r.get(0)?))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(ids)
            })
            .await
    }

    async fn pending_of_event(&self, event_id: Uuid) -> Result<Vec<Uuid>, StoreError> {
        self.db
            .call(move |c| {
                let mut stmt = c.prepare_cached(
                    "SELECT id FROM orders WHERE event_id = ?1 AND status = 'pending'",
                )?;
                let ids = stmt
                    .query_map([event_id.to_string()], |r| uuid(r.get(0)?))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(ids)
            })
            .await
    }

    async fn purge_bookkeeping(
        &self,
        processed_before: DateTime<Utc>,
        keys_before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.db
            .call(move |c| {
                let processed = c.execute(
                    "DELETE FROM processed_events WHERE at < ?1",
                    [ms(processed_before)],
                )?;
                let keys = c.execute(
                    "DELETE FROM idempotency_keys WHERE created_at < ?1",
                    [ms(keys_before)],
                )?;
                Ok((processed + keys) as u64)
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
