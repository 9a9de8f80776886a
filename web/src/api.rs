//! Every call the app makes to the services, through the gateway on the same origin (so the
//! session cookie is first-party). The seed's `services/api.js`: `auth`, `events`, `tickets`,
//! `payments`. Views never build URLs or parse error bodies themselves.

use std::collections::BTreeMap;

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use api_types::auth::{LoginBody, RegisterBody, User, UserResponse};
use api_types::back_office::{EventOrdersResponse, EventSummary, RefundRequest};
use api_types::events::{CancelledEventResponse, EventPage, EventResponse, EventView, MyEvents};
use api_types::orders::{
    Availability, BookingResponse, CustomerInfo, OrderDetailsView, OrderResponse, OrderStatus,
    OrderView, OrdersResponse,
};
use api_types::payments::{PaymentDetailsInput, PaymentMethod, ProcessRequest, ProcessResponse};
use api_types::queue::QueueStatus;
use uuid::Uuid;

use crate::model::EventInput;

/// The shared error shape `{"error": {"code", "message", "fields"}}`, or a network failure
/// (`status` 0).
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub fields: BTreeMap<String, Vec<String>>,
}

impl ApiError {
    fn network(e: impl std::fmt::Display) -> Self {
        ApiError {
            status: 0,
            code: "network".into(),
            message: format!(
                "The server could not be reached ({e}). Check your connection and try again."
            ),
            fields: BTreeMap::new(),
        }
    }

    pub fn is_unauthorized(&self) -> bool {
        self.status == 401
    }

    /// The first message for `field`, if the server named it.
    pub fn field(&self, field: &str) -> Option<String> {
        self.fields.get(field).and_then(|m| m.first()).cloned()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

async fn error_of(res: Response) -> ApiError {
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let err = &body["error"];
    let mut fields = BTreeMap::new();
    if let Some(map) = err["fields"].as_object() {
        for (k, v) in map {
            let messages = match v {
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|m| {
                        m.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| m.to_string())
                    })
                    .collect(),
                other => vec![
                    other
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| other.to_string()),
                ],
            };
            fields.insert(k.clone(), messages);
        }
    }
    ApiError {
        status,
        code: err["code"].as_str().unwrap_or("http_error").to_string(),
        message: err["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| match status {
                502..=504 => {
                    "The service is not answering right now. Please try again shortly.".into()
                }
                _ => format!("The request failed (HTTP {status})."),
            }),
        fields,
    }
}

async fn send<T: DeserializeOwned>(req: Result<Request, gloo_net::Error>) -> ApiResult<T> {
    let res = req
        .map_err(ApiError::network)?
        .send()
        .await
        .map_err(ApiError::network)?;
    if !res.ok() {
        return Err(error_of(res).await);
    }
    res.json::<T>().await.map_err(|e| ApiError {
        status: 200,
        code: "bad_response".into(),
        message: format!("The server's answer could not be read ({e})."),
        fields: BTreeMap::new(),
    })
}

async fn get<T: DeserializeOwned>(url: &str) -> ApiResult<T> {
    send(
        Request::get(url)
            .header("accept", "application/json")
            .build(),
    )
    .await
}

fn with_key(builder: RequestBuilder, key: Option<&str>) -> RequestBuilder {
    match key {
        Some(key) => builder.header("Idempotency-Key", key),
        None => builder,
    }
}

async fn post<T: DeserializeOwned>(
    url: &str,
    body: &impl Serialize,
    key: Option<&str>,
) -> ApiResult<T> {
    send(with_key(Request::post(url), key).json(body)).await
}

/// A POST whose URL names the whole action (publish, cancel, accept): its body is `{}`.
async fn act<T: DeserializeOwned>(url: &str) -> ApiResult<T> {
    post(url, &json!({}), None).await
}

async fn patch<T: DeserializeOwned>(url: &str, body: &impl Serialize) -> ApiResult<T> {
    send(Request::patch(url).json(body)).await
}

/// Percent-encodes a query value (`encodeURIComponent`).
pub fn encode(v: &str) -> String {
    js_sys::encode_uri_component(v)
        .as_string()
        .unwrap_or_default()
}

pub mod auth {
    use super::*;

    pub async fn me() -> ApiResult<User> {
        get::<UserResponse>("/api/auth/me").await.map(|b| b.user)
    }

    pub async fn login(body: &LoginBody) -> ApiResult<User> {
        post::<UserResponse>("/api/auth/login", body, None)
            .await
            .map(|b| b.user)
    }

    pub async fn register(body: &RegisterBody) -> ApiResult<User> {
        post::<UserResponse>("/api/auth/register", body, None)
            .await
            .map(|b| b.user)
    }

    pub async fn logout() -> ApiResult<()> {
        act::<serde_json::Value>("/api/auth/logout").await.map(drop)
    }
}

pub mod events {
    use super::*;
    use crate::format::EventsQuery;

    pub async fn list(q: &EventsQuery) -> ApiResult<EventPage> {
        let mut params = vec![format!("page={}", q.page.max(1)), "limit=12".to_string()];
        for (name, value) in [("category", &q.category), ("city", &q.city), ("q", &q.q)] {
            if !value.trim().is_empty() {
                params.push(format!("{name}={}", encode(value.trim())));
            }
        }
        get(&format!("/api/events?{}", params.join("&"))).await
    }

    pub async fn get_one(id: &str) -> ApiResult<EventView> {
        get::<EventResponse>(&format!("/api/events/{}", encode(id)))
            .await
            .map(|b| b.event)
    }

    pub async fn mine() -> ApiResult<Vec<EventView>> {
        get::<MyEvents>("/api/events/my/events")
            .await
            .map(|b| b.events)
    }

    pub async fn create(input: &EventInput) -> ApiResult<EventView> {
        post::<EventResponse>("/api/events", input, None)
            .await
            .map(|b| b.event)
    }

    pub async fn update(id: &str, input: &EventInput) -> ApiResult<EventView> {
        patch::<EventResponse>(&format!("/api/events/{}", encode(id)), input)
            .await
            .map(|b| b.event)
    }

    pub async fn publish(id: &str) -> ApiResult<EventView> {
        act::<EventResponse>(&format!("/api/events/{}/publish", encode(id)))
            .await
            .map(|b| b.event)
    }

    /// Cancels the event; its paid orders are refunded.
    pub async fn cancel(id: &str) -> ApiResult<CancelledEventResponse> {
        act(&format!("/api/events/{}/cancel", encode(id))).await
    }
}

pub mod tickets {
    use super::*;

    pub fn availability_url(event_id: &str) -> String {
        format!("/api/tickets/events/{}/availability", encode(event_id))
    }

    pub fn availability_stream_url(event_id: &str) -> String {
        format!("{}/stream", availability_url(event_id))
    }

    pub async fn availability(event_id: &str) -> ApiResult<Availability> {
        get(&availability_url(event_id)).await
    }

    /// `pass`: the waiting room's pass, while the event's queue is on.
    pub async fn book(
        event_id: &str,
        lines: &[(String, u32)],
        customer: &CustomerInfo,
        key: &str,
        pass: Option<&str>,
    ) -> ApiResult<BookingResponse> {
        let tickets: Vec<_> = lines
            .iter()
            .map(|(name, quantity)| json!({"ticketType": name, "quantity": quantity}))
            .collect();
        let mut builder = with_key(Request::post("/api/tickets/book"), Some(key));
        if let Some(pass) = pass {
            builder = builder.header("Queue-Pass", pass);
        }
        send(
            builder
                .json(&json!({"eventId": event_id, "tickets": tickets, "customerInfo": customer})),
        )
        .await
    }

    fn queue_url(event_id: &str) -> String {
        format!("/api/tickets/events/{}/queue", encode(event_id))
    }

    pub fn queue_stream_url(event_id: &str) -> String {
        format!("{}/stream", queue_url(event_id))
    }

    /// Joins the event's waiting room (joining again returns the same place).
    pub async fn join_queue(event_id: &str) -> ApiResult<QueueStatus> {
        act(&queue_url(event_id)).await
    }

    pub async fn queue_place(event_id: &str) -> ApiResult<QueueStatus> {
        get(&queue_url(event_id)).await
    }

    pub async fn orders() -> ApiResult<Vec<OrderView>> {
        get::<OrdersResponse>("/api/tickets/orders")
            .await
            .map(|b| b.orders)
    }

    pub async fn order(id: &str) -> ApiResult<OrderDetailsView> {
        get::<OrderResponse>(&format!("/api/tickets/orders/{}", encode(id)))
            .await
            .map(|b| b.order)
    }

    /// Cancels a pending order, or a paid one for a refund while the event's policy allows it.
    pub async fn cancel(id: &str) -> ApiResult<OrderDetailsView> {
        act::<OrderResponse>(&format!("/api/tickets/orders/{}/cancel", encode(id)))
            .await
            .map(|b| b.order)
    }

    /// The organizer refunds a paid order.
    pub async fn refund(id: &str, reason: Option<String>) -> ApiResult<OrderDetailsView> {
        post::<OrderResponse>(
            &format!("/api/tickets/orders/{}/refund", encode(id)),
            &RefundRequest { reason },
            None,
        )
        .await
        .map(|b| b.order)
    }

    /// Which page of an event's orders the organizer looks at.
    #[derive(Clone, Debug, Default, PartialEq)]
    pub struct OrdersFilter {
        pub status: Option<OrderStatus>,
        pub q: String,
        pub page: u32,
    }

    pub async fn event_orders(event_id: &str, f: &OrdersFilter) -> ApiResult<EventOrdersResponse> {
        let mut params = vec![format!("page={}", f.page.max(1))];
        if let Some(status) = f.status {
            params.push(format!("status={}", status.as_str()));
        }
        if !f.q.trim().is_empty() {
            params.push(format!("q={}", encode(f.q.trim())));
        }
        get(&format!(
            "/api/tickets/events/{}/orders?{}",
            encode(event_id),
            params.join("&")
        ))
        .await
    }

    pub async fn summary(event_id: &str) -> ApiResult<EventSummary> {
        get(&format!("/api/tickets/events/{}/summary", encode(event_id))).await
    }

    /// One row per ticket; the browser downloads it (the session cookie goes along).
    pub fn attendees_csv_url(event_id: &str) -> String {
        format!("/api/tickets/events/{}/attendees.csv", encode(event_id))
    }
}

/// The door: scans, the offline bundle, and the event's check-in staff.
pub mod checkin {
    use super::*;
    use api_types::checkin::{
        AddStaffRequest, CheckinBundle, CheckinRequest, CheckinResponse, StaffList, StaffMember,
    };

    /// One scan; the same request (same nonce) may be sent again and gets the same answer.
    pub async fn scan(scan: &CheckinRequest) -> ApiResult<CheckinResponse> {
        post("/api/tickets/checkin", scan, None).await
    }

    pub async fn bundle(event_id: &str) -> ApiResult<CheckinBundle> {
        get(&format!(
            "/api/tickets/events/{}/checkin/bundle",
            encode(event_id)
        ))
        .await
    }

    fn staff_url(event_id: &str) -> String {
        format!("/api/events/{}/staff", encode(event_id))
    }

    pub async fn staff(event_id: &str) -> ApiResult<Vec<StaffMember>> {
        get::<StaffList>(&staff_url(event_id))
            .await
            .map(|l| l.staff)
    }

    /// Names `email` check-in staff; the list as it is now.
    pub async fn add_staff(event_id: &str, email: &str) -> ApiResult<Vec<StaffMember>> {
        let body = AddStaffRequest {
            email: email.to_string(),
        };
        post::<StaffList>(&staff_url(event_id), &body, None)
            .await
            .map(|l| l.staff)
    }

    /// Removes `email` from the check-in staff (named in the body, as when adding); the list as
    /// it is now.
    pub async fn remove_staff(event_id: &str, email: &str) -> ApiResult<Vec<StaffMember>> {
        let body = AddStaffRequest {
            email: email.to_string(),
        };
        send::<StaffList>(Request::delete(&staff_url(event_id)).json(&body))
            .await
            .map(|l| l.staff)
    }
}

pub mod payments {
    use super::*;

    pub async fn process(
        order_id: Uuid,
        payment_method: PaymentMethod,
        payment_details: PaymentDetailsInput,
        key: &str,
    ) -> ApiResult<ProcessResponse> {
        let body = ProcessRequest {
            order_id,
            payment_method,
            payment_details,
        };
        post("/api/payment/process", &body, Some(key)).await
    }
}

/// A fresh idempotency key for one user action.
pub fn new_key() -> String {
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.random_uuid())
        .unwrap_or_else(|| format!("k{}", js_sys::Date::now() as u64))
}

/// The waitlists of sold-out ticket types: the buyer's entries and offers, the organizer's
/// lengths.
pub mod waitlist {
    use api_types::waitlist::{WaitlistEntryView, WaitlistLengths, WaitlistResponse};

    use super::*;

    fn path(event_id: &str) -> String {
        format!("/api/tickets/events/{}/waitlist", encode(event_id))
    }

    pub async fn mine(event_id: &str) -> ApiResult<Vec<WaitlistEntryView>> {
        get::<WaitlistResponse>(&path(event_id))
            .await
            .map(|r| r.entries)
    }

    pub async fn join(
        event_id: &str,
        ticket_type: &str,
        quantity: u32,
    ) -> ApiResult<WaitlistEntryView> {
        post(
            &path(event_id),
            &json!({"ticketType": ticket_type, "quantity": quantity}),
            None,
        )
        .await
    }

    /// Leaves every waitlist of the event (an offer held goes to the next in line).
    pub async fn leave(event_id: &str) -> ApiResult<()> {
        let res = Request::delete(&path(event_id))
            .send()
            .await
            .map_err(ApiError::network)?;
        if res.ok() {
            Ok(())
        } else {
            Err(error_of(res).await)
        }
    }

    /// Takes the offer: the pending order it became.
    pub async fn accept(entry_id: &str) -> ApiResult<BookingResponse> {
        act(&format!(
            "/api/tickets/waitlist/{}/accept",
            encode(entry_id)
        ))
        .await
    }

    pub async fn decline(entry_id: &str) -> ApiResult<WaitlistEntryView> {
        act(&format!(
            "/api/tickets/waitlist/{}/decline",
            encode(entry_id)
        ))
        .await
    }

    pub async fn lengths(event_id: &str) -> ApiResult<WaitlistLengths> {
        get(&format!("{}/lengths", path(event_id))).await
    }
}
