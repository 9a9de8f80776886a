use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use platform::StoreError;
use platform::outbox::{self, OutboxMessage, OutboxStore, SqliteOutbox};
use platform::sqlite::{Changes, Migrated, RowExt, Schema, bad_column, millis, row_by_id, rows};
use rusqlite::types::ToSql;
use rusqlite::{OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{CatalogFilter, CatalogPage, EventStore};
use crate::domain::{
    Category, Event, Organizer, QueueSettings, RefundPolicy, SaleStart, Status, TicketType, Venue,
};
use crate::staff::{Roster, StaffEntry};
use platform::money::Money;

const EVENTS_DDL: &str = r#"
CREATE TABLE events (
    id              TEXT PRIMARY KEY,
    title           TEXT NOT NULL,
    description     TEXT NOT NULL,
    category        TEXT NOT NULL,
    venue_name      TEXT NOT NULL,
    venue_address   TEXT NOT NULL,
    venue_city      TEXT NOT NULL,
    venue_capacity  INTEGER NOT NULL,
    date_time       INTEGER NOT NULL,
    ends_at         INTEGER NOT NULL,
    duration        INTEGER NOT NULL,
    ticket_types    TEXT NOT NULL,
    currency        TEXT NOT NULL,
    organizer_name  TEXT NOT NULL,
    organizer_email TEXT NOT NULL,
    organizer_phone TEXT,
    status          TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    is_active       INTEGER NOT NULL,
    version         INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    -- Derived, lower-cased copies the catalogue filters compare against.
    city_key        TEXT NOT NULL,
    search_text     TEXT NOT NULL
);
CREATE INDEX events_catalog ON events(status, is_active, date_time, id);
CREATE INDEX events_by_category ON events(category, date_time);
CREATE INDEX events_by_city ON events(city_key, date_time);
CREATE INDEX events_by_creator ON events(created_by, created_at);
"#;

/// Events stored before refund policies existed read as refunds not offered.
const REFUND_POLICY_DDL: &str = r#"
ALTER TABLE events ADD COLUMN refund_allowed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN refund_until_hours_before INTEGER NOT NULL DEFAULT 0;
"#;

/// When booking opens and the waiting room (`queue` as JSON); older events: on sale at once.
const SALE_START_DDL: &str = r#"
ALTER TABLE events ADD COLUMN on_sale_at INTEGER;
ALTER TABLE events ADD COLUMN queue TEXT;
"#;

/// The organizer's waitlist switch; events from before it had their waitlist on.
const WAITLIST_SWITCH_DDL: &str = r#"
ALTER TABLE events ADD COLUMN waitlist_enabled INTEGER NOT NULL DEFAULT 1;
"#;

/// Check-in staff: one row per event, the list as JSON and its version.
const STAFF_DDL: &str = r#"
CREATE TABLE event_staff (
    event_id TEXT PRIMARY KEY,
    version  INTEGER NOT NULL,
    members  TEXT NOT NULL
);
"#;

/// A staff member inside the `members` JSON column.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredStaff {
    email: String,
    added_at: i64,
}

/// The outbox first: its DDL is the platform's, shared by every service. Append only: a file
/// records how many of these it has applied.
const MIGRATIONS: &[&str] = &[
    outbox::SQLITE_DDL,
    EVENTS_DDL,
    REFUND_POLICY_DDL,
    STAFF_DDL,
    SALE_START_DDL,
    WAITLIST_SWITCH_DDL,
];

const COLUMNS: &str = "id, title, description, category, venue_name, venue_address, venue_city, \
    venue_capacity, date_time, duration, ticket_types, currency, organizer_name, organizer_email, \
    organizer_phone, status, created_by, is_active, version, created_at, updated_at, \
    refund_allowed, refund_until_hours_before, \
    on_sale_at, queue, waitlist_enabled";

/// A ticket type inside the `ticket_types` JSON column.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredTicketType {
    name: String,
    price_minor: i64,
    quantity: u32,
    description: String,
}

fn event_from(r: &Row<'_>) -> rusqlite::Result<Event> {
    let types: String = r.get(10)?;
    let currency = r.currency(11)?;
    let types: Vec<StoredTicketType> =
        serde_json::from_str(&types).map_err(|e| bad_column(10, e.to_string()))?;
    Ok(Event {
        id: r.uuid(0)?,
        title: r.get(1)?,
        description: r.get(2)?,
        category: r.parsed(3, Category::parse)?,
        venue: Venue {
            name: r.get(4)?,
            address: r.get(5)?,
            city: r.get(6)?,
            capacity: r.get(7)?,
        },
        date_time: r.time(8)?,
        duration: r.get(9)?,
        ticket_types: types
            .into_iter()
            .map(|t| TicketType {
                name: t.name,
                price: Money::from_minor_units(t.price_minor, currency),
                quantity: t.quantity,
                description: t.description,
            })
            .collect(),
        currency,
        organizer: Organizer {
            name: r.get(12)?,
            email: r.get(13)?,
            phone: r.get(14)?,
        },
        status: r.parsed(15, Status::parse)?,
        created_by: r.uuid(16)?,
        is_active: r.get(17)?,
        version: r.get::<_, i64>(18)? as u64,
        created_at: r.time(19)?,
        updated_at: r.time(20)?,
        refund_policy: RefundPolicy {
            allowed: r.get(21)?,
            until_hours_before: r.get(22)?,
        },
        sale: SaleStart {
            on_sale_at: r
                .get::<_, Option<i64>>(23)?
                .and_then(DateTime::from_timestamp_millis),
            queue: match r.get::<_, Option<String>>(24)? {
                Some(json) => {
                    serde_json::from_str(&json).map_err(|e| bad_column(24, e.to_string()))?
                }
                None => QueueSettings::default(),
            },
        },
        waitlist_enabled: r.get(25)?,
    })
}

/// The values of every column, in table order, for INSERT and UPDATE alike.
fn row_values(e: &Event) -> Result<Vec<Box<dyn ToSql + Send>>, StoreError> {
    let types: Vec<StoredTicketType> = e
        .ticket_types
        .iter()
        .map(|t| StoredTicketType {
            name: t.name.clone(),
            price_minor: t.price.minor_units(),
            quantity: t.quantity,
            description: t.description.clone(),
        })
        .collect();
    let types = serde_json::to_string(&types).map_err(StoreError::backend)?;
    Ok(vec![
        Box::new(e.id.to_string()),
        Box::new(e.title.clone()),
        Box::new(e.description.clone()),
        Box::new(e.category.as_str()),
        Box::new(e.venue.name.clone()),
        Box::new(e.venue.address.clone()),
        Box::new(e.venue.city.clone()),
        Box::new(e.venue.capacity),
        Box::new(millis(e.date_time)),
        Box::new(millis(e.ends_at())),
        Box::new(e.duration),
        Box::new(types),
        Box::new(e.currency.as_str().to_string()),
        Box::new(e.organizer.name.clone()),
        Box::new(e.organizer.email.clone()),
        Box::new(e.organizer.phone.clone()),
        Box::new(e.status.as_str()),
        Box::new(e.created_by.to_string()),
        Box::new(e.is_active),
        Box::new(e.version as i64),
        Box::new(millis(e.created_at)),
        Box::new(millis(e.updated_at)),
        Box::new(e.city_key()),
        Box::new(e.search_text()),
        Box::new(e.refund_policy.allowed),
        Box::new(e.refund_policy.until_hours_before),
        Box::new(e.sale.on_sale_at.map(millis)),
        Box::new(serde_json::to_string(&e.sale.queue).map_err(StoreError::backend)?),
        Box::new(e.waitlist_enabled),
    ])
}

const ALL_COLUMNS: &str = "id, title, description, category, venue_name, venue_address, venue_city, \
    venue_capacity, date_time, ends_at, duration, ticket_types, currency, organizer_name, \
    organizer_email, organizer_phone, status, created_by, is_active, version, created_at, \
    updated_at, city_key, search_text, refund_allowed, refund_until_hours_before, on_sale_at, \
    queue, waitlist_enabled";

/// The tables of `event.db`.
pub enum EventSchema {}

impl Schema for EventSchema {
    const MIGRATIONS: &'static [&'static str] = MIGRATIONS;
}

pub type SqliteStore = Migrated<EventSchema>;

#[async_trait]
impl EventStore for SqliteStore {
    async fn insert(&self, event: &Event, fact: Option<&OutboxMessage>) -> Result<(), StoreError> {
        let values = row_values(event)?;
        let fact = fact.cloned();
        self.db
            .write(move |c| {
                let placeholders = (1..=values.len())
                    .map(|i| format!("?{i}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                c.execute(
                    &format!("INSERT INTO events ({ALL_COLUMNS}) VALUES ({placeholders})"),
                    rusqlite::params_from_iter(values.iter().map(|v| v as &dyn ToSql)),
                )?;
                if let Some(fact) = &fact {
                    outbox::insert_sqlite(c, fact)?;
                }
                Ok(Changes::Keep(()))
            })
            .await
    }

    async fn get(&self, id: Uuid) -> Result<Option<Event>, StoreError> {
        self.db
            .read(move |c| {
                Ok(row_by_id(
                    c,
                    &format!("SELECT {COLUMNS} FROM events WHERE id = ?1"),
                    id,
                    event_from,
                )?)
            })
            .await
    }

    async fn replace(
        &self,
        event: &Event,
        expected_version: u64,
        fact: Option<&OutboxMessage>,
    ) -> Result<bool, StoreError> {
        let values = row_values(event)?;
        let fact = fact.cloned();
        self.db
            .write(move |c| {
                let assignments = ALL_COLUMNS
                    .split(", ")
                    .enumerate()
                    .skip(1)
                    .map(|(i, col)| format!("{col} = ?{}", i + 1))
                    .collect::<Vec<_>>()
                    .join(", ");
                let version_param = values.len() + 1;
                let mut params: Vec<&dyn ToSql> = values.iter().map(|v| v as &dyn ToSql).collect();
                let expected = expected_version as i64;
                params.push(&expected);
                let changed = c.execute(
                    &format!("UPDATE events SET {assignments} WHERE id = ?1 AND version = ?{version_param}"),
                    params.as_slice(),
                )?;
                if changed == 0 {
                    return Ok(Changes::Keep(false));
                }
                if let Some(fact) = &fact {
                    outbox::insert_sqlite(c, fact)?;
                }
                Ok(Changes::Keep(true))
            })
            .await
    }

    async fn catalog(
        &self,
        filter: &CatalogFilter,
        now: DateTime<Utc>,
    ) -> Result<CatalogPage, StoreError> {
        let filter = filter.clone();
        self.db
            .read(move |c| {
                let mut clauses = vec!["status = 'published'", "is_active = 1", "ends_at > ?1"];
                let mut args: Vec<Box<dyn ToSql>> = vec![Box::new(millis(now))];
                let mut arg = |clause: &'static str, value: Box<dyn ToSql>| {
                    clauses.push(clause);
                    args.push(value);
                };
                if let Some(category) = filter.category {
                    arg("category = ?", Box::new(category.as_str()));
                }
                if let Some(city) = &filter.city {
                    arg("city_key = ?", Box::new(city.clone()));
                }
                if let Some(q) = &filter.q {
                    // instr, not LIKE: `%` and `_` in a search are plain characters.
                    arg("instr(search_text, ?) > 0", Box::new(q.clone()));
                }
                if let Some(from) = filter.from {
                    arg("date_time >= ?", Box::new(millis(from)));
                }
                if let Some(to) = filter.to {
                    arg("date_time <= ?", Box::new(millis(to)));
                }
                // `?` without a number takes the next index, after `?1`.
                let where_ = clauses.join(" AND ");
                let params: Vec<&dyn ToSql> = args.iter().map(|a| a.as_ref()).collect();
                let total: i64 = c.query_row(
                    &format!("SELECT COUNT(*) FROM events WHERE {where_}"),
                    params.as_slice(),
                    |r| r.get(0),
                )?;
                let mut stmt = c.prepare(&format!(
                    "SELECT {COLUMNS} FROM events WHERE {where_} ORDER BY date_time, id LIMIT {} OFFSET {}",
                    filter.limit,
                    filter.offset()
                ))?;
                let events = stmt
                    .query_map(params.as_slice(), event_from)?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(CatalogPage {
                    events,
                    total: total as u64,
                })
            })
            .await
    }

    async fn created_by(&self, user: Uuid) -> Result<Vec<Event>, StoreError> {
        self.db
            .read(move |c| {
                Ok(rows(
                    c,
                    &format!(
                        "SELECT {COLUMNS} FROM events WHERE created_by = ?1 ORDER BY created_at DESC, id DESC"
                    ),
                    [user.to_string()],
                    event_from,
                )?)
            })
            .await
    }

    async fn staff(&self, event_id: Uuid) -> Result<Roster, StoreError> {
        self.db
            .read(move |c| {
                let row: Option<(i64, String)> = c
                    .query_row(
                        "SELECT version, members FROM event_staff WHERE event_id = ?1",
                        [event_id.to_string()],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .optional()?;
                let Some((version, members)) = row else {
                    return Ok(Roster::default());
                };
                let members: Vec<StoredStaff> =
                    serde_json::from_str(&members).map_err(StoreError::backend)?;
                Ok(Roster {
                    version: version as u64,
                    members: members
                        .into_iter()
                        .map(|m| StaffEntry {
                            email: m.email,
                            added_at: platform::sqlite::from_millis(m.added_at),
                        })
                        .collect(),
                })
            })
            .await
    }

    async fn save_staff(
        &self,
        event_id: Uuid,
        roster: &Roster,
        expected_version: u64,
        fact: &OutboxMessage,
    ) -> Result<bool, StoreError> {
        let members: Vec<StoredStaff> = roster
            .members
            .iter()
            .map(|m| StoredStaff {
                email: m.email.clone(),
                added_at: millis(m.added_at),
            })
            .collect();
        let members = serde_json::to_string(&members).map_err(StoreError::backend)?;
        let (version, expected) = (roster.version as i64, expected_version as i64);
        let fact = fact.clone();
        self.db
            .write(move |c| {
                // The first list is an insert that a concurrent first list makes a no-op; every
                // later one an update of the version that was read.
                let changed = if expected == 0 {
                    c.execute(
                        "INSERT OR IGNORE INTO event_staff (event_id, version, members) VALUES (?1, ?2, ?3)",
                        rusqlite::params![event_id.to_string(), version, members],
                    )?
                } else {
                    c.execute(
                        "UPDATE event_staff SET version = ?2, members = ?3 WHERE event_id = ?1 AND version = ?4",
                        rusqlite::params![event_id.to_string(), version, members, expected],
                    )?
                };
                if changed == 0 {
                    return Ok(Changes::Keep(false));
                }
                outbox::insert_sqlite(c, &fact)?;
                Ok(Changes::Keep(true))
            })
            .await
    }

    async fn count(&self) -> Result<u64, StoreError> {
        self.db
            .read(|c| {
                Ok(c.query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0))? as u64)
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

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use platform::sqlite::Sqlite;

    use super::*;

    #[tokio::test]
    async fn a_file_from_before_refund_policies_opens_and_its_events_offer_no_refunds() {
        let dir = platform::testing::temp_dir();
        let path = dir.path().join("event.db");
        let mut event = crate::domain::tests::event(Status::Published, Duration::days(3));
        for t in [
            &mut event.date_time,
            &mut event.created_at,
            &mut event.updated_at,
        ] {
            *t = DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap();
        }
        let old_columns = ALL_COLUMNS
            .split(", ")
            .take_while(|c| !c.starts_with("refund_"))
            .collect::<Vec<_>>();
        let mut values = row_values(&event).unwrap();
        values.truncate(old_columns.len());
        let old = Sqlite::open(&path, &MIGRATIONS[..2]).unwrap();
        old.call(move |c| {
            let placeholders = vec!["?"; values.len()].join(", ");
            c.execute(
                &format!(
                    "INSERT INTO events ({}) VALUES ({placeholders})",
                    old_columns.join(", ")
                ),
                rusqlite::params_from_iter(values.iter().map(|v| v as &dyn ToSql)),
            )?;
            Ok(())
        })
        .await
        .unwrap();
        drop(old);

        let store = SqliteStore::open(&path).unwrap();
        let read = store.get(event.id).await.unwrap().expect("the old event");
        assert_eq!(read.refund_policy, RefundPolicy::default());
        assert_eq!(read, event);
    }
}
