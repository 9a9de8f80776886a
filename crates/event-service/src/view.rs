//! Events as clients see them: the domain's [`Event`] written as `api_types::events::EventView`
//! (prices as exact JSON numbers beside their minor units, `endsAt` computed).

use api_types::events::{CancelledEventResponse, EventResponse, EventView, TicketTypeView};

use crate::domain::{Event, TicketType};

impl From<&Event> for EventView {
    fn from(e: &Event) -> Self {
        Self {
            id: e.id,
            title: e.title.clone(),
            description: e.description.clone(),
            category: e.category,
            venue: e.venue.clone(),
            date_time: e.date_time,
            duration: e.duration,
            ends_at: e.ends_at(),
            ticket_types: e.ticket_types.iter().map(TicketTypeView::from).collect(),
            currency: e.currency.to_string(),
            organizer: e.organizer.clone(),
            status: e.status,
            created_by: e.created_by,
            is_active: e.is_active,
            version: e.version,
            created_at: e.created_at,
            updated_at: e.updated_at,
            refund_policy: e.refund_policy,
            sale: e.sale,
            waitlist_enabled: e.waitlist_enabled,
        }
    }
}

impl From<&TicketType> for TicketTypeView {
    fn from(t: &TicketType) -> Self {
        Self {
            name: t.name.clone(),
            price: t.price.to_json(),
            price_minor: t.price.minor_units(),
            quantity: t.quantity,
            description: t.description.clone(),
        }
    }
}

/// `{"event": ..., "ordersToRefund": ...}`.
pub fn cancelled(e: &Event, orders_to_refund: Option<u64>) -> CancelledEventResponse {
    CancelledEventResponse {
        event: EventView::from(e),
        orders_to_refund,
    }
}

/// `{"event": ...}`.
pub fn one(e: &Event) -> EventResponse {
    EventResponse {
        event: EventView::from(e),
    }
}

/// An event's check-in staff as the organizer sees them.
pub fn staff(event_id: uuid::Uuid, roster: &crate::staff::Roster) -> api_types::checkin::StaffList {
    api_types::checkin::StaffList {
        event_id,
        staff: roster
            .members
            .iter()
            .map(|m| api_types::checkin::StaffMember {
                email: m.email.clone(),
                added_at: m.added_at,
            })
            .collect(),
    }
}
