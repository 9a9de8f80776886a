//! Events as clients see them: the seed's camelCase fields, prices as JSON numbers (`25.5`) with
//! their exact minor units beside them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::Event;

/// An event as clients see it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    #[schema(value_type = crate::domain::Category)]
    pub category: &'static str,
    pub venue: VenueView,
    pub date_time: DateTime<Utc>,
    /// Minutes.
    pub duration: u32,
    /// `dateTime` plus `duration`.
    pub ends_at: DateTime<Utc>,
    pub ticket_types: Vec<TicketTypeView>,
    /// ISO 4217 code of every price of the event.
    #[schema(example = "USD")]
    pub currency: String,
    pub organizer: OrganizerView,
    #[schema(value_type = crate::domain::Status)]
    pub status: &'static str,
    /// The organizer's user id.
    pub created_by: Uuid,
    pub is_active: bool,
    /// Grows by one with every change.
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VenueView {
    pub name: String,
    pub address: String,
    pub city: String,
    pub capacity: u32,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TicketTypeView {
    pub name: String,
    /// The exact price as the shortest decimal number (`25.5`).
    #[schema(value_type = f64, example = 25.5)]
    pub price: serde_json::Number,
    /// The same price in cents: exact, for clients that compute with it.
    #[schema(example = 2550)]
    pub price_minor: i64,
    pub quantity: u32,
    pub description: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizerView {
    pub name: String,
    pub email: String,
    #[schema(required = true)]
    pub phone: Option<String>,
}

impl From<&Event> for EventView {
    fn from(e: &Event) -> Self {
        Self {
            id: e.id,
            title: e.title.clone(),
            description: e.description.clone(),
            category: e.category.as_str(),
            venue: VenueView {
                name: e.venue.name.clone(),
                address: e.venue.address.clone(),
                city: e.venue.city.clone(),
                capacity: e.venue.capacity,
            },
            date_time: e.date_time,
            duration: e.duration,
            ends_at: e.ends_at(),
            ticket_types: e
                .ticket_types
                .iter()
                .map(|t| TicketTypeView {
                    name: t.name.clone(),
                    price: t.price.to_json(),
                    price_minor: t.price.minor_units(),
                    quantity: t.quantity,
                    description: t.description.clone(),
                })
                .collect(),
            currency: e.currency.to_string(),
            organizer: OrganizerView {
                name: e.organizer.name.clone(),
                email: e.organizer.email.clone(),
                phone: e.organizer.phone.clone(),
            },
            status: e.status.as_str(),
            created_by: e.created_by,
            is_active: e.is_active,
            version: e.version,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}
