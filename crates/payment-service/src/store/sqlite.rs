//! `payment.db`: payments, the order projection, idempotency keys, processed events and the
//! outbox in one SQLite file. The platform's single connection runs one transaction at a time,
//! so every read-decide-write below sees and leaves a consistent state.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use contracts::orders::CancelReason;
use platform::StoreError;
use platform::outbox::{self, OutboxMessage, OutboxStore, SqliteOutbox};
use platform::sqlite::{Cached, Changes, Migrated, RowExt, Schema, millis, row_by_id, rows};
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use super::{FactApplied, HeldKey, Inserted, OnHeldKey, OrderFact, PaymentStore, Settle, Settled};
use crate::card::CardBrand;
use crate::domain::{
    GatewayResponse, OrderRecord, OrderSource, OrderStatus, Payment, PaymentDetails, PaymentMethod,
    PaymentStatus, Refund,
};
use crate::idempotency::{ClaimOutcome, KeyClaim, KeyRef, StoredResponse};
use crate::ledger;

const SCHEMA: &str = r#"
CREATE TABLE orders (
    id                TEXT PRIMARY KEY,
    user_id           TEXT NOT NULL,
    event_id          TEXT,
    booking_reference TEXT,
    amount_minor      INTEGER,
    currency          TEXT,
    status            TEXT NOT NULL,
    cancel_reason     TEXT,
    expires_at        INTEGER,
    source            TEXT NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE TABLE payments (
    id                    TEXT PRIMARY KEY,
    order_id              TEXT NOT NULL,
    user_id               TEXT NOT NULL,
    amount_minor          INTEGER NOT NULL,
    currency              TEXT NOT NULL,
    payment_method        TEXT NOT NULL,
    status                TEXT NOT NULL,
    card_last4            TEXT,
    card_brand            TEXT,
    paypal_email          TEXT,
    transaction_id        TEXT,
    response_code         TEXT,
    response_message      TEXT,
    refund_transaction_id TEXT,
    refund_reason         TEXT,
    refund_cancel_reason  TEXT,
    refunded_at           INTEGER,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
-- The rule that makes a double charge impossible: one payment per order that is not failed.
CREATE UNIQUE INDEX payments_one_holder_per_order ON payments(order_id) WHERE status <> 'failed';
CREATE INDEX payments_by_order ON payments(order_id, created_at);
CREATE INDEX payments_unfinished ON payments(updated_at) WHERE status IN ('pending', 'processing');
CREATE TABLE idempotency_keys (
    user_id         TEXT NOT NULL,
    key             TEXT NOT NULL,
    fingerprint     TEXT NOT NULL,
    claimed_at      INTEGER NOT NULL,
    response_status INTEGER,
    response_body   TEXT,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
CREATE TABLE processed_events (
    event_id     TEXT PRIMARY KEY,
    subject      TEXT NOT NULL,
    processed_at INTEGER NOT NULL
);
"#;

/// The outbox first: its DDL is the platform's, shared by every service.
const MIGRATIONS: &[&str] = &[outbox::SQLITE_DDL, SCHEMA];

const PAYMENT_COLUMNS: &str = "id, order_id, user_id, amount_minor, currency, payment_method, \
    status, card_last4, card_brand, paypal_email, transaction_id, response_code, response_message, \
    refund_transaction_id, refund_reason, refund_cancel_reason, refunded_at, created_at, updated_at";

const ORDER_COLUMNS: &str = "id, user_id, event_id, booking_reference, amount_minor, currency, \
    status, cancel_reason, expires_at, source, updated_at";

fn payment_from(r: &Row<'_>) -> rusqlite::Result<Payment> {
    let method = r.parsed(5, PaymentMethod::parse)?;
    let details = if method.is_card() {
        PaymentDetails::Card {
            last4: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
            brand: CardBrand::parse(&r.get::<_, Option<String>>(8)?.unwrap_or_default()),
        }
    } else {
        PaymentDetails::Paypal {
            email: r.get::<_, Option<String>>(9)?.unwrap_or_default(),
        }
    };
    let gateway_response = match r.get::<_, Option<String>>(11)? {
        Some(code) => Some(GatewayResponse {
            transaction_id: r.get::<_, Option<String>>(10)?.unwrap_or_default(),
            response_code: code,
            response_message: r.get::<_, Option<String>>(12)?.unwrap_or_default(),
        }),
        None => None,
    };
    let refund = match r.get::<_, Option<String>>(13)? {
        Some(transaction_id) => Some(Refund {
            transaction_id,
            reason: r.get::<_, Option<String>>(14)?.unwrap_or_default(),
            order_cancel_reason: r
                .get::<_, Option<String>>(15)?
                .and_then(|s| CancelReason::parse(&s)),
            refunded_at: r.opt_time(16)?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok(Payment {
        id: r.uuid(0)?,
        order_id: r.uuid(1)?,
        user_id: r.uuid(2)?,
        amount: r.money(3, 4)?,
        method,
        status: r.parsed(6, PaymentStatus::parse)?,
        details,
        gateway_response,
        refund,
        created_at: r.time(17)?,
        updated_at: r.time(18)?,
    })
}

fn order_from(r: &Row<'_>) -> rusqlite::Result<OrderRecord> {
    let amount = match (r.get::<_, Option<i64>>(4)?, r.get::<_, Option<String>>(5)?) {
        (Some(_), Some(_)) => Some(r.money(4, 5)?),
        _ => None,
    };
    Ok(OrderRecord {
        id: r.uuid(0)?,
        user_id: r.uuid(1)?,
        event_id: r.opt_uuid(2)?,
        booking_reference: r.get(3)?,
        amount,
        status: r.parsed(6, OrderStatus::parse)?,
        cancel_reason: r
            .get::<_, Option<String>>(7)?
            .and_then(|s| CancelReason::parse(&s)),
        expires_at: r.opt_time(8)?,
        source: OrderSource::parse(&r.get::<_, String>(9)?),
        updated_at: r.time(10)?,
    })
}

fn get_payment(c: &Connection, id: Uuid) -> rusqlite::Result<Option<Payment>> {
    row_by_id(
        c,
        &format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = ?1"),
        id,
        payment_from,
    )
}

fn get_order(c: &Connection, id: Uuid) -> rusqlite::Result<Option<OrderRecord>> {
    row_by_id(
        c,
        &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1"),
        id,
        order_from,
    )
}

fn put_order(c: &Connection, o: &OrderRecord) -> rusqlite::Result<()> {
    c.execute_cached(
        &format!(
            "INSERT OR REPLACE INTO orders ({ORDER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        ),
        params![
            o.id.to_string(),
            o.user_id.to_string(),
            o.event_id.map(|e| e.to_string()),
            o.booking_reference,
            o.amount.map(|m| m.minor_units()),
            o.amount.map(|m| m.currency().to_string()),
            o.status.as_str(),
            o.cancel_reason.map(CancelReason::as_str),
            o.expires_at.map(millis),
            o.source.as_str(),
            millis(o.updated_at),
        ],
    )?;
    Ok(())
}

fn merge_order(c: &Connection, incoming: &OrderRecord) -> rusqlite::Result<OrderRecord> {
    let merged = OrderRecord::merge(get_order(c, incoming.id)?, incoming.clone());
    put_order(c, &merged)?;
    Ok(merged)
}

/// Inserts a payment: its fixed columns here, its outcome (gateway answer, refund) through
/// [`update_payment`], the one writer of those columns.
fn insert_payment_row(c: &Connection, p: &Payment) -> rusqlite::Result<()> {
    let (last4, brand, email) = match &p.details {
        PaymentDetails::Card { last4, brand } => (Some(last4.clone()), Some(brand.as_str()), None),
        PaymentDetails::Paypal { email } => (None, None, Some(email.clone())),
    };
    c.execute_cached(
        "INSERT INTO payments (id, order_id, user_id, amount_minor, currency, payment_method, \
         status, card_last4, card_brand, paypal_email, created_at, updated_at) VALUES \
         (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            p.id.to_string(),
            p.order_id.to_string(),
            p.user_id.to_string(),
            p.amount.minor_units(),
            p.amount.currency().to_string(),
            p.method.as_str(),
            p.status.as_str(),
            last4,
            brand,
            email,
            millis(p.created_at),
            millis(p.updated_at),
        ],
    )?;
    update_payment(c, p, p.status)?;
    Ok(())
}

/// Writes the mutable part of a payment, only if it is still in status `from`; `false` when
/// someone else moved it first.
fn update_payment(c: &Connection, p: &Payment, from: PaymentStatus) -> rusqlite::Result<bool> {
    let changed = c.execute_cached(
        "UPDATE payments SET status = ?2, transaction_id = ?3, response_code = ?4, \
         response_message = ?5, refund_transaction_id = ?6, refund_reason = ?7, \
         refund_cancel_reason = ?8, refunded_at = ?9, updated_at = ?10 \
         WHERE id = ?1 AND status = ?11",
        params![
            p.id.to_string(),
            p.status.as_str(),
            p.gateway_response
                .as_ref()
                .map(|g| g.transaction_id.clone()),
            p.gateway_response.as_ref().map(|g| g.response_code.clone()),
            p.gateway_response
                .as_ref()
                .map(|g| g.response_message.clone()),
            p.refund.as_ref().map(|r| r.transaction_id.clone()),
            p.refund.as_ref().map(|r| r.reason.clone()),
            p.refund
                .as_ref()
                .and_then(|r| r.order_cancel_reason.map(CancelReason::as_str)),
            p.refund.as_ref().map(|r| millis(r.refunded_at)),
            millis(p.updated_at),
            from.as_str(),
        ],
    )?;
    Ok(changed == 1)
}

fn payments_where(
    c: &Connection,
    clause: &str,
    arg: &dyn rusqlite::ToSql,
) -> rusqlite::Result<Vec<Payment>> {
    rows(
        c,
        &format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE {clause} ORDER BY created_at, id"),
        [arg],
        payment_from,
    )
}

fn insert_facts(c: &Connection, facts: &[OutboxMessage]) -> rusqlite::Result<()> {
    for f in facts {
        outbox::insert_sqlite(c, f)?;
    }
    Ok(())
}

/// The tables of `payment.db`.
pub enum PaymentSchema {}

impl Schema for PaymentSchema {
    const MIGRATIONS: &'static [&'static str] = MIGRATIONS;
}

pub type SqliteStore = Migrated<PaymentSchema>;

#[async_trait]
impl PaymentStore for SqliteStore {
    async fn order(&self, id: Uuid) -> Result<Option<OrderRecord>, StoreError> {
        self.db.read(move |c| Ok(get_order(c, id)?)).await
    }

    async fn remember_order(&self, order: &OrderRecord) -> Result<OrderRecord, StoreError> {
        let order = order.clone();
        self.db
            .write(move |tx| {
                let merged = merge_order(tx, &order)?;
                Ok(Changes::Keep(merged))
            })
            .await
    }

    async fn apply_order_fact(&self, fact: &OrderFact) -> Result<FactApplied, StoreError> {
        let fact = fact.clone();
        self.db
            .write(move |tx| {
                let first = tx.execute_cached(
                    "INSERT INTO processed_events (event_id, subject, processed_at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (event_id) DO NOTHING",
                    params![fact.event_id.to_string(), fact.subject, millis(fact.at)],
                )?;
                if first == 0 {
                    return Ok(Changes::Undo(FactApplied::Duplicate));
                }
                let merged = merge_order(tx, &fact.order)?;
                let completed = payments_where(
                    tx,
                    "order_id = ?1 AND status = 'completed'",
                    &merged.id.to_string(),
                )?;
                let (refunded, facts) =
                    ledger::refunds_for(&merged, completed, fact.at, &fact.traceparent)?;
                for p in &refunded {
                    update_payment(tx, p, PaymentStatus::Completed)?;
                }
                insert_facts(tx, &facts)?;
                Ok(Changes::Keep(FactApplied::Applied { refunded }))
            })
            .await
    }

    async fn insert_payment(&self, payment: &Payment) -> Result<Inserted, StoreError> {
        let payment = payment.clone();
        self.db
            .write(
                move |tx| match insert_payment_row(tx, &payment).map_err(StoreError::from) {
                    Ok(_) => Ok(Changes::Keep(Inserted::Inserted)),
                    Err(StoreError::Duplicate(_)) => {
                        let holder = payments_where(
                            tx,
                            "order_id = ?1 AND status <> 'failed'",
                            &payment.order_id.to_string(),
                        )?
                        .pop()
                        .ok_or_else(|| StoreError::corrupt("unique index without a holder"))?;
                        Ok(Changes::Undo(Inserted::OrderHeld(Box::new(holder))))
                    }
                    Err(e) => Err(e),
                },
            )
            .await
    }

    async fn begin_processing(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<Option<Payment>, StoreError> {
        self.db
            .write(move |tx| {
                let Some(mut p) = get_payment(tx, id)? else {
                    return Ok(Changes::Undo(None));
                };
                if p.begin_processing(at).is_err()
                    || !update_payment(tx, &p, PaymentStatus::Pending)?
                {
                    return Ok(Changes::Undo(None));
                }
                Ok(Changes::Keep(Some(p)))
            })
            .await
    }

    async fn settle(&self, settle: &Settle) -> Result<Settled, StoreError> {
        let s = settle.clone();
        self.db
            .write(move |tx| {
                let payment = get_payment(tx, s.payment_id)?
                    .ok_or_else(|| StoreError::corrupt(format!("no payment {}", s.payment_id)))?;
                let order = get_order(tx, payment.order_id)?;
                let plan = s.plan(payment, order.as_ref())?;
                let Some(done) = &plan.write else {
                    return Ok(Changes::Undo(plan.settled));
                };
                if !update_payment(tx, &done.payment, plan.from)? {
                    return Err(StoreError::corrupt("payment changed inside a transaction"));
                }
                insert_facts(tx, &done.facts)?;
                if let (Some(key), Some(response)) = (&s.key, &plan.settled.response) {
                    answer(tx, key, response)?;
                }
                Ok(Changes::Keep(plan.settled))
            })
            .await
    }

    async fn payment(&self, id: Uuid) -> Result<Option<Payment>, StoreError> {
        self.db.read(move |c| Ok(get_payment(c, id)?)).await
    }

    async fn payments_for_order(&self, order_id: Uuid) -> Result<Vec<Payment>, StoreError> {
        self.db
            .read(move |c| Ok(payments_where(c, "order_id = ?1", &order_id.to_string())?))
            .await
    }

    async fn abandon_stale(
        &self,
        before: DateTime<Utc>,
        at: DateTime<Utc>,
        traceparent: &str,
    ) -> Result<u64, StoreError> {
        let traceparent = traceparent.to_string();
        self.db
            .call(move |c| {
                let tx = c.transaction()?;
                let stale = payments_where(
                    &tx,
                    "status IN ('pending', 'processing') AND updated_at < ?1",
                    &millis(before),
                )?;
                let mut count = 0;
                for p in stale {
                    let from = p.status;
                    if let Some((failed, fact)) = ledger::abandon(p, at, &traceparent)?
                        && update_payment(&tx, &failed, from)?
                    {
                        insert_facts(&tx, fact.as_slice())?;
                        count += 1;
                    }
                }
                tx.commit()?;
                Ok(count)
            })
            .await
    }

    async fn claim_key(&self, claim: &KeyClaim) -> Result<ClaimOutcome, StoreError> {
        let claim = claim.clone();
        self.db
            .write(move |tx| {
                let user = claim.user_id.to_string();
                let existing = tx
                    .query_row_cached(
                        "SELECT fingerprint, claimed_at, response_status, response_body \
                         FROM idempotency_keys WHERE user_id = ?1 AND key = ?2",
                        params![user, claim.key],
                        |r| {
                            let status: Option<i64> = r.get(2)?;
                            let body: Option<String> = r.get(3)?;
                            Ok(HeldKey {
                                fingerprint: r.get(0)?,
                                claimed_at: r.time(1)?,
                                response: status.zip(body).map(|(status, body)| StoredResponse {
                                    status: u16::try_from(status).unwrap_or(500),
                                    body,
                                }),
                            })
                        },
                    )
                    .optional()?;
                let outcome = match existing.map(|held| claim.on_held(held)) {
                    None => {
                        tx.execute_cached(
                            "INSERT INTO idempotency_keys (user_id, key, fingerprint, claimed_at, created_at) \
                             VALUES (?1, ?2, ?3, ?4, ?4)",
                            params![user, claim.key, claim.fingerprint, millis(claim.at)],
                        )?;
                        ClaimOutcome::Claimed
                    }
                    Some(OnHeldKey::Outcome(outcome)) => outcome,
                    // The transaction holds the key's row: no other claim moves it meanwhile.
                    Some(OnHeldKey::TakeOver) => {
                        tx.execute_cached(
                            "UPDATE idempotency_keys SET claimed_at = ?3 WHERE user_id = ?1 AND key = ?2",
                            params![user, claim.key, millis(claim.at)],
                        )?;
                        ClaimOutcome::Claimed
                    }
                };
                Ok(Changes::Keep(outcome))
            })
            .await
    }

    async fn answer_key(&self, key: &KeyRef, response: &StoredResponse) -> Result<(), StoreError> {
        let (key, response) = (key.clone(), response.clone());
        self.db
            .write(move |c| {
                answer(c, &key, &response)?;
                Ok(Changes::Keep(()))
            })
            .await
    }

    async fn release_key(&self, key: &KeyRef) -> Result<(), StoreError> {
        let key = key.clone();
        self.db
            .write(move |c| {
                c.execute_cached(
                    "DELETE FROM idempotency_keys WHERE user_id = ?1 AND key = ?2 AND response_status IS NULL",
                    params![key.user_id.to_string(), key.key],
                )?;
                Ok(Changes::Keep(()))
            })
            .await
    }

    async fn purge_keys(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.db
            .call(move |c| {
                let n = c.execute_cached(
                    "DELETE FROM idempotency_keys WHERE created_at < ?1 \
                     AND (response_status IS NOT NULL OR claimed_at < ?1)",
                    [millis(before)],
                )?;
                Ok(n as u64)
            })
            .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await
    }

    fn outbox(&self) -> Arc<dyn OutboxStore> {
        Arc::new(SqliteOutbox::new(self.db.clone()))
    }
}

fn answer(c: &Connection, key: &KeyRef, response: &StoredResponse) -> rusqlite::Result<()> {
    c.execute_cached(
        "UPDATE idempotency_keys SET response_status = ?3, response_body = ?4 \
         WHERE user_id = ?1 AND key = ?2",
        params![
            key.user_id.to_string(),
            key.key,
            i64::from(response.status),
            response.body
        ],
    )?;
    Ok(())
}
