//! The demo catalogue: realistic published events owned by the demo organizer, dated relative
//! to now so the catalogue always looks current. Loaded at start-up with `DEMO_DATA=true`, and
//! only into an empty database, so restarts and real data are never touched.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use uuid::Uuid;

use crate::config::DemoOrganizer;
use crate::domain::{Category, Event, Organizer, RefundPolicy, Status, TicketType, Venue};
use crate::facts;
use crate::store::EventStore;
use platform::money::{Currency, Money};

struct Demo {
    title: &'static str,
    description: &'static str,
    category: Category,
    venue: (&'static str, &'static str, &'static str, u32),
    days_ahead: i64,
    starts: (u32, u32),
    duration: u32,
    /// (name, price in cents, quantity, description)
    tickets: &'static [(&'static str, i64, u32, &'static str)],
}

const CATALOGUE: &[Demo] = &[
    Demo {
        title: "Midnight Jazz at the Blue Room",
        description: "An intimate late-night set from the Marcus Hale Quartet: standards, originals and a few surprises. Two sets with a short interval.",
        category: Category::Music,
        venue: ("The Blue Room", "418 W Randolph St", "Chicago", 220),
        days_ahead: 6,
        starts: (21, 30),
        duration: 150,
        tickets: &[
            ("General Admission", 3500, 150, "Standing and bar seating"),
            (
                "Table for Two",
                9000,
                30,
                "Reserved table for two guests, one drink each",
            ),
        ],
    },
    Demo {
        title: "Summer Sound Festival",
        description: "Three stages, twenty-four artists, one weekend by the river. Food trucks, a silent disco and camping on site.",
        category: Category::Festival,
        venue: ("Riverside Park", "1 Riverside Dr", "Austin", 12000),
        days_ahead: 45,
        starts: (12, 0),
        duration: 2 * 24 * 60 + 600,
        tickets: &[
            ("Weekend Pass", 18900, 8000, "Entry both days"),
            (
                "Weekend + Camping",
                24900,
                2500,
                "Entry both days and a camping pitch",
            ),
            ("VIP Weekend", 44900, 500, "Fast lane, VIP deck and lounge"),
        ],
    },
    Demo {
        title: "City Derby: Rovers vs. United",
        description: "The season's most anticipated local derby. Gates open 90 minutes before kick-off.",
        category: Category::Sports,
        venue: ("Northgate Stadium", "200 Stadium Way", "Manchester", 30000),
        days_ahead: 12,
        starts: (15, 0),
        duration: 120,
        tickets: &[
            ("Home End", 4500, 14000, "Behind the home goal"),
            ("Away End", 4500, 4000, "Visiting supporters"),
            (
                "Main Stand",
                7500,
                9000,
                "Covered seating along the halfway line",
            ),
        ],
    },
    Demo {
        title: "Hamlet — A New Production",
        description: "Shakespeare's tragedy in a bold modern staging by the Riverside Company. Running time about three hours including one interval.",
        category: Category::Theater,
        venue: ("Old Vic Playhouse", "103 The Cut", "London", 900),
        days_ahead: 9,
        starts: (19, 30),
        duration: 180,
        tickets: &[
            ("Stalls", 6500, 400, "Ground-floor seating"),
            ("Dress Circle", 5200, 300, "First balcony"),
            ("Upper Circle", 2500, 180, "Restricted view in some seats"),
        ],
    },
    Demo {
        title: "Laugh Track: Stand-Up Showcase",
        description: "Five up-and-coming comedians, one seasoned headliner and a host who refuses to behave. Strictly 18+.",
        category: Category::Comedy,
        venue: ("The Basement Club", "77 Bleecker St", "New York", 180),
        days_ahead: 3,
        starts: (20, 0),
        duration: 120,
        tickets: &[
            ("Standard", 2250, 150, "Unreserved seating"),
            ("Front Row", 4000, 20, "You will be talked to"),
        ],
    },
    Demo {
        title: "RustConf Europe",
        description: "Two days of talks on systems programming, async Rust, embedded and the web, plus a hallway track that never ends.",
        category: Category::Conference,
        venue: ("Congress Center", "Alexanderstraße 11", "Berlin", 1500),
        days_ahead: 60,
        starts: (9, 0),
        duration: 2 * 24 * 60 - 15 * 60,
        tickets: &[
            ("Early Bird", 29900, 400, "Both days, lunch included"),
            ("Regular", 39900, 900, "Both days, lunch included"),
            ("Student", 9900, 150, "Valid student ID required at entry"),
        ],
    },
    Demo {
        title: "Sourdough Masterclass",
        description: "Learn to feed a starter, shape a loaf and bake it at home. All ingredients provided; take your bread with you.",
        category: Category::Workshop,
        venue: (
            "Flour & Co. Bakery School",
            "12 Market Row",
            "San Francisco",
            24,
        ),
        days_ahead: 15,
        starts: (10, 0),
        duration: 240,
        tickets: &[
            (
                "Participant",
                8550,
                20,
                "Hands-on place with apron and starter to take home",
            ),
            ("Observer", 2500, 4, "Watch and taste"),
        ],
    },
    Demo {
        title: "Symphony Under the Stars",
        description: "The City Philharmonic plays Dvořák's New World Symphony in the open air. Bring a blanket; picnics welcome.",
        category: Category::Music,
        venue: (
            "Botanic Gardens Lawn",
            "1000 Lake Shore Blvd",
            "Chicago",
            5000,
        ),
        days_ahead: 21,
        starts: (19, 0),
        duration: 120,
        tickets: &[
            ("Lawn", 2000, 4000, "Bring your own blanket"),
            ("Reserved Chair", 5500, 800, "Numbered chair near the stage"),
        ],
    },
    Demo {
        title: "Marathon Expo & Fun Run",
        description: "A 5K fun run through the old town followed by the expo: gear, nutrition and talks from elite runners.",
        category: Category::Sports,
        venue: ("Harbour Front", "Pier 4", "Sydney", 3000),
        days_ahead: 30,
        starts: (7, 30),
        duration: 360,
        tickets: &[
            ("Fun Run Entry", 3000, 2000, "Includes medal and T-shirt"),
            ("Expo Only", 0, 1000, "Free entry to the expo hall"),
        ],
    },
    Demo {
        title: "Improv Night: Make It Up",
        description: "Your suggestions, their scenes. The Unscripted Players improvise a full show from audience prompts.",
        category: Category::Comedy,
        venue: ("Second Stage", "1608 N Wells St", "Chicago", 200),
        days_ahead: 10,
        starts: (20, 30),
        duration: 90,
        tickets: &[
            ("General", 1800, 180, "Unreserved seating"),
            ("Front Row", 3000, 20, "Expect to be part of the show"),
        ],
    },
    Demo {
        title: "Product Design Summit",
        description: "Design leaders from around the world on research, systems and shipping great products. Workshops in the afternoon.",
        category: Category::Conference,
        venue: (
            "Pier 27 Conference Hall",
            "The Embarcadero",
            "San Francisco",
            800,
        ),
        days_ahead: 38,
        starts: (9, 30),
        duration: 480,
        tickets: &[
            (
                "Conference Pass",
                24900,
                600,
                "Talks, lunch and the evening reception",
            ),
            (
                "Workshop Add-on",
                9900,
                120,
                "One afternoon workshop of your choice",
            ),
        ],
    },
    Demo {
        title: "The Nutcracker",
        description: "The classic holiday ballet with the National Ballet company and live orchestra. Suitable for all ages.",
        category: Category::Theater,
        venue: ("Royal Opera House", "Bow St", "London", 2200),
        days_ahead: 52,
        starts: (14, 0),
        duration: 135,
        tickets: &[
            ("Orchestra", 8900, 900, "Best views of the stage"),
            ("Balcony", 4900, 1000, "Upper levels"),
            ("Child (under 12)", 2500, 300, "Accompanied by an adult"),
        ],
    },
    Demo {
        title: "Street Food & Lights Festival",
        description: "Forty street-food stalls, light installations across the old harbour and live DJs every evening.",
        category: Category::Festival,
        venue: ("Old Harbour", "Hafenstraße 1", "Berlin", 6000),
        days_ahead: 18,
        starts: (17, 0),
        duration: 360,
        tickets: &[
            ("Entry", 800, 5000, "Food and drink sold separately"),
            ("Tasting Pass", 3500, 800, "Entry plus ten tasting tokens"),
        ],
    },
    Demo {
        title: "Intro to Watercolour",
        description: "A relaxed beginners' class: materials, techniques and a finished landscape by the end of the afternoon.",
        category: Category::Workshop,
        venue: ("Canal Street Studio", "5 Canal St", "New York", 16),
        days_ahead: 8,
        starts: (13, 0),
        duration: 180,
        tickets: &[
            ("Seat", 6000, 12, "All materials included"),
            (
                "Seat + Take-home Kit",
                8500,
                4,
                "Materials plus a brush set and paper to keep",
            ),
        ],
    },
    Demo {
        title: "Indie Night: The Paper Lanterns",
        description: "The Paper Lanterns bring their new album on tour with support from Moss & Mirrors.",
        category: Category::Music,
        venue: ("Electric Ballroom", "184 Camden High St", "London", 1100),
        days_ahead: 26,
        starts: (19, 30),
        duration: 180,
        tickets: &[
            ("Standing", 2850, 1000, "General admission"),
            ("Balcony Seat", 3950, 100, "Seated balcony"),
        ],
    },
    Demo {
        title: "Charity Gala & Auction",
        description: "An evening of dinner, live music and an auction in support of local food banks. Black tie optional.",
        category: Category::Other,
        venue: ("Grand Hotel Ballroom", "1 Park Ave", "New York", 400),
        days_ahead: 33,
        starts: (18, 30),
        duration: 300,
        tickets: &[
            ("Dinner Seat", 15000, 300, "Three-course dinner"),
            (
                "Table of Ten",
                135000,
                10,
                "A reserved table for ten guests",
            ),
        ],
    },
];

/// Every demo event lets buyers cancel for a refund until two days before it starts, so the
/// buyer's side of refunds can be tried on the demo catalogue.
const DEMO_REFUND_POLICY: RefundPolicy = RefundPolicy {
    allowed: true,
    until_hours_before: 48,
};

fn at(now: DateTime<Utc>, days_ahead: i64, (hour, minute): (u32, u32)) -> DateTime<Utc> {
    let day = now.date_naive() + Duration::days(days_ahead);
    let time = NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(NaiveTime::MIN);
    day.and_time(time).and_utc()
}

/// The demo events as they would be stored; all published and in the future.
pub fn events(organizer: &DemoOrganizer, currency: Currency, now: DateTime<Utc>) -> Vec<Event> {
    CATALOGUE
        .iter()
        .map(|d| Event {
            id: Uuid::new_v4(),
            title: d.title.into(),
            description: d.description.into(),
            category: d.category,
            venue: Venue {
                name: d.venue.0.into(),
                address: d.venue.1.into(),
                city: d.venue.2.into(),
                capacity: d.venue.3,
            },
            date_time: at(now, d.days_ahead, d.starts),
            duration: d.duration,
            ticket_types: d
                .tickets
                .iter()
                .map(|&(name, cents, quantity, description)| TicketType {
                    name: name.into(),
                    price: Money::from_minor_units(cents, currency),
                    quantity,
                    description: description.into(),
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
        .collect()
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
    let events = events(organizer, currency, now);
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
        let events = events(&organizer(), Currency::USD, now);
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
