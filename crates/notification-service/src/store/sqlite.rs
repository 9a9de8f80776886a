//! `notification.db`: the projection (`events`, `orders`), `processed_facts` and `mails` in one
//! SQLite file. The platform's single connection runs one transaction at a time; the claim is
//! one conditional `UPDATE`.

use api_types::notifications::NotificationKind;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use contracts::orders::CancelReason;
use platform::StoreError;
use platform::sqlite::{
    Cached, Changes, Migrated, RowExt, Schema, bad_column, millis, row_by_id, rows,
};
use rusqlite::{Connection, Row, params};
use uuid::Uuid;

use super::NotificationStore;
use crate::domain::{
    EventRecord, FactRecord, Mail, MailKey, MailState, OrderRecord, OrderStatus, Recorded,
};

const SCHEMA: &str = r#"
CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    version     INTEGER NOT NULL,
    title       TEXT NOT NULL,
    date_time   INTEGER NOT NULL,
    duration    INTEGER NOT NULL,
    venue_name  TEXT NOT NULL,
    venue_city  TEXT NOT NULL,
    cancelled   INTEGER NOT NULL
);
CREATE TABLE orders (
    id                TEXT PRIMARY KEY,
    user_id           TEXT NOT NULL,
    event_id          TEXT NOT NULL,
    booking_reference TEXT NOT NULL,
    customer          TEXT,
    lines             TEXT NOT NULL,
    total             TEXT NOT NULL,
    expires_at        INTEGER NOT NULL,
    status            TEXT NOT NULL,
    cancel_reason     TEXT,
    paid              INTEGER NOT NULL
);
CREATE INDEX orders_paid_by_event ON orders(event_id) WHERE paid = 1;
CREATE INDEX orders_pending_by_expiry ON orders(expires_at) WHERE status = 'pending';
CREATE TABLE processed_facts (
    fact_id      TEXT PRIMARY KEY,
    subject      TEXT NOT NULL,
    processed_at INTEGER NOT NULL
);
CREATE TABLE mails (
    fact_id    TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    letter     TEXT NOT NULL,
    state      TEXT NOT NULL,
    claimed_at INTEGER,
    sent_at    INTEGER,
    subject    TEXT,
    error      TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (fact_id, recipient)
);
CREATE INDEX mails_unsent ON mails(created_at) WHERE state IN ('pending', 'sending');
CREATE INDEX mails_sent_to ON mails(user_id, sent_at) WHERE state = 'sent';
"#;

pub enum NotificationSchema {}

impl Schema for NotificationSchema {
    const MIGRATIONS: &'static [&'static str] = &[SCHEMA];
}

pub type SqliteStore = Migrated<NotificationSchema>;

const EVENT_COLUMNS: &str =
    "id, version, title, date_time, duration, venue_name, venue_city, cancelled";
const ORDER_COLUMNS: &str = "id, user_id, event_id, booking_reference, customer, lines, total, \
    expires_at, status, cancel_reason, paid";
const MAIL_COLUMNS: &str = "fact_id, recipient, user_id, kind, letter, state, claimed_at, sent_at, subject, error, created_at";

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("projection values serialise")
}

fn event_from(r: &Row<'_>) -> rusqlite::Result<EventRecord> {
    Ok(EventRecord {
        id: r.uuid(0)?,
        version: r.get::<_, i64>(1)? as u64,
        title: r.get(2)?,
        date_time: r.time(3)?,
        duration: r.get(4)?,
        venue_name: r.get(5)?,
        venue_city: r.get(6)?,
        cancelled: r.get(7)?,
    })
}

fn order_from(r: &Row<'_>) -> rusqlite::Result<OrderRecord> {
    let customer: Option<String> = r.get(4)?;
    Ok(OrderRecord {
        id: r.uuid(0)?,
        user_id: r.uuid(1)?,
        event_id: r.uuid(2)?,
        booking_reference: r.get(3)?,
        customer: match customer {
            Some(raw) => {
                Some(serde_json::from_str(&raw).map_err(|e| bad_column(4, e.to_string()))?)
            }
            None => None,
        },
        lines: r.json(5)?,
        total: r.json(6)?,
        expires_at: r.time(7)?,
        status: r.parsed(8, OrderStatus::parse)?,
        cancel_reason: r
            .get::<_, Option<String>>(9)?
            .map(|s| CancelReason::parse(&s).ok_or_else(|| bad_column(9, s)))
            .transpose()?,
        paid: r.get(10)?,
    })
}

fn mail_from(r: &Row<'_>) -> rusqlite::Result<Mail> {
    let state = match r.get::<_, String>(5)?.as_str() {
        "pending" => MailState::Pending,
        "sending" => MailState::Sending {
            claimed_at: r.time(6)?,
        },
        "sent" => MailState::Sent {
            at: r.time(7)?,
            subject: r.get::<_, Option<String>>(8)?.unwrap_or_default(),
        },
        "failed" => MailState::Failed {
            reason: r.get::<_, Option<String>>(9)?.unwrap_or_default(),
        },
        other => return Err(bad_column(5, other)),
    };
    Ok(Mail {
        key: MailKey {
            fact_id: r.get(0)?,
            recipient: r.get(1)?,
        },
        user_id: r.uuid(2)?,
        kind: r.parsed(3, NotificationKind::parse)?,
        letter: r.json(4)?,
        state,
        created_at: r.time(10)?,
    })
}

fn upsert_event(c: &Connection, e: &EventRecord) -> rusqlite::Result<()> {
    c.execute_cached(
        &format!(
            "INSERT INTO events ({EVENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT(id) DO UPDATE SET version = ?2, title = ?3, date_time = ?4, duration = ?5,
                 venue_name = ?6, venue_city = ?7, cancelled = ?8
             WHERE excluded.version > events.version"
        ),
        params![
            e.id.to_string(),
            e.version as i64,
            e.title,
            millis(e.date_time),
            e.duration,
            e.venue_name,
            e.venue_city,
            e.cancelled
        ],
    )?;
    Ok(())
}

fn upsert_order(c: &Connection, o: &OrderRecord) -> rusqlite::Result<()> {
    c.execute_cached(
        &format!(
            "INSERT OR REPLACE INTO orders ({ORDER_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        ),
        params![
            o.id.to_string(),
            o.user_id.to_string(),
            o.event_id.to_string(),
            o.booking_reference,
            o.customer.as_ref().map(to_json),
            to_json(&o.lines),
            to_json(&o.total),
            millis(o.expires_at),
            o.status.as_str(),
            o.cancel_reason.map(|r| r.as_str()),
            o.paid
        ],
    )?;
    Ok(())
}

fn insert_mail(c: &Connection, m: &Mail) -> rusqlite::Result<()> {
    // A mail recorded by an earlier attempt keeps its state.
    c.execute_cached(
        "INSERT OR IGNORE INTO mails (fact_id, recipient, user_id, kind, letter, state, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)",
        params![
            m.key.fact_id,
            m.key.recipient,
            m.user_id.to_string(),
            m.kind.as_str(),
            to_json(&m.letter),
            millis(m.created_at)
        ],
    )?;
    Ok(())
}

#[async_trait]
impl NotificationStore for SqliteStore {
    async fn event(&self, id: Uuid) -> Result<Option<EventRecord>, StoreError> {
        self.db
            .read(move |c| {
                Ok(row_by_id(
                    c,
                    &format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = ?1"),
                    id,
                    event_from,
                )?)
            })
            .await
    }

    async fn order(&self, id: Uuid) -> Result<Option<OrderRecord>, StoreError> {
        self.db
            .read(move |c| {
                Ok(row_by_id(
                    c,
                    &format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?1"),
                    id,
                    order_from,
                )?)
            })
            .await
    }

    async fn paid_orders_of_event(&self, event_id: Uuid) -> Result<Vec<OrderRecord>, StoreError> {
        self.db
            .read(move |c| {
                Ok(rows(
                    c,
                    &format!(
                        "SELECT {ORDER_COLUMNS} FROM orders WHERE event_id = ?1 AND paid = 1 ORDER BY id"
                    ),
                    [event_id.to_string()],
                    order_from,
                )?)
            })
            .await
    }

    async fn holds_ending(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<OrderRecord>, StoreError> {
        self.db
            .read(move |c| {
                Ok(rows(
                    c,
                    &format!(
                        "SELECT {ORDER_COLUMNS} FROM orders
                     WHERE status = 'pending' AND expires_at > ?1 AND expires_at <= ?2
                     ORDER BY expires_at"
                    ),
                    params![millis(from), millis(until)],
                    order_from,
                )?)
            })
            .await
    }

    async fn record(&self, fact: &FactRecord) -> Result<Recorded, StoreError> {
        let fact = fact.clone();
        self.db
            .write(move |tx| {
                let fresh = tx.execute_cached(
                    "INSERT OR IGNORE INTO processed_facts (fact_id, subject, processed_at)
                     VALUES (?1, ?2, ?3)",
                    params![fact.fact_id, fact.subject, millis(fact.at)],
                )?;
                if fresh == 0 {
                    return Ok(Changes::Undo(Recorded::Duplicate));
                }
                if let Some(e) = &fact.event {
                    upsert_event(tx, e)?;
                }
                if let Some(o) = &fact.order {
                    upsert_order(tx, o)?;
                }
                for m in &fact.mails {
                    insert_mail(tx, m)?;
                }
                Ok(Changes::Keep(Recorded::Applied))
            })
            .await
    }

    async fn unsent(
        &self,
        fact_id: Option<&str>,
        recorded_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Mail>, StoreError> {
        let fact_id = fact_id.map(str::to_string);
        self.db
            .read(move |c| {
                Ok(rows(
                    c,
                    &format!(
                        "SELECT {MAIL_COLUMNS} FROM mails
                     WHERE state IN ('pending', 'sending') AND (?1 IS NULL OR fact_id = ?1)
                       AND (?1 IS NOT NULL OR created_at <= ?2)
                     ORDER BY created_at, fact_id, recipient LIMIT ?3"
                    ),
                    params![fact_id, millis(recorded_before), limit],
                    mail_from,
                )?)
            })
            .await
    }

    async fn claim(
        &self,
        key: &MailKey,
        now: DateTime<Utc>,
        stale_before: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let key = key.clone();
        self.db
            .write(move |c| {
                let n = c.execute_cached(
                    "UPDATE mails SET state = 'sending', claimed_at = ?3
                     WHERE fact_id = ?1 AND recipient = ?2
                       AND (state = 'pending' OR (state = 'sending' AND claimed_at < ?4))",
                    params![
                        key.fact_id,
                        key.recipient,
                        millis(now),
                        millis(stale_before)
                    ],
                )?;
                Ok(Changes::Keep(n == 1))
            })
            .await
    }

    async fn mark_sent(
        &self,
        key: &MailKey,
        subject: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (key, subject) = (key.clone(), subject.to_string());
        self.db
            .write(move |c| {
                c.execute_cached(
                    "UPDATE mails SET state = 'sent', sent_at = ?3, subject = ?4, claimed_at = NULL
                     WHERE fact_id = ?1 AND recipient = ?2 AND state = 'sending'",
                    params![key.fact_id, key.recipient, millis(at), subject],
                )?;
                Ok(Changes::Keep(()))
            })
            .await
    }

    async fn release(&self, key: &MailKey) -> Result<(), StoreError> {
        let key = key.clone();
        self.db
            .write(move |c| {
                c.execute_cached(
                    "UPDATE mails SET state = 'pending', claimed_at = NULL
                     WHERE fact_id = ?1 AND recipient = ?2 AND state = 'sending'",
                    params![key.fact_id, key.recipient],
                )?;
                Ok(Changes::Keep(()))
            })
            .await
    }

    async fn mark_failed(&self, key: &MailKey, reason: &str) -> Result<(), StoreError> {
        let (key, reason) = (key.clone(), reason.to_string());
        self.db
            .write(move |c| {
                c.execute_cached(
                    "UPDATE mails SET state = 'failed', error = ?3, claimed_at = NULL
                     WHERE fact_id = ?1 AND recipient = ?2 AND state = 'sending'",
                    params![key.fact_id, key.recipient, reason],
                )?;
                Ok(Changes::Keep(()))
            })
            .await
    }

    async fn sent_to(&self, user_id: Uuid, limit: u32) -> Result<Vec<Mail>, StoreError> {
        self.db
            .read(move |c| {
                Ok(rows(
                    c,
                    &format!(
                        "SELECT {MAIL_COLUMNS} FROM mails WHERE user_id = ?1 AND state = 'sent'
                     ORDER BY sent_at DESC, created_at DESC, fact_id DESC LIMIT ?2"
                    ),
                    params![user_id.to_string(), limit],
                    mail_from,
                )?)
            })
            .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await
    }
}
