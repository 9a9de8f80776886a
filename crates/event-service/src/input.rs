//! Request bodies of `POST /api/events` and `PATCH /api/events/:id`, their validation and how
//! they become an [`Event`]. Field rules are validator attributes; rules that span fields (unique
//! ticket names, tickets within capacity) are checked here so one response names every problem.

use chrono::{DateTime, Utc};
use platform::{FieldErrors, VerifiedUser};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::domain::{
    Category, Event, Organizer, QueueSettings, RefundPolicy, SaleStart, Status, TicketType, Venue,
    name_key,
};
use platform::money::{Currency, Money};

pub const MAX_TICKET_QUANTITY: i64 = 100_000;
pub const MAX_CAPACITY: i64 = 1_000_000;
pub const MAX_DURATION: i64 = 10_080;

/// Field rules shared by create and update.
pub mod rules {
    use chrono::Utc;
    use validator::{ValidateEmail, ValidationError};

    use crate::domain::Category;
    use platform::money::parse_minor_units;

    fn invalid(message: impl Into<std::borrow::Cow<'static, str>>) -> ValidationError {
        ValidationError::new("invalid").with_message(message.into())
    }

    fn chars_between(v: &str, min: usize, max: usize, what: &str) -> Result<(), ValidationError> {
        let n = v.trim().chars().count();
        if n < min {
            return Err(invalid(if min <= 1 {
                format!("{what} is required.")
            } else {
                format!("{what} must be at least {min} characters.")
            }));
        }
        if n > max {
            return Err(invalid(format!("{what} must be at most {max} characters.")));
        }
        Ok(())
    }

    pub fn title(v: &str) -> Result<(), ValidationError> {
        chars_between(v, 3, 200, "Title")
    }

    pub fn description(v: &str) -> Result<(), ValidationError> {
        chars_between(v, 0, 5000, "Description")
    }

    pub fn category(v: &str) -> Result<(), ValidationError> {
        match Category::parse(v) {
            Some(_) => Ok(()),
            None => Err(invalid(format!("Choose one of: {}.", Category::list()))),
        }
    }

    /// RFC 3339 with an offset, strictly after now.
    pub fn date_time(v: &str) -> Result<(), ValidationError> {
        let at = chrono::DateTime::parse_from_rfc3339(v.trim()).map_err(|_| {
            invalid("Use an RFC 3339 date and time with an offset, e.g. 2030-05-01T19:30:00Z.")
        })?;
        if at <= Utc::now() {
            return Err(invalid("The event must start in the future."));
        }
        Ok(())
    }

    /// Empty (in an update: no opening moment) or RFC 3339 with an offset.
    pub fn on_sale_at(v: &str) -> Result<(), ValidationError> {
        if v.trim().is_empty() {
            return Ok(());
        }
        chrono::DateTime::parse_from_rfc3339(v.trim())
            .map(|_| ())
            .map_err(|_| {
                invalid("Use an RFC 3339 date and time with an offset, e.g. 2030-04-01T10:00:00Z.")
            })
    }

    /// A whole number from 1 to `max`; `message` says so.
    fn from_one_to(v: i64, max: i64, message: String) -> Result<(), ValidationError> {
        match (1..=max).contains(&v) {
            true => Ok(()),
            false => Err(invalid(message)),
        }
    }

    pub fn capacity(v: i64) -> Result<(), ValidationError> {
        from_one_to(
            v,
            super::MAX_CAPACITY,
            format!("Capacity must be between 1 and {}.", super::MAX_CAPACITY),
        )
    }

    pub fn duration(v: i64) -> Result<(), ValidationError> {
        from_one_to(
            v,
            super::MAX_DURATION,
            format!(
                "Duration must be between 1 and {} minutes (one week).",
                super::MAX_DURATION
            ),
        )
    }

    pub fn venue_name(v: &str) -> Result<(), ValidationError> {
        chars_between(v, 1, 200, "Venue name")
    }

    pub fn address(v: &str) -> Result<(), ValidationError> {
        chars_between(v, 1, 300, "Address")
    }

    pub fn city(v: &str) -> Result<(), ValidationError> {
        chars_between(v, 1, 100, "City")
    }

    pub fn ticket_name(v: &str) -> Result<(), ValidationError> {
        chars_between(v, 1, 100, "Ticket type name")
    }

    pub fn ticket_description(v: &str) -> Result<(), ValidationError> {
        chars_between(v, 0, 500, "Ticket type description")
    }

    pub fn price(v: &serde_json::Number) -> Result<(), ValidationError> {
        parse_minor_units(&v.to_string())
            .map(drop)
            .map_err(|e| invalid(e.to_string()))
    }

    pub fn organizer_name(v: &str) -> Result<(), ValidationError> {
        chars_between(v, 1, 100, "Organizer name")
    }

    pub fn email(v: &str) -> Result<(), ValidationError> {
        let v = v.trim();
        if v.len() > 254 || !v.validate_email() {
            return Err(invalid("Enter a valid email address."));
        }
        Ok(())
    }

    /// Empty clears it; otherwise digits with the usual separators.
    pub fn phone(v: &str) -> Result<(), ValidationError> {
        let v = v.trim();
        let digits = v.chars().filter(char::is_ascii_digit).count();
        let allowed = v
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c));
        if v.is_empty() || (allowed && (5..=20).contains(&digits) && v.len() <= 30) {
            Ok(())
        } else {
            Err(invalid(
                "Enter a phone number of 5 to 20 digits (spaces, +, -, ( ) allowed).",
            ))
        }
    }

    pub fn initial_status(v: &str) -> Result<(), ValidationError> {
        match v {
            "draft" | "published" => Ok(()),
            _ => Err(invalid("A new event is either \"draft\" or \"published\".")),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VenueBody {
    #[validate(
        required(message = "Venue name is required."),
        custom(function = "rules::venue_name")
    )]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[validate(
        required(message = "Address is required."),
        custom(function = "rules::address")
    )]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 300)]
    pub address: Option<String>,
    #[validate(
        required(message = "City is required."),
        custom(function = "rules::city")
    )]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 100)]
    pub city: Option<String>,
    /// At least the sum of the ticket types' quantities.
    #[schema(value_type = i64, required = true, minimum = 1, maximum = 1_000_000)]
    #[validate(
        required(message = "Capacity is required."),
        custom(function = "rules::capacity")
    )]
    pub capacity: Option<i64>,
}

/// In an update every venue field is optional.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VenuePatch {
    #[validate(custom(function = "rules::venue_name"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[validate(custom(function = "rules::address"))]
    #[schema(min_length = 1, max_length = 300)]
    pub address: Option<String>,
    #[validate(custom(function = "rules::city"))]
    #[schema(min_length = 1, max_length = 100)]
    pub city: Option<String>,
    #[schema(minimum = 1, maximum = 1_000_000)]
    #[validate(custom(function = "rules::capacity"))]
    pub capacity: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TicketTypeBody {
    /// Unique within the event, ignoring case.
    #[validate(
        required(message = "Ticket type name is required."),
        custom(function = "rules::ticket_name")
    )]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 100, example = "General")]
    pub name: Option<String>,
    /// In the event's currency, with at most two decimals; parsed exactly, never through
    /// floating point.
    #[validate(
        required(message = "Price is required."),
        custom(function = "rules::price")
    )]
    #[schema(value_type = f64, required = true, minimum = 0, maximum = 1_000_000, example = 25.5)]
    pub price: Option<serde_json::Number>,
    #[schema(value_type = i64, required = true, minimum = 1, maximum = 100_000)]
    #[validate(
        required(message = "Quantity is required."),
        range(
            min = 1,
            max = 100_000,
            message = "Quantity must be between 1 and 100000."
        )
    )]
    pub quantity: Option<i64>,
    #[validate(custom(function = "rules::ticket_description"))]
    #[schema(max_length = 500)]
    pub description: Option<String>,
}

/// Missing name and email default to the signed-in user's.
#[derive(Debug, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizerBody {
    #[validate(custom(function = "rules::organizer_name"))]
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[validate(custom(function = "rules::email"))]
    #[schema(format = "email", max_length = 254)]
    pub email: Option<String>,
    /// 5 to 20 digits; spaces, `+`, `-`, `(`, `)` and `.` allowed; empty clears it.
    #[validate(custom(function = "rules::phone"))]
    #[schema(max_length = 30)]
    pub phone: Option<String>,
}

/// Whether buyers may cancel paid orders for a refund, and until how long before the event. Left
/// out on creation, refunds are not offered; in an update a field left out stays as it is.
#[derive(Debug, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundPolicyBody {
    /// `false` when left out of a new event.
    pub allowed: Option<bool>,
    /// Refunds close this many hours before the event starts (0: until it starts); 0 when left
    /// out of a new event.
    #[schema(minimum = 0, maximum = 8_760, example = 48)]
    #[validate(range(
        min = 0,
        max = 8_760,
        message = "Refunds can close 0 to 8760 hours (one year) before the event."
    ))]
    pub until_hours_before: Option<i64>,
}

impl RefundPolicyBody {
    /// `current` with the fields given here (already validated).
    fn applied_to(&self, current: RefundPolicy) -> RefundPolicy {
        RefundPolicy {
            allowed: self.allowed.unwrap_or(current.allowed),
            until_hours_before: given_or(self.until_hours_before, current.until_hours_before),
        }
    }
}

/// The waiting room of the on-sale. Left out on creation: no queue, 100 a minute once turned on;
/// in an update a field left out stays as it is.
#[derive(Debug, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueBody {
    /// Needs `onSaleAt`.
    pub enabled: Option<bool>,
    #[schema(minimum = 1, maximum = 100_000, example = 100)]
    #[validate(range(
        min = 1,
        max = 100_000,
        message = "Admit 1 to 100000 visitors per minute."
    ))]
    pub admit_per_minute: Option<i64>,
}

impl QueueBody {
    /// `current` with the fields given here (already validated).
    fn applied_to(&self, current: QueueSettings) -> QueueSettings {
        QueueSettings {
            enabled: self.enabled.unwrap_or(current.enabled),
            admit_per_minute: given_or(self.admit_per_minute, current.admit_per_minute),
        }
    }
}

/// A count an update gives (validated already, so it fits), else `current`: in an update a field
/// left out stays as it is.
fn given_or(given: Option<i64>, current: u32) -> u32 {
    given.and_then(|n| u32::try_from(n).ok()).unwrap_or(current)
}

/// `current` with a given `onSaleAt` (empty clears it) and `queue` applied.
fn sale_applied(
    on_sale_at: Option<&str>,
    queue: Option<&QueueBody>,
    current: SaleStart,
) -> SaleStart {
    SaleStart {
        on_sale_at: match on_sale_at.map(str::trim) {
            None => current.on_sale_at,
            Some("") => None,
            Some(at) => parse_time(at),
        },
        queue: queue.map_or(current.queue, |q| q.applied_to(current.queue)),
    }
}

/// A new event. Every rule has its own field error; all are reported at once.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateEventBody {
    #[validate(
        required(message = "Title is required."),
        custom(function = "rules::title")
    )]
    #[schema(value_type = String, required = true, min_length = 3, max_length = 200)]
    pub title: Option<String>,
    #[validate(custom(function = "rules::description"))]
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    /// Any case is accepted; the listed spelling is stored.
    #[validate(
        required(message = "Category is required."),
        custom(function = "rules::category")
    )]
    #[schema(value_type = crate::domain::Category, required = true)]
    pub category: Option<String>,
    #[validate(required(message = "Venue is required."), nested)]
    #[schema(value_type = VenueBody, required = true)]
    pub venue: Option<VenueBody>,
    /// RFC 3339 with an offset, in the future.
    #[validate(
        required(message = "Date and time are required."),
        custom(function = "rules::date_time")
    )]
    #[schema(value_type = String, format = DateTime, required = true, example = "2030-05-01T19:30:00Z")]
    pub date_time: Option<String>,
    /// Minutes, at most one week.
    #[schema(value_type = i64, required = true, minimum = 1, maximum = 10_080)]
    #[validate(
        required(message = "Duration is required."),
        custom(function = "rules::duration")
    )]
    pub duration: Option<i64>,
    /// Their quantities add up to at most `venue.capacity`.
    #[validate(
        required(message = "At least one ticket type is required."),
        length(min = 1, max = 20, message = "An event has 1 to 20 ticket types."),
        nested
    )]
    #[schema(value_type = Vec<TicketTypeBody>, required = true, min_items = 1, max_items = 20)]
    pub ticket_types: Option<Vec<TicketTypeBody>>,
    /// Defaults to the signed-in user's name and email.
    #[validate(nested)]
    pub organizer: Option<OrganizerBody>,
    /// Defaults to no refunds.
    #[validate(nested)]
    pub refund_policy: Option<RefundPolicyBody>,
    /// RFC 3339 with an offset, before the event: booking opens then. Left out: on sale at once.
    #[validate(custom(function = "rules::on_sale_at"))]
    #[schema(format = DateTime, example = "2030-04-01T10:00:00Z")]
    pub on_sale_at: Option<String>,
    /// The waiting room from `onSaleAt`; defaults to none.
    #[validate(nested)]
    pub queue: Option<QueueBody>,
    /// Whether sold-out ticket types take waitlist entries and freed seats are offered to them.
    /// Defaults to on.
    pub waitlist_enabled: Option<bool>,
    /// `draft` or `published` (default, so the seed's create-then-book flow works).
    #[validate(custom(function = "rules::initial_status"))]
    #[schema(value_type = Option<api_types::events::InitialStatus>)]
    pub status: Option<String>,
}

/// A change: fields left out (or `null`) stay as they are; the same rules as on creation.
#[derive(Debug, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateEventBody {
    #[validate(custom(function = "rules::title"))]
    #[schema(min_length = 3, max_length = 200)]
    pub title: Option<String>,
    #[validate(custom(function = "rules::description"))]
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    /// Any case is accepted; the listed spelling is stored.
    #[validate(custom(function = "rules::category"))]
    #[schema(value_type = Option<crate::domain::Category>)]
    pub category: Option<String>,
    #[validate(nested)]
    pub venue: Option<VenuePatch>,
    /// RFC 3339 with an offset, in the future.
    #[validate(custom(function = "rules::date_time"))]
    #[schema(format = DateTime)]
    pub date_time: Option<String>,
    /// Minutes, at most one week.
    #[schema(minimum = 1, maximum = 10_080)]
    #[validate(custom(function = "rules::duration"))]
    pub duration: Option<i64>,
    /// Replaces the whole list. Once published, ticket types can be added or increased but not
    /// removed or reduced (409 `ticket_types_locked`); prices may change.
    #[validate(
        length(min = 1, max = 20, message = "An event has 1 to 20 ticket types."),
        nested
    )]
    #[schema(min_items = 1, max_items = 20)]
    pub ticket_types: Option<Vec<TicketTypeBody>>,
    #[validate(nested)]
    pub organizer: Option<OrganizerBody>,
    /// Applies to every order of the event, also those already paid.
    #[validate(nested)]
    pub refund_policy: Option<RefundPolicyBody>,
    /// RFC 3339 with an offset, before the event; an empty string removes it (on sale at once).
    #[validate(custom(function = "rules::on_sale_at"))]
    #[schema(format = DateTime)]
    pub on_sale_at: Option<String>,
    #[validate(nested)]
    pub queue: Option<QueueBody>,
    /// Off: joining answers 409 `waitlist_off` and freed seats go back on sale; entries already
    /// waiting keep their place and get offers again once it is back on.
    pub waitlist_enabled: Option<bool>,
}

fn field_errors_of(body: &impl Validate) -> FieldErrors {
    match body.validate() {
        Ok(()) => FieldErrors::new(),
        Err(e) => platform::extract::field_errors(&e),
    }
}

fn add(errors: &mut FieldErrors, field: impl Into<String>, message: impl Into<String>) {
    errors.entry(field.into()).or_default().push(message.into());
}

/// Ticket types that passed their own rules, or `None` when any did not.
fn parsed_ticket_types(bodies: &[TicketTypeBody], currency: Currency) -> Option<Vec<TicketType>> {
    bodies
        .iter()
        .map(|t| {
            Some(TicketType {
                name: t.name.as_deref()?.trim().to_string(),
                price: Money::from_json(t.price.as_ref()?, currency).ok()?,
                quantity: u32::try_from(t.quantity?).ok()?,
                description: t.description.as_deref().unwrap_or("").trim().to_string(),
            })
        })
        .collect()
}

/// A queue counts from `onSaleAt`, and a sale opens before the event starts.
fn check_sale_start(event: &Event, errors: &mut FieldErrors) {
    if event.sale.queue.enabled && event.sale.on_sale_at.is_none() {
        add(
            errors,
            "queue.enabled",
            "A waiting room needs onSaleAt, the moment it admits from.",
        );
    }
    if event
        .sale
        .on_sale_at
        .is_some_and(|at| at >= event.date_time)
    {
        add(
            errors,
            "onSaleAt",
            "The sale must open before the event starts.",
        );
    }
}

/// The rules across fields, run on the event as it would be stored. They are skipped while a
/// ticket type or the venue has errors of its own: a sum over invalid parts says nothing useful.
fn check_whole(event: &Event, errors: &mut FieldErrors) {
    check_sale_start(event, errors);
    if errors
        .keys()
        .any(|k| k.starts_with("ticketTypes") || k.starts_with("venue"))
    {
        return;
    }
    for (i, t) in event.ticket_types.iter().enumerate() {
        let key = name_key(&t.name);
        if event.ticket_types[..i]
            .iter()
            .any(|o| name_key(&o.name) == key)
        {
            add(
                errors,
                format!("ticketTypes[{i}].name"),
                format!(
                    "Ticket type names must be unique; \"{}\" appears twice.",
                    t.name
                ),
            );
        }
    }
    let total = event.total_quantity();
    if total > u64::from(event.venue.capacity) {
        add(
            errors,
            "ticketTypes",
            format!(
                "The ticket quantities add up to {total}, more than the venue capacity of {}.",
                event.venue.capacity
            ),
        );
    }
}

fn trimmed(v: &Option<String>) -> Option<String> {
    v.as_deref().map(|s| s.trim().to_string())
}

/// Stored to the millisecond, like every time of the service.
fn parse_time(v: &str) -> Option<DateTime<Utc>> {
    let t = DateTime::parse_from_rfc3339(v.trim()).ok()?;
    DateTime::from_timestamp_millis(t.timestamp_millis())
}

fn organizer_for(body: Option<&OrganizerBody>, caller: &VerifiedUser) -> Organizer {
    let body = body.map_or_else(OrganizerBody::default, |b| OrganizerBody {
        name: trimmed(&b.name),
        email: trimmed(&b.email),
        phone: trimmed(&b.phone),
    });
    Organizer {
        name: body
            .name
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| caller.full_name()),
        email: body
            .email
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| caller.email.clone()),
        phone: body.phone.filter(|p| !p.is_empty()),
    }
}

impl CreateEventBody {
    /// The new event owned by `caller`, or every field error at once.
    pub fn into_event(
        self,
        caller: &VerifiedUser,
        currency: Currency,
        now: DateTime<Utc>,
    ) -> Result<Event, FieldErrors> {
        let mut errors = field_errors_of(&self);
        let event = (|| {
            let venue = self.venue.as_ref()?;
            Some(Event {
                id: Uuid::new_v4(),
                title: trimmed(&self.title)?,
                description: trimmed(&self.description).unwrap_or_default(),
                category: Category::parse(self.category.as_deref()?)?,
                venue: Venue {
                    name: trimmed(&venue.name)?,
                    address: trimmed(&venue.address)?,
                    city: trimmed(&venue.city)?,
                    capacity: u32::try_from(venue.capacity?).ok()?,
                },
                date_time: parse_time(self.date_time.as_deref()?)?,
                duration: u32::try_from(self.duration?).ok()?,
                ticket_types: parsed_ticket_types(self.ticket_types.as_deref()?, currency)?,
                currency,
                organizer: organizer_for(self.organizer.as_ref(), caller),
                refund_policy: self
                    .refund_policy
                    .as_ref()
                    .map_or_else(RefundPolicy::default, |p| {
                        p.applied_to(RefundPolicy::default())
                    }),
                sale: sale_applied(
                    self.on_sale_at.as_deref(),
                    self.queue.as_ref(),
                    SaleStart::default(),
                ),
                waitlist_enabled: self.waitlist_enabled.unwrap_or(true),
                status: match self.status.as_deref() {
                    None => Status::Published,
                    Some(s) => Status::parse(s)?,
                },
                created_by: caller.id,
                is_active: true,
                version: 1,
                created_at: now,
                updated_at: now,
            })
        })();
        match event {
            Some(event) => {
                check_whole(&event, &mut errors);
                if errors.is_empty() {
                    Ok(event)
                } else {
                    Err(errors)
                }
            }
            // Cross-field rules only make sense once every part parsed; a part that did not
            // parse has already been named by its own rule.
            None => {
                if errors.is_empty() {
                    add(&mut errors, "body", "The event could not be read.");
                }
                Err(errors)
            }
        }
    }
}

impl UpdateEventBody {
    /// `current` with the changes applied (not yet touched: the caller decides whether anything
    /// changed), or every field error at once.
    pub fn apply_to(&self, current: &Event) -> Result<Event, FieldErrors> {
        let mut errors = field_errors_of(self);
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut event = current.clone();
        if let Some(title) = trimmed(&self.title) {
            event.title = title;
        }
        if let Some(description) = trimmed(&self.description) {
            event.description = description;
        }
        if let Some(category) = self.category.as_deref().and_then(Category::parse) {
            event.category = category;
        }
        if let Some(venue) = &self.venue {
            event.venue.name = trimmed(&venue.name).unwrap_or(event.venue.name);
            event.venue.address = trimmed(&venue.address).unwrap_or(event.venue.address);
            event.venue.city = trimmed(&venue.city).unwrap_or(event.venue.city);
            event.venue.capacity = given_or(venue.capacity, event.venue.capacity);
        }
        if let Some(at) = self.date_time.as_deref().and_then(parse_time) {
            event.date_time = at;
        }
        event.duration = given_or(self.duration, event.duration);
        if let Some(types) = &self.ticket_types {
            match parsed_ticket_types(types, current.currency) {
                Some(types) => event.ticket_types = types,
                None => add(&mut errors, "ticketTypes", "Some ticket types are invalid."),
            }
        }
        if let Some(org) = &self.organizer {
            if let Some(name) = trimmed(&org.name).filter(|n| !n.is_empty()) {
                event.organizer.name = name;
            }
            if let Some(email) = trimmed(&org.email).filter(|e| !e.is_empty()) {
                event.organizer.email = email;
            }
            if let Some(phone) = trimmed(&org.phone) {
                event.organizer.phone = Some(phone).filter(|p| !p.is_empty());
            }
        }
        if let Some(policy) = &self.refund_policy {
            event.refund_policy = policy.applied_to(event.refund_policy);
        }
        event.sale = sale_applied(self.on_sale_at.as_deref(), self.queue.as_ref(), event.sale);
        if let Some(on) = self.waitlist_enabled {
            event.waitlist_enabled = on;
        }
        check_whole(&event, &mut errors);
        if errors.is_empty() {
            Ok(event)
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::rules;

    fn message(result: Result<(), validator::ValidationError>) -> Option<String> {
        result.err().and_then(|e| e.message).map(|m| m.to_string())
    }

    #[test]
    fn capacity_and_duration_take_one_to_their_limit_and_say_so_otherwise() {
        for ok in [1, super::MAX_CAPACITY] {
            assert_eq!(message(rules::capacity(ok)), None);
        }
        for bad in [0, -1, super::MAX_CAPACITY + 1] {
            assert_eq!(
                message(rules::capacity(bad)).as_deref(),
                Some("Capacity must be between 1 and 1000000.")
            );
        }
        for ok in [1, super::MAX_DURATION] {
            assert_eq!(message(rules::duration(ok)), None);
        }
        for bad in [0, super::MAX_DURATION + 1] {
            assert_eq!(
                message(rules::duration(bad)).as_deref(),
                Some("Duration must be between 1 and 10080 minutes (one week).")
            );
        }
    }
}
