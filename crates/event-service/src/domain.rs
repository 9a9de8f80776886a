//! The catalogue's model and the rules of an event's life: draft -> published -> cancelled.

use chrono::{DateTime, Utc};
use platform::VerifiedUser;
use uuid::Uuid;

use platform::money::{Currency, Money};

/// The category, the life-cycle status, the refund policy, the venue and the organizer are words
/// of the API, stored as they are shown; the rules of an event's life are below.
pub use api_types::events::{
    Category, OrganizerView as Organizer, RefundPolicy, Status, VenueView as Venue,
};
pub use api_types::queue::{QueueSettings, SaleStart};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketType {
    pub name: String,
    pub price: Money,
    pub quantity: u32,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub category: Category,
    pub venue: Venue,
    pub date_time: DateTime<Utc>,
    /// Minutes.
    pub duration: u32,
    pub ticket_types: Vec<TicketType>,
    pub currency: Currency,
    pub organizer: Organizer,
    /// Whether buyers may cancel paid orders for a refund; the ticket service applies it.
    pub refund_policy: RefundPolicy,
    /// When booking opens and the waiting room before it; the ticket service applies it.
    pub sale: SaleStart,
    /// Whether sold-out types take waitlist entries and freed seats are offered to them; the
    /// ticket service applies it.
    pub waitlist_enabled: bool,
    pub status: Status,
    pub created_by: Uuid,
    /// Soft-delete flag (the seed's); inactive events leave the catalogue.
    pub is_active: bool,
    /// Grows by one with every change; guards concurrent edits and orders catalogue facts.
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Why a status change is refused; each has a stable code (HTTP 409).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("The event is already published.")]
    AlreadyPublished,
    #[error("The event is already cancelled.")]
    AlreadyCancelled,
    #[error("A cancelled event cannot be changed.")]
    Cancelled,
    #[error("The event has already taken place.")]
    Finished,
    #[error("An event dated in the past cannot be published; move its date first.")]
    InPast,
}

impl TransitionError {
    pub fn code(self) -> &'static str {
        match self {
            TransitionError::AlreadyPublished => "already_published",
            TransitionError::AlreadyCancelled => "already_cancelled",
            TransitionError::Cancelled => "event_cancelled",
            TransitionError::Finished => "event_finished",
            TransitionError::InPast => "event_in_past",
        }
    }
}

impl Event {
    /// An event starting at `starts`, made by `created_by`: a 100-seat hall with one ticket type
    /// of 100 seats at 10.00 USD; times to the millisecond, as the stores keep them. For tests,
    /// also for states the API refuses to create (such as past events).
    #[cfg(any(test, feature = "testing"))]
    pub fn sample(status: Status, starts: DateTime<Utc>, created_by: Uuid) -> Event {
        let to_millis = |t: DateTime<Utc>| {
            DateTime::from_timestamp_millis(t.timestamp_millis()).expect("a time in range")
        };
        let now = to_millis(Utc::now());
        Event {
            id: Uuid::new_v4(),
            title: "Stored Event".into(),
            description: "Made by a test.".into(),
            category: Category::Music,
            venue: Venue {
                name: "Hall".into(),
                address: "1 Main St".into(),
                city: "Springfield".into(),
                capacity: 100,
            },
            date_time: to_millis(starts),
            duration: 60,
            ticket_types: vec![TicketType {
                name: "General".into(),
                price: Money::from_minor_units(1000, Currency::USD),
                quantity: 100,
                description: String::new(),
            }],
            currency: Currency::USD,
            organizer: Organizer {
                name: "Org".into(),
                email: "org@example.com".into(),
                phone: None,
            },
            refund_policy: RefundPolicy::default(),
            sale: SaleStart::default(),
            waitlist_enabled: true,
            status,
            created_by,
            is_active: true,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn ends_at(&self) -> DateTime<Utc> {
        self.date_time + chrono::Duration::minutes(i64::from(self.duration))
    }

    pub fn is_finished(&self, now: DateTime<Utc>) -> bool {
        self.ends_at() <= now
    }

    /// The owner or an admin.
    pub fn can_manage(&self, user: &VerifiedUser) -> bool {
        user.id == self.created_by || user.is_admin()
    }

    /// Published, active events are public; everything else only for those who manage it.
    pub fn is_visible_to(&self, user: Option<&VerifiedUser>) -> bool {
        (self.status == Status::Published && self.is_active)
            || user.is_some_and(|u| self.can_manage(u))
    }

    pub fn total_quantity(&self) -> u64 {
        self.ticket_types
            .iter()
            .map(|t| u64::from(t.quantity))
            .sum()
    }

    /// Lower-cased title and description: what `q` searches, the same way in every store.
    pub fn search_text(&self) -> String {
        format!("{}\n{}", self.title, self.description).to_lowercase()
    }

    /// The city as the `city` filter matches it.
    pub fn city_key(&self) -> String {
        city_key(&self.venue.city)
    }

    /// Edits are allowed until the event is cancelled or over.
    pub fn check_editable(&self, now: DateTime<Utc>) -> Result<(), TransitionError> {
        match self.status {
            Status::Cancelled => Err(TransitionError::Cancelled),
            _ if self.is_finished(now) => Err(TransitionError::Finished),
            _ => Ok(()),
        }
    }

    pub fn publish(&mut self, now: DateTime<Utc>) -> Result<(), TransitionError> {
        match self.status {
            Status::Published => return Err(TransitionError::AlreadyPublished),
            Status::Cancelled => return Err(TransitionError::Cancelled),
            Status::Draft if self.date_time <= now => return Err(TransitionError::InPast),
            Status::Draft => {}
        }
        self.status = Status::Published;
        self.touch(now);
        Ok(())
    }

    /// Final: a cancelled event never comes back.
    pub fn cancel(&mut self, now: DateTime<Utc>) -> Result<(), TransitionError> {
        match self.status {
            Status::Cancelled => return Err(TransitionError::AlreadyCancelled),
            _ if self.is_finished(now) => return Err(TransitionError::Finished),
            _ => {}
        }
        self.status = Status::Cancelled;
        self.touch(now);
        Ok(())
    }

    /// Records a change: new version, new `updatedAt`.
    pub fn touch(&mut self, now: DateTime<Utc>) {
        self.version += 1;
        self.updated_at = now;
    }
}

pub fn city_key(city: &str) -> String {
    city.trim().to_lowercase()
}

/// Same name, ignoring case and surrounding spaces.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// After publication buyers may hold tickets of every existing type, so a type can gain seats or
/// new types can appear, but none can disappear or shrink. Returns every offending type.
pub fn shrunk_ticket_types(before: &[TicketType], after: &[TicketType]) -> Vec<TicketShrink> {
    before
        .iter()
        .filter_map(|old| {
            let key = name_key(&old.name);
            match after.iter().find(|new| name_key(&new.name) == key) {
                None => Some(TicketShrink::Removed(old.name.clone())),
                Some(new) if new.quantity < old.quantity => Some(TicketShrink::Reduced {
                    name: old.name.clone(),
                    from: old.quantity,
                    to: new.quantity,
                }),
                Some(_) => None,
            }
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketShrink {
    Removed(String),
    Reduced { name: String, from: u32, to: u32 },
}

impl std::fmt::Display for TicketShrink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TicketShrink::Removed(name) => {
                write!(
                    f,
                    "Ticket type \"{name}\" cannot be removed after publication."
                )
            }
            TicketShrink::Reduced { name, from, to } => write!(
                f,
                "Ticket type \"{name}\" cannot go from {from} to {to} tickets after publication; it can only grow."
            ),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use platform::money::Currency;

    fn ticket(name: &str, quantity: u32) -> TicketType {
        TicketType {
            name: name.into(),
            price: Money::from_minor_units(1000, Currency::USD),
            quantity,
            description: String::new(),
        }
    }

    /// An event `starts_in` from now, for the unit tests of this crate.
    pub(crate) fn event(status: Status, starts_in: chrono::Duration) -> Event {
        Event::sample(status, Utc::now() + starts_in, Uuid::new_v4())
    }

    #[test]
    fn a_draft_in_the_future_can_be_published_once() {
        let mut e = event(Status::Draft, chrono::Duration::days(1));
        e.publish(Utc::now()).unwrap();
        assert_eq!(e.status, Status::Published);
        assert_eq!(e.version, 2);
        assert_eq!(
            e.publish(Utc::now()),
            Err(TransitionError::AlreadyPublished)
        );
    }

    #[test]
    fn a_draft_in_the_past_cannot_be_published() {
        let mut e = event(Status::Draft, chrono::Duration::hours(-1));
        assert_eq!(e.publish(Utc::now()), Err(TransitionError::InPast));
        assert_eq!(e.version, 1);
    }

    #[test]
    fn cancelling_is_final() {
        let mut e = event(Status::Published, chrono::Duration::days(1));
        e.cancel(Utc::now()).unwrap();
        assert_eq!(e.cancel(Utc::now()), Err(TransitionError::AlreadyCancelled));
        assert_eq!(e.publish(Utc::now()), Err(TransitionError::Cancelled));
        assert_eq!(
            e.check_editable(Utc::now()),
            Err(TransitionError::Cancelled)
        );
    }

    #[test]
    fn an_event_that_is_over_cannot_be_cancelled_or_edited() {
        let mut e = event(Status::Published, chrono::Duration::hours(-2));
        assert_eq!(e.cancel(Utc::now()), Err(TransitionError::Finished));
        assert_eq!(e.check_editable(Utc::now()), Err(TransitionError::Finished));
    }

    #[test]
    fn ticket_types_may_grow_but_not_shrink_or_disappear() {
        let before = vec![ticket("General", 50), ticket("VIP", 10)];
        assert!(
            shrunk_ticket_types(
                &before,
                &[ticket("general", 60), ticket("VIP", 10), ticket("Box", 2)]
            )
            .is_empty()
        );
        assert_eq!(
            shrunk_ticket_types(&before, &[ticket("General", 49)]),
            vec![
                TicketShrink::Reduced {
                    name: "General".into(),
                    from: 50,
                    to: 49
                },
                TicketShrink::Removed("VIP".into())
            ]
        );
    }

    #[test]
    fn only_the_owner_or_an_admin_sees_a_draft() {
        let e = event(Status::Draft, chrono::Duration::days(1));
        let user = |id, role| VerifiedUser {
            id,
            email: "x@example.com".into(),
            first_name: "X".into(),
            last_name: "Y".into(),
            role,
        };
        assert!(!e.is_visible_to(None));
        assert!(!e.is_visible_to(Some(&user(Uuid::new_v4(), platform::Role::User))));
        assert!(e.is_visible_to(Some(&user(e.created_by, platform::Role::User))));
        assert!(e.is_visible_to(Some(&user(Uuid::new_v4(), platform::Role::Admin))));
    }
}
