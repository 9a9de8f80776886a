//! The demo catalogue: realistic published events owned by the demo organizer, dated relative
//! to now so the catalogue always looks current. Loaded at start-up with `DEMO_DATA=true`, and
//! only into an empty database, so restarts and real data are never touched.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::config::DemoOrganizer;
use crate::domain::{Category, Event, Organizer, RefundPolicy, Status, TicketType, Venue};
use crate::facts;
use crate::store::EventStore;
use platform::money::{Currency, Money};

/// One demo event as written in `demo_catalogue.json`: the catalogue is data, kept apart from
/// the code that turns it into stored events.
#[derive(Deserialize)]
struct Demo {
    title: String,
    description: String,
    category: Category,
    venue: Venue,
    /// How many days from today it takes place, so the catalogue never goes stale.
    days_ahead: i64,
    starts_at: NaiveTime,
    /// Minutes.
    duration: u32,
    ticket_types: Vec<DemoTicket>,
}

#[derive(Deserialize)]
struct DemoTicket {
    name: String,
    price_cents: i64,
    quantity: u32,
    description: String,
}

const CATALOGUE: &str = include_str!("demo_catalogue.json");

fn catalogue() -> anyhow::Result<Vec<Demo>> {
    Ok(serde_json::from_str(CATALOGUE)?)
}

/// Every demo event lets buyers cancel for a refund until two days before it starts, so the
/// buyer's side of refunds can be tried on the demo catalogue.
const DEMO_REFUND_POLICY: RefundPolicy = RefundPolicy {
    allowed: true,
    until_hours_before: 48,
};

fn at(now: DateTime<Utc>, days_ahead: i64, time: NaiveTime) -> DateTime<Utc> {
    let day = now.date_naive() + Duration::days(days_ahead);
    day.and_time(time).and_utc()
}

/// The demo events as they would be stored; all published and in the future.
pub fn events(
    organizer: &DemoOrganizer,
    currency: Currency,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Event>> {
    Ok(catalogue()?
        .into_iter()
        .map(|d| Event {
            id: Uuid::new_v4(),
            title: d.title,
            description: d.description,
            category: d.category,
            venue: d.venue,
            date_time: at(now, d.days_ahead, d.starts_at),
            duration: d.duration,
            ticket_types: d
                .ticket_types
                .into_iter()
                .map(|t| TicketType {
                    name: t.name,
                    price: Money::from_minor_units(t.price_cents, currency),
                    quantity: t.quantity,
                    description: t.description,
                })
                .collect(),
            currency,
            organizer: Organizer {
                name: organizer.name.clone(),
                email: organizer.email.clone(),
                phone: None,
            },
            refund_policy: DEMO_REFUND_POLICY,
            sale: Default::default(),
            waitlist_enabled: true,
            status: Status::Published,
            created_by: organizer.id,
            is_active: true,
            version: 1,
            created_at: now,
            updated_at: now,
        })
        .collect())
}

/// Loads the demo catalogue if the store has no events; returns how many were added. Each
/// event is announced on the broker like any published event, so the ticket service can sell it.
pub async fn seed(
    store: &dyn EventStore,
    organizer: &DemoOrganizer,
    currency: Currency,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    if store.count().await? > 0 {
        return Ok(0);
    }
    let events = events(organizer, currency, now)?;
    let trace = platform::trace::continue_trace(None);
    for event in &events {
        let fact = facts::published(event, &trace)?;
        store.insert(event, Some(&fact)).await?;
    }
    Ok(events.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn organizer() -> DemoOrganizer {
        DemoOrganizer {
            id: Uuid::new_v4(),
            name: "Demo Organizer".into(),
            email: "organizer@demo.local".into(),
        }
    }

    #[test]
    fn the_demo_catalogue_obeys_the_rules_of_a_real_one() {
        let now = Utc::now();
        let events = events(&organizer(), Currency::USD, now).expect("the catalogue parses");
        assert!(events.len() >= 12);
        let categories: std::collections::HashSet<_> = events.iter().map(|e| e.category).collect();
        let cities: std::collections::HashSet<_> = events.iter().map(|e| e.city_key()).collect();
        assert!(categories.len() >= 6 && cities.len() >= 5);
        for e in &events {
            assert!(e.date_time > now, "{} is not in the future", e.title);
            assert!((3..=200).contains(&e.title.chars().count()));
            assert!((1..=10_080).contains(&e.duration), "{}", e.title);
            assert!((1..=20).contains(&e.ticket_types.len()));
            assert!(
                e.ticket_types.len() >= 2 || e.venue.capacity < 300,
                "{}",
                e.title
            );
            assert!(
                e.total_quantity() <= u64::from(e.venue.capacity),
                "{} oversold",
                e.title
            );
            assert!(
                e.ticket_types
                    .iter()
                    .all(|t| (1..=100_000).contains(&t.quantity))
            );
        }
    }
}
