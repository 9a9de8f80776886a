//! The world the ticket service tests run in: a real nats-server, a real auth service, a stand-in
//! catalogue that answers `GET /api/events/:id`, and the ticket service itself.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream;
use axum::Json;
use axum::extract::{Path, State};
use axum::routing::get;
use chrono::{DateTime, Utc};
use contracts::catalog::Price;
use contracts::payments::{PaymentCompleted, PaymentFailed, PaymentRefunded};
use contracts::subjects;
use futures::StreamExt;
use platform::testing::{NatsServer, TestClient, TestResponse, TestServer};
use serde_json::{Value, json};
use ticket_service::TicketConfig;
use ticket_service::store::TicketStore;
use ticket_service::testing::{TicketHarness, config};
use uuid::Uuid;

type Catalog = Arc<Mutex<HashMap<Uuid, Value>>>;

pub struct World {
    pub nats: NatsServer,
    pub auth: TestServer,
    pub catalog: Catalog,
    pub catalog_server: TestServer,
    pub tickets: TicketHarness,
    pub js: jetstream::Context,
}

async fn catalog_event(
    State(catalog): State<Catalog>,
    Path(id): Path<String>,
) -> Result<Json<Value>, axum::http::StatusCode> {
    let id = Uuid::parse_str(&id).map_err(|_| axum::http::StatusCode::NOT_FOUND)?;
    match catalog.lock().unwrap().get(&id) {
        Some(e) if e["status"] == "published" || e["status"] == "cancelled" => {
            Ok(Json(json!({ "event": e })))
        }
        _ => Err(axum::http::StatusCode::NOT_FOUND),
    }
}

/// One ticket type: (name, price in cents, seats).
pub type TypeSpec<'a> = (&'a str, i64, u32);

impl World {
    pub async fn start() -> Self {
        Self::start_with(|c| c, true).await
    }

    /// `tune` adjusts the ticket service's settings; `background: false` leaves its relay,
    /// consumers and sweeper off.
    pub async fn start_with(
        tune: impl FnOnce(TicketConfig) -> TicketConfig,
        background: bool,
    ) -> Self {
        let store = Arc::new(ticket_service::store::SqliteStore::in_memory().unwrap());
        Self::start_on(store, tune, background).await
    }

    /// The same on the given store (e.g. a file, to start the service again on it).
    pub async fn start_on(
        store: Arc<dyn TicketStore>,
        tune: impl FnOnce(TicketConfig) -> TicketConfig,
        background: bool,
    ) -> Self {
        let nats = NatsServer::start();
        let auth = auth_service::testing::spawn_with(auth_service::AuthConfig {
            admin: Some(auth_service::config::AdminBootstrap {
                email: ADMIN_EMAIL.into(),
                password: PASSWORD.into(),
            }),
            ..auth_service::testing::config()
        })
        .await;
        let catalog: Catalog = Arc::default();
        let catalog_server = TestServer::spawn(
            axum::Router::new()
                .route("/api/events/{id}", get(catalog_event))
                .with_state(catalog.clone()),
        )
        .await;
        let cfg = tune(config(&nats, &auth.url(), &catalog_server.url()));
        let tickets = TicketHarness::start_with_store(cfg, store, background).await;
        let js = tickets.app.js.clone();
        Self {
            nats,
            auth,
            catalog,
            catalog_server,
            tickets,
            js,
        }
    }

    /// Adds an event to the stand-in catalogue.
    pub fn event_at(&self, status: &str, starts: DateTime<Utc>, types: &[TypeSpec<'_>]) -> Uuid {
        self.catalogue_event(status, starts, types, json!({}))
    }

    /// Adds a published event of `organizer` with a refund `policy` (`{allowed, untilHoursBefore}`)
    /// to the stand-in catalogue.
    pub fn organized_event(
        &self,
        organizer: Uuid,
        starts: DateTime<Utc>,
        policy: Value,
        types: &[TypeSpec<'_>],
    ) -> Uuid {
        self.catalogue_event(
            "published",
            starts,
            types,
            json!({"createdBy": organizer, "refundPolicy": policy}),
        )
    }

    /// A new organizer (signed in) and their published event of `seats` GA seats at 15.00,
    /// 30 days ahead, with a refund `policy`.
    pub async fn organizer_with_event(&self, policy: Value, seats: u32) -> (TestClient, Uuid) {
        let (organizer, organizer_id) = self.user().await;
        let starts = Utc::now() + chrono::Duration::days(30);
        let event = self.organized_event(organizer_id, starts, policy, &[("GA", 1500, seats)]);
        (organizer, event)
    }

    /// A paid order of `seats` GA tickets of `event`: the order as its buyer sees it, and the
    /// payment that confirmed it.
    pub async fn paid_order(
        &self,
        buyer: &TestClient,
        event: Uuid,
        seats: i64,
    ) -> (Value, PaymentCompleted) {
        let booked = book(buyer, event, &[("GA", seats)]).await;
        assert_eq!(booked.status, 201, "{}", booked.text);
        let booked = booked.json();
        let payment = self.pay(buyer, &booked).await;
        (self.order(buyer, &id(&booked)).await, payment)
    }

    /// Adds a published event whose sale opens at `on_sale_at`, with a waiting room admitting
    /// `per_minute` visitors a minute when given.
    pub fn event_on_sale_at(
        &self,
        on_sale_at: DateTime<Utc>,
        per_minute: Option<u32>,
        types: &[TypeSpec<'_>],
    ) -> Uuid {
        let queue = per_minute.map_or(
            json!({"enabled": false, "admitPerMinute": 100}),
            |n| json!({"enabled": true, "admitPerMinute": n}),
        );
        self.catalogue_event(
            "published",
            Utc::now() + chrono::Duration::days(30),
            types,
            json!({"onSaleAt": on_sale_at, "queue": queue}),
        )
    }

    /// Adds an event to the stand-in catalogue, with `extra` fields.
    fn catalogue_event(
        &self,
        status: &str,
        starts: DateTime<Utc>,
        types: &[TypeSpec<'_>],
        extra: Value,
    ) -> Uuid {
        let id = Uuid::new_v4();
        let ticket_types: Vec<Value> = types
            .iter()
            .map(|(name, price, quantity)| {
                json!({"name": name, "price": *price as f64 / 100.0, "priceMinor": price, "quantity": quantity, "description": ""})
            })
            .collect();
        let mut event = json!({
            "id": id, "title": format!("Event {id}"), "dateTime": starts, "status": status,
            "version": 1, "currency": "USD", "ticketTypes": ticket_types,
        });
        for (k, v) in extra.as_object().expect("extra fields") {
            event[k] = v.clone();
        }
        self.catalog.lock().unwrap().insert(id, event);
        id
    }

    /// The ticket service's settings in this world, to start it again.
    pub fn config(&self) -> TicketConfig {
        config(&self.nats, &self.auth.url(), &self.catalog_server.url())
    }

    pub fn event(&self, types: &[TypeSpec<'_>]) -> Uuid {
        self.event_at("published", Utc::now() + chrono::Duration::days(30), types)
    }

    /// Given a pending order: a published event with `types`, a new buyer, and the answer to
    /// the buyer's booking of `lines`, as `(event, buyer, order)`.
    pub async fn pending_order(
        &self,
        types: &[TypeSpec<'_>],
        lines: &[(&str, i64)],
    ) -> (Uuid, TestClient, Value) {
        let event = self.event(types);
        let buyer = self.buyer().await;
        let res = book(&buyer, event, lines).await;
        assert_eq!(res.status, 201, "{}", res.text);
        (event, buyer, res.json())
    }

    /// A browser signed in as a new user, pointed at the ticket service.
    pub async fn buyer(&self) -> TestClient {
        self.user().await.0
    }

    /// A browser signed in as a new user, pointed at the ticket service, and the user's id.
    pub async fn user(&self) -> (TestClient, Uuid) {
        let email = format!("{}@example.com", Uuid::new_v4().simple());
        self.user_with_email(&email).await
    }

    /// A browser signed in as a new user with `email`, and the user's id.
    pub async fn user_with_email(&self, email: &str) -> (TestClient, Uuid) {
        let client = TestClient::new(self.tickets.url());
        let user =
            auth_service::testing::register_at(&client, &self.auth.url(), email, ("Bo", "Buyer"))
                .await;
        let id = user["id"].as_str().unwrap().parse().unwrap();
        (client, id)
    }

    /// A browser signed in as the admin, pointed at the ticket service.
    pub async fn admin(&self) -> TestClient {
        let client = TestClient::new(self.tickets.url());
        auth_service::testing::sign_in_as_admin(&client, &self.auth.url()).await;
        client
    }

    /// Publishes a completed payment of the booked `order` (a `201` answer) and waits until the
    /// order is confirmed; the payment.
    pub async fn pay(&self, buyer: &TestClient, order: &Value) -> PaymentCompleted {
        let payment = completed(order);
        self.publish(
            subjects::PAYMENTS_COMPLETED,
            payment.order_id,
            payment.clone(),
        )
        .await;
        self.order_becomes(buyer, &id(order), "confirmed").await;
        payment
    }

    /// Publishes a declined card payment of the booked `order` (a `201` answer).
    pub async fn decline(&self, order: &Value) {
        let decline = failed(order);
        self.publish(subjects::PAYMENTS_FAILED, decline.order_id, decline)
            .await;
    }

    /// Publishes the refund of `payment` for `reason`, as the payment service does.
    pub async fn refund(&self, payment: &PaymentCompleted, reason: &str) {
        self.publish(
            subjects::PAYMENTS_REFUNDED,
            payment.order_id,
            refunded(payment, reason),
        )
        .await;
    }

    /// Names check-in staff of `event` as the catalogue does (`catalog.events.staff_changed`
    /// with `version`) and waits until the ticket service knows them.
    pub async fn name_staff(&self, event: Uuid, version: u64, emails: &[&str]) {
        let staff: Vec<String> = emails.iter().map(|e| e.to_lowercase()).collect();
        let fact = contracts::catalog::EventStaffChanged {
            event_id: event,
            staff_version: version,
            staff: staff.clone(),
        };
        self.publish(subjects::CATALOG_EVENT_STAFF_CHANGED, event, fact)
            .await;
        platform::testing::eventually("the staff list to arrive", || async {
            (self.tickets.store.event_staff(event).await.unwrap() == staff).then_some(())
        })
        .await;
    }

    pub async fn availability(&self, event: Uuid) -> Value {
        let res = TestClient::new(self.tickets.url())
            .get(&format!("/api/tickets/events/{event}/availability"))
            .await;
        assert_eq!(res.status, 200, "{}", res.text);
        res.json()
    }

    /// `(sold, held, available)` of one ticket type.
    pub async fn seats(&self, event: Uuid, ticket_type: &str) -> (u64, u64, u64) {
        let a = self.availability(event).await;
        let t = a["ticketTypes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == ticket_type)
            .unwrap()
            .clone();
        (
            t["sold"].as_u64().unwrap(),
            t["held"].as_u64().unwrap(),
            t["available"].as_u64().unwrap(),
        )
    }

    /// Publishes a fact on a stream as another service would (envelope + Nats-Msg-Id).
    pub async fn publish<T: serde::Serialize>(&self, subject: &str, about: Uuid, data: T) -> Uuid {
        let envelope = contracts::Envelope::new(subject, "test", Some(about.to_string()), data);
        self.publish_envelope(&envelope, &envelope.id.to_string())
            .await;
        envelope.id
    }

    /// Publishes `envelope` with the given `Nats-Msg-Id` (a different one re-delivers the same event).
    pub async fn publish_envelope<T: serde::Serialize>(
        &self,
        envelope: &contracts::Envelope<T>,
        msg_id: &str,
    ) {
        platform::testing::publish_envelope(&self.js, envelope, platform::testing::msg_id(msg_id))
            .await;
    }

    pub async fn order(&self, client: &TestClient, id: &str) -> Value {
        let res = client.get(&format!("/api/tickets/orders/{id}")).await;
        assert_eq!(res.status, 200, "{}", res.text);
        res.json()["order"].clone()
    }

    /// Waits until the order has `status`.
    pub async fn order_becomes(&self, client: &TestClient, id: &str, status: &str) -> Value {
        platform::testing::eventually(&format!("order {id} to become {status}"), || async {
            let o = self.order(client, id).await;
            (o["status"] == status).then_some(o)
        })
        .await
    }
}

pub use auth_service::testing::{ADMIN_EMAIL, PASSWORD};

pub fn usd(minor: i64) -> Price {
    Price {
        minor_units: minor,
        decimal: format!("{}.{:02}", minor / 100, minor % 100),
        currency: "USD".into(),
    }
}

/// The id of a booked order (a `201` answer).
pub fn id(order: &Value) -> String {
    order["orderId"].as_str().unwrap().to_string()
}

/// `POST /api/tickets/orders/{order}/cancel` as `client`.
pub async fn cancel(client: &TestClient, order: &str) -> TestResponse {
    client
        .post(&format!("/api/tickets/orders/{order}/cancel"), &json!({}))
        .await
}

/// The order, buyer and amount of the booked `order` (a `201` answer), as a payment names them.
fn paid_for(order: &Value) -> (Uuid, Uuid, Price) {
    (
        order["orderId"].as_str().unwrap().parse().unwrap(),
        order["order"]["userId"].as_str().unwrap().parse().unwrap(),
        usd(order["totalAmountMinor"].as_i64().unwrap()),
    )
}

/// A completed payment of the booked `order` (a `201` answer).
pub fn completed(order: &Value) -> PaymentCompleted {
    let (order_id, user_id, amount) = paid_for(order);
    PaymentCompleted {
        payment_id: Uuid::new_v4(),
        order_id,
        user_id,
        amount,
        payment_method: "credit_card".into(),
        transaction_id: "txn_test".into(),
    }
}

/// A declined card payment of the booked `order` (a `201` answer).
fn failed(order: &Value) -> PaymentFailed {
    let (order_id, user_id, amount) = paid_for(order);
    PaymentFailed {
        payment_id: Uuid::new_v4(),
        order_id,
        user_id,
        amount,
        payment_method: "credit_card".into(),
        response_code: "card_declined".into(),
        response_message: "Your card was declined.".into(),
    }
}

/// The refund of `payment` as the payment service publishes it.
pub fn refunded(payment: &PaymentCompleted, reason: &str) -> PaymentRefunded {
    PaymentRefunded {
        payment_id: payment.payment_id,
        order_id: payment.order_id,
        user_id: payment.user_id,
        amount: payment.amount.clone(),
        reason: reason.into(),
    }
}

/// Reads `data:` events from an SSE response body.
pub struct SseReader {
    pub body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    pub buffer: String,
}

/// Asserts that `res` opened a server-sent event stream.
pub fn assert_event_stream(res: &reqwest::Response) {
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
}

impl SseReader {
    pub fn of(res: reqwest::Response) -> Self {
        Self {
            body: res.bytes_stream().boxed(),
            buffer: String::new(),
        }
    }

    pub async fn next(&mut self) -> Value {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                if let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data:")) {
                    return serde_json::from_str(data.trim()).unwrap();
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.body.next())
                .await
                .expect("an event within 10 s")
                .expect("stream open")
                .unwrap();
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

pub async fn book(client: &TestClient, event: Uuid, lines: &[(&str, i64)]) -> TestResponse {
    let tickets: Vec<Value> = lines
        .iter()
        .map(|(t, q)| json!({"ticketType": t, "quantity": q}))
        .collect();
    client
        .post(
            "/api/tickets/book",
            &json!({"eventId": event, "tickets": tickets}),
        )
        .await
}

pub fn short_hold(c: TicketConfig) -> TicketConfig {
    TicketConfig {
        hold: Duration::from_secs(1),
        ..c
    }
}
