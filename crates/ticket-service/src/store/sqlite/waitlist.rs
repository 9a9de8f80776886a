//! The waitlist on SQLite: the `waitlist` table (one row per entry; a partial unique index
//! allows one open entry per buyer and type) and the writes of [`crate::waitlist`]'s decisions.
//! A single connection serialises transactions, so an offer made in the transaction that frees
//! the seats is the first thing that can take them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use platform::StoreError;
use platform::sqlite::{Changes, RowExt, millis, row_by_id, rows};
use rusqlite::{Connection, OptionalExtension, Row, params};
use uuid::Uuid;

use super::{SqliteStore, change_stock, insert_facts, insert_order};
use crate::lifecycle::StockChange;
use crate::store::EventStatus;
use crate::store::waitlist::{JoinResult, TypeLength, WaitlistStore};
use crate::waitlist::{self, Entry, EntryCommand, EntryOutcome, EntryStatus, EntryUpdate, Line};

pub(super) const SCHEMA: &str = r#"
CREATE TABLE waitlist (
    id               TEXT PRIMARY KEY,
    event_id         TEXT NOT NULL,
    event_title      TEXT NOT NULL,
    ticket_type      TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    email            TEXT NOT NULL,
    first_name       TEXT NOT NULL,
    quantity         INTEGER NOT NULL,
    offer_secs       INTEGER NOT NULL,
    status           TEXT NOT NULL,
    joined_at        INTEGER NOT NULL,
    offer_expires_at INTEGER,
    order_id         TEXT,
    updated_at       INTEGER NOT NULL
);
CREATE UNIQUE INDEX waitlist_open_per_buyer ON waitlist(event_id, ticket_type, user_id)
    WHERE status IN ('waiting', 'offered');
CREATE INDEX waitlist_line ON waitlist(event_id, ticket_type, joined_at, id)
    WHERE status = 'waiting';
CREATE INDEX waitlist_offers_by_expiry ON waitlist(offer_expires_at) WHERE status = 'offered';
CREATE INDEX waitlist_by_user ON waitlist(user_id, event_id);
"#;

/// The organizer's switch on each event; events stored before it had their waitlist on.
pub(super) const SWITCH: &str = r#"
ALTER TABLE events ADD COLUMN waitlist_enabled INTEGER NOT NULL DEFAULT 1;
"#;

const COLUMNS: &str = "id, event_id, event_title, ticket_type, user_id, email, first_name, quantity, \
     offer_secs, status, joined_at, offer_expires_at, order_id, updated_at";

fn entry_from(r: &Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        id: r.uuid(0)?,
        event_id: r.uuid(1)?,
        event_title: r.get(2)?,
        ticket_type: r.get(3)?,
        user_id: r.uuid(4)?,
        email: r.get(5)?,
        first_name: r.get(6)?,
        quantity: r.get(7)?,
        offer_secs: r.get(8)?,
        status: r.parsed(9, EntryStatus::parse)?,
        joined_at: r.time(10)?,
        offer_expires_at: r.opt_time(11)?,
        order_id: r.opt_uuid(12)?,
        updated_at: r.time(13)?,
    })
}

fn load_entry(c: &Connection, id: Uuid) -> rusqlite::Result<Option<Entry>> {
    row_by_id(
        c,
        &format!("SELECT {COLUMNS} FROM waitlist WHERE id = ?1"),
        id,
        entry_from,
    )
}

/// The entries still waiting for one type, in join order.
fn line(c: &Connection, event_id: Uuid, ticket_type: &str) -> rusqlite::Result<Vec<Entry>> {
    rows(
        c,
        &format!(
            "SELECT {COLUMNS} FROM waitlist
         WHERE event_id = ?1 AND ticket_type = ?2 AND status = 'waiting' ORDER BY joined_at, id"
        ),
        params![event_id.to_string(), ticket_type],
        entry_from,
    )
}

fn available(c: &Connection, event_id: Uuid, ticket_type: &str) -> rusqlite::Result<Option<u32>> {
    c.query_row(
        "SELECT capacity - sold - held FROM inventory WHERE event_id = ?1 AND ticket_type = ?2",
        params![event_id.to_string(), ticket_type],
        |r| r.get(0),
    )
    .optional()
}

/// Whether the event's lines take entries and get offers.
fn line_of_event(c: &Connection, event_id: Uuid) -> rusqlite::Result<Line> {
    let stored: Option<(String, bool)> = c
        .query_row(
            "SELECT status, waitlist_enabled FROM events WHERE id = ?1",
            [event_id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(match stored {
        Some((status, enabled)) => Line::of(EventStatus::parse(&status), enabled),
        None => Line::of(None, false),
    })
}

/// Writes an entry's new state, only while it still has the status it was read in.
fn update_entry(tx: &Connection, u: &EntryUpdate) -> Result<(), StoreError> {
    let e = &u.entry;
    let changed = tx.execute(
        "UPDATE waitlist SET status = ?2, offer_expires_at = ?3, order_id = ?4, updated_at = ?5
         WHERE id = ?1 AND status = ?6",
        params![
            e.id.to_string(),
            e.status.as_str(),
            e.offer_expires_at.map(millis),
            e.order_id.map(|o| o.to_string()),
            millis(e.updated_at),
            u.from.as_str(),
        ],
    )?;
    if changed != 1 {
        return Err(StoreError::corrupt(format!(
            "waitlist entry {} changed inside a transaction",
            e.id
        )));
    }
    Ok(())
}

fn must_change_stock(tx: &Connection, c: &StockChange) -> Result<(), StoreError> {
    if change_stock(tx, c)? {
        Ok(())
    } else {
        Err(StoreError::corrupt(format!(
            "stock {} / {} cannot take {c:?} for the waitlist",
            c.event_id, c.ticket_type
        )))
    }
}

/// Offers the available seats of one type to its line ([`waitlist::offers`]), inside `tx`.
fn offer_type(tx: &Connection, event_id: Uuid, ticket_type: &str) -> Result<(), StoreError> {
    let open = line_of_event(tx, event_id)?;
    if open != Line::Open {
        return Ok(());
    }
    let Some(free) = available(tx, event_id, ticket_type)? else {
        return Ok(());
    };
    let waiting = line(tx, event_id, ticket_type)?;
    for offer in waitlist::offers(open, free, &waiting, platform::time::now()) {
        update_entry(tx, &offer.update)?;
        must_change_stock(tx, &offer.hold)?;
        insert_facts(tx, std::slice::from_ref(&offer.fact))?;
    }
    Ok(())
}

/// After `stock` was written: the seats it gave back go to the waitlists first, in `tx`.
pub(super) fn offer_freed(tx: &Connection, stock: &[StockChange]) -> Result<(), StoreError> {
    for (event_id, ticket_type) in waitlist::freed(stock) {
        offer_type(tx, event_id, &ticket_type)?;
    }
    Ok(())
}

fn insert_entry(tx: &Connection, e: &Entry) -> Result<(), StoreError> {
    tx.execute(
        &format!("INSERT INTO waitlist ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"),
        params![
            e.id.to_string(),
            e.event_id.to_string(),
            e.event_title,
            e.ticket_type,
            e.user_id.to_string(),
            e.email,
            e.first_name,
            e.quantity,
            e.offer_secs,
            e.status.as_str(),
            millis(e.joined_at),
            e.offer_expires_at.map(millis),
            e.order_id.map(|o| o.to_string()),
            millis(e.updated_at),
        ],
    )?;
    Ok(())
}

fn open_entry(c: &Connection, e: &Entry) -> rusqlite::Result<Option<Entry>> {
    c.query_row(
        &format!(
            "SELECT {COLUMNS} FROM waitlist WHERE event_id = ?1 AND ticket_type = ?2 AND user_id = ?3
             AND status IN ('waiting', 'offered')"
        ),
        params![e.event_id.to_string(), e.ticket_type, e.user_id.to_string()],
        entry_from,
    )
    .optional()
}

fn position_in(c: &Connection, e: &Entry) -> rusqlite::Result<Option<u32>> {
    Ok(waitlist::position(e, &line(c, e.event_id, &e.ticket_type)?))
}

fn join_in(tx: &Connection, entry: &Entry) -> Result<JoinResult, StoreError> {
    if let Some(open) = open_entry(tx, entry)? {
        let position = position_in(tx, &open)?;
        return Ok(JoinResult::AlreadyIn(open, position));
    }
    match line_of_event(tx, entry.event_id)? {
        Line::Open => {}
        Line::Off => return Ok(JoinResult::Off),
        Line::NotOnSale => return Ok(JoinResult::NotOnSale),
    }
    match available(tx, entry.event_id, &entry.ticket_type)? {
        None => return Ok(JoinResult::NotOnSale),
        Some(available) if available >= entry.quantity => {
            return Ok(JoinResult::NotSoldOut { available });
        }
        Some(_) => {}
    }
    insert_entry(tx, entry)?;
    let position = position_in(tx, entry)?.unwrap_or(1);
    Ok(JoinResult::Joined(entry.clone(), position))
}

fn settle_in(
    tx: &Connection,
    entry_id: Uuid,
    command: &EntryCommand,
    traceparent: Option<&str>,
) -> Result<EntryOutcome, StoreError> {
    let entry = load_entry(tx, entry_id)?;
    let d = waitlist::decide(entry, command, platform::time::now(), traceparent);
    if let Some(update) = &d.update {
        update_entry(tx, update)?;
        insert_facts(tx, &d.facts)?;
    }
    if let Some(placement) = &d.placement {
        insert_order(tx, &placement.order)?;
        insert_facts(tx, &placement.facts)?;
    }
    if let Some(release) = &d.release {
        must_change_stock(tx, release)?;
        offer_freed(tx, std::slice::from_ref(release))?;
    }
    Ok(d.outcome)
}

#[async_trait]
impl WaitlistStore for SqliteStore {
    async fn join_waitlist(&self, entry: &Entry) -> Result<JoinResult, StoreError> {
        let entry = entry.clone();
        self.db
            .write(move |c| {
                let result = join_in(c, &entry)?;
                Ok(if matches!(result, JoinResult::Joined(..)) {
                    Changes::Keep(result)
                } else {
                    Changes::Undo(result)
                })
            })
            .await
    }

    async fn waitlist_entry(&self, id: Uuid) -> Result<Option<Entry>, StoreError> {
        self.db.read(move |c| Ok(load_entry(c, id)?)).await
    }

    async fn waitlist_of_user(
        &self,
        event_id: Uuid,
        user_id: Uuid,
    ) -> Result<Vec<(Entry, Option<u32>)>, StoreError> {
        self.db
            .read(move |c| {
                let entries = rows(
                    c,
                    &format!(
                        "SELECT {COLUMNS} FROM waitlist WHERE user_id = ?1 AND event_id = ?2
                     ORDER BY status NOT IN ('waiting', 'offered'), joined_at DESC, id DESC"
                    ),
                    params![user_id.to_string(), event_id.to_string()],
                    entry_from,
                )?;
                let mut out = Vec::with_capacity(entries.len());
                for e in entries {
                    let position = position_in(c, &e)?;
                    out.push((e, position));
                }
                Ok(out)
            })
            .await
    }

    async fn settle_entry(
        &self,
        entry_id: Uuid,
        command: &EntryCommand,
        traceparent: Option<&str>,
    ) -> Result<EntryOutcome, StoreError> {
        let command = command.clone();
        let traceparent = traceparent.map(str::to_string);
        self.db
            .write(move |c| {
                let outcome = settle_in(c, entry_id, &command, traceparent.as_deref())?;
                Ok(Changes::Keep(outcome))
            })
            .await
    }

    async fn offers_due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Uuid>, StoreError> {
        self.db
            .read(move |c| {
                Ok(super::ids(
                    c,
                    "SELECT id FROM waitlist WHERE status = 'offered' AND offer_expires_at <= ?1
                     ORDER BY offer_expires_at LIMIT ?2",
                    params![millis(now), limit as i64],
                )?)
            })
            .await
    }

    async fn entries_to_close(&self, limit: usize) -> Result<Vec<Uuid>, StoreError> {
        self.db
            .read(move |c| {
                Ok(super::ids(
                    c,
                    "SELECT w.id FROM events e JOIN waitlist w ON w.event_id = e.id
                     WHERE e.status = 'cancelled' AND w.status IN ('waiting', 'offered')
                     LIMIT ?1",
                    [limit as i64],
                )?)
            })
            .await
    }

    async fn waitlist_lengths(&self, event_id: Uuid) -> Result<Vec<TypeLength>, StoreError> {
        self.db
            .read(move |c| {
                let lengths = rows(
                    c,
                    "SELECT i.ticket_type,
                        COUNT(w.id) FILTER (WHERE w.status = 'waiting'),
                        COALESCE(SUM(w.quantity) FILTER (WHERE w.status = 'waiting'), 0),
                        COUNT(w.id) FILTER (WHERE w.status = 'offered')
                     FROM inventory i
                     LEFT JOIN waitlist w ON w.event_id = i.event_id AND w.ticket_type = i.ticket_type
                     WHERE i.event_id = ?1
                     GROUP BY i.ticket_type, i.position ORDER BY i.position",
                    [event_id.to_string()],
                    |r| {
                        Ok(TypeLength {
                            ticket_type: r.get(0)?,
                            waiting: r.get(1)?,
                            waiting_seats: r.get(2)?,
                            offered: r.get(3)?,
                        })
                    },
                )?;
                Ok(lengths)
            })
            .await
    }
}
