//! A real payment service for tests: a nats-server of its own, a real auth service, in-memory
//! SQLite, the consumer and relay running, served on a random port. Plus helpers to publish
//! order facts, read what reached the `PAYMENTS` stream, and a stand-in for the ticket service's
//! `GET /api/tickets/orders/:id`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use api_types::orders::{
    CustomerInfo, LineTicketType, OrderDetailsView, OrderEvent, OrderLineView, OrderResponse,
    OrderView,
};
use async_nats::HeaderMap;
use async_nats::jetstream;
use axum::extract::{FromRef, Path, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use contracts::Envelope;
use contracts::catalog::Price;
use contracts::orders::{CancelReason, OrderCancelled, OrderCreated, OrderLine};
use contracts::subjects::{self, headers};
use platform::background::Background;
use platform::config::BaseConfig;
use platform::money::{Currency, Money};
use platform::testing::{
    NatsServer, StoredEvent, TestClient, TestResponse, TestServer, stream_events,
};
use platform::{ApiError, AuthClient, AuthUser};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::card::CardBrand;
use crate::config::PaymentConfig;
use crate::domain::{
    OrderRecord, OrderSource, OrderStatus, Payment, PaymentDetails, PaymentMethod, PaymentStatus,
};
use crate::state::AppState;
use crate::store::{PaymentStore, SqliteStore};

/// A card the simulated gateway always approves.
pub const APPROVED_CARD: &str = "4242 4242 4242 4242";
/// A card the simulated gateway always declines.
pub const DECLINED_CARD: &str = "4000 0000 0000 0002";

/// Settings for tests: short waits, nothing listening at the ticket service's URL.
pub fn config() -> PaymentConfig {
    PaymentConfig {
        base: BaseConfig::in_memory(),
        links: platform::testing::links("", ""),
        // Port 9 (discard) is closed on test machines: the fallback fails fast.
        ticket_url: "http://127.0.0.1:9".into(),
        ticket_timeout: Duration::from_secs(2),
        order_wait: Duration::from_millis(300),
        success_rate: 0.9,
        consumer_concurrency: 8,
        stale_after: Duration::from_secs(60),
        idempotency_ttl: Duration::from_secs(86_400),
    }
}

/// The admin account of a stack built `with_admin()`.
pub const ADMIN: (&str, &str) = ("admin@example.com", "admin-password-1");

/// Builds a [`Stack`].
pub struct StackBuilder {
    config: PaymentConfig,
    ticket_stub: bool,
    admin: bool,
    store: Option<Arc<dyn PaymentStore>>,
}

/// A stack with [`config`]; adjust it with the builder's methods, then `start()`.
pub fn stack() -> StackBuilder {
    StackBuilder {
        config: config(),
        ticket_stub: false,
        admin: false,
        store: None,
    }
}

impl StackBuilder {
    pub fn config(mut self, f: impl FnOnce(&mut PaymentConfig)) -> Self {
        f(&mut self.config);
        self
    }

    /// Points `TICKET_SERVICE_URL` at a [`TicketStub`].
    pub fn ticket_stub(mut self) -> Self {
        self.ticket_stub = true;
        self
    }

    /// Lets the auth service create the [`ADMIN`] account.
    pub fn with_admin(mut self) -> Self {
        self.admin = true;
        self
    }

    pub fn store(mut self, store: Arc<dyn PaymentStore>) -> Self {
        self.store = Some(store);
        self
    }

    pub async fn start(self) -> Stack {
        let nats = NatsServer::start();
        let mut auth_config = auth_service::testing::config();
        if self.admin {
            auth_config.admin = Some(auth_service::config::AdminBootstrap {
                email: ADMIN.0.into(),
                password: ADMIN.1.into(),
            });
        }
        let auth = auth_service::testing::spawn_with(auth_config).await;
        let mut config = self.config;
        config.links.nats_url = nats.url();
        config.links.auth_url = auth.url();
        let tickets = if self.ticket_stub {
            let stub = TicketStub::spawn(&auth.url()).await;
            config.ticket_url = stub.server.url();
            Some(stub)
        } else {
            None
        };
        let store = match self.store {
            Some(s) => s,
            None => Arc::new(SqliteStore::in_memory().expect("in-memory store")),
        };
        let client = platform::nats::connect(
            &config.links.nats_url,
            "payment-test",
            Duration::from_secs(5),
        )
        .await
        .expect("NATS connects");
        let app = crate::build_with(config, store, client)
            .await
            .expect("payment service builds");
        let background = app.spawn_background();
        let payment = TestServer::spawn(platform::service::router(app.state.clone())).await;
        Stack {
            background: Some(background),
            js: app.state.js.clone(),
            state: app.state,
            payment,
            tickets,
            auth,
            nats,
        }
    }
}

/// A signed-in buyer: an HTTP client whose cookie jar holds an auth-service session, pointed at
/// the payment service.
#[derive(Clone)]
pub struct Buyer {
    pub client: TestClient,
    pub id: Uuid,
    pub email: String,
}

impl Buyer {
    /// `POST /api/payment/process` with a JSON body.
    pub async fn pay(&self, body: &Value) -> TestResponse {
        self.client.post(PROCESS, body).await
    }

    /// `POST /api/payment/process` as `request` shapes it (headers, a raw body).
    pub async fn pay_with(
        &self,
        request: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> TestResponse {
        let post = self.client.http.post(self.client.url(PROCESS));
        self.client.send(request(post)).await
    }

    /// `POST /api/payment/process` with an `Idempotency-Key`.
    pub async fn pay_with_key(&self, key: &str, body: &Value) -> TestResponse {
        self.pay_with(|r| r.header("Idempotency-Key", key).json(body))
            .await
    }
}

const PROCESS: &str = "/api/payment/process";

/// A running payment service and everything it talks to. Fields drop in order: the service
/// stops before the servers it uses.
pub struct Stack {
    background: Option<Background>,
    pub payment: TestServer,
    pub state: AppState,
    pub js: jetstream::Context,
    pub tickets: Option<TicketStub>,
    pub auth: TestServer,
    pub nats: NatsServer,
}

impl Stack {
    /// Registers a new user with the auth service and returns a client for the payment service
    /// sharing the session cookie.
    pub async fn buyer(&self, email: &str) -> Buyer {
        let (client, id) =
            auth_service::testing::signed_in_at(&self.auth, email, self.payment.url()).await;
        Buyer {
            client,
            id,
            email: email.to_string(),
        }
    }

    /// A new buyer with `email` and an order of theirs worth `minor_units` cents that the
    /// service has learned, held for 15 minutes.
    pub async fn buyer_with_order(&self, email: &str, minor_units: i64) -> (Buyer, OrderCreated) {
        let buyer = self.buyer(email).await;
        let order = self.order_for(buyer.id, minor_units).await;
        (buyer, order)
    }

    /// A client signed in as the [`ADMIN`] (the stack must be built `with_admin()`).
    pub async fn admin(&self) -> TestClient {
        let auth_client = TestClient::new(self.auth.url());
        let res = auth_service::testing::log_in(&auth_client, ADMIN.0, ADMIN.1).await;
        assert_eq!(res.status, 200, "admin login failed: {}", res.text);
        auth_client.pointed_at(self.payment.url())
    }

    /// Stops the background work: the consumer, the maintenance sweep and the relay.
    pub async fn stop_background(&mut self) {
        if let Some(b) = self.background.take() {
            b.stop().await;
        }
    }

    /// Publishes an envelope on its `type` with `Nats-Msg-Id` = its id, as the ticket service
    /// does.
    pub async fn publish<T: Serialize>(&self, envelope: &Envelope<T>) {
        self.publish_with_msg_id(envelope, Some(&envelope.id.to_string()))
            .await;
    }

    /// Publishes an envelope with the given `Nats-Msg-Id` (or none, so the stream keeps every
    /// copy: a redelivery as the consumer would see it).
    pub async fn publish_with_msg_id<T: Serialize>(
        &self,
        envelope: &Envelope<T>,
        msg_id: Option<&str>,
    ) {
        let mut h = msg_id.map_or_else(HeaderMap::new, platform::testing::msg_id);
        h.insert(
            headers::TRACEPARENT,
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        );
        platform::testing::publish_envelope(&self.js, envelope, h).await;
    }

    /// Publishes `orders.created` for a new order of `user` worth `minor_units` cents, held for
    /// 15 minutes, and waits until the projection has it.
    pub async fn order_for(&self, user: Uuid, minor_units: i64) -> OrderCreated {
        let order = held_order(user, minor_units);
        self.publish(&created_envelope(&order)).await;
        self.wait_for_order(order.order_id, |_| true).await;
        order
    }

    /// Waits (up to 10 s) until the projection has the order and `ok` holds for it.
    pub async fn wait_for_order(&self, id: Uuid, ok: impl Fn(&OrderRecord) -> bool) -> OrderRecord {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let found = self.state.store.order(id).await.expect("store answers");
            match found {
                Some(o) if ok(&o) => return o,
                other => assert!(
                    tokio::time::Instant::now() < deadline,
                    "order {id} not as expected in the projection: {other:?}"
                ),
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The `PAYMENTS` messages about `order_id`, in order; each must be an envelope.
    pub async fn events_for(&self, order_id: Uuid) -> Vec<StoredEvent> {
        let order = order_id.to_string();
        let events = stream_events(&self.js, subjects::streams::PAYMENTS).await;
        for e in &events {
            serde_json::from_value::<Envelope<Value>>(e.envelope.clone()).expect("an envelope");
        }
        events
            .into_iter()
            .filter(|e| e.envelope["subject"] == order.as_str())
            .collect()
    }

    /// The stored payments of `order_id`, oldest first.
    pub async fn payments_for(&self, order_id: Uuid) -> Vec<Payment> {
        let store = &self.state.store;
        store
            .payments_for_order(order_id)
            .await
            .expect("store answers")
    }

    /// The subjects of the `PAYMENTS` messages about `order_id`, in order.
    pub async fn subjects_for(&self, order_id: Uuid) -> Vec<String> {
        let events = self.events_for(order_id).await;
        events.into_iter().map(|e| e.subject).collect()
    }

    /// A [`processing_payment`] of the projected order `order_id`.
    pub async fn processing_payment(&self, order_id: Uuid) -> Payment {
        let store = self.state.store.as_ref();
        let order = store
            .order(order_id)
            .await
            .unwrap()
            .expect("a projected order");
        processing_payment(store, &order).await
    }

    /// Waits (up to 10 s) until at least `count` messages on `subject` about `order_id` are in
    /// the stream, then returns all of them on that subject.
    pub async fn wait_for_events(
        &self,
        order_id: Uuid,
        subject: &str,
        count: usize,
    ) -> Vec<StoredEvent> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let found: Vec<StoredEvent> = self
                .events_for(order_id)
                .await
                .into_iter()
                .filter(|e| e.subject == subject)
                .collect();
            if found.len() >= count {
                return found;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} {subject} events for order {order_id}, expected {count}",
                found.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// An `orders.created` fact for a new order of `user` worth `minor_units` cents, held for 15
/// minutes.
pub fn held_order(user: Uuid, minor_units: i64) -> OrderCreated {
    order_created(
        user,
        minor_units,
        Utc::now() + chrono::Duration::minutes(15),
    )
}

/// An `orders.created` fact as the ticket service would publish it.
pub fn order_created(user: Uuid, minor_units: i64, expires_at: DateTime<Utc>) -> OrderCreated {
    let price = Price {
        minor_units,
        decimal: platform::money::Money::from_minor_units(minor_units, Currency::USD).decimal(),
        currency: "USD".into(),
    };
    let order_id = Uuid::now_v7();
    OrderCreated {
        order_id,
        booking_reference: format!("BK-{}", &order_id.simple().to_string()[24..]),
        user_id: user,
        event_id: Uuid::new_v4(),
        lines: vec![OrderLine {
            ticket_type: "General".into(),
            quantity: 1,
            unit_price: price.clone(),
            subtotal: price.clone(),
        }],
        total_amount: price,
        expires_at,
        customer: None,
    }
}

pub fn created_envelope(order: &OrderCreated) -> Envelope<OrderCreated> {
    Envelope::new(
        subjects::ORDERS_CREATED,
        "ticket-service",
        Some(order.order_id.to_string()),
        order.clone(),
    )
}

pub fn cancelled_envelope(order: &OrderCreated, reason: CancelReason) -> Envelope<OrderCancelled> {
    Envelope::new(
        subjects::ORDERS_CANCELLED,
        "ticket-service",
        Some(order.order_id.to_string()),
        order.cancelled(reason),
    )
}

/// A card payment body for `order_id`.
pub fn card_body(order_id: Uuid, number: &str) -> Value {
    json!({
        "orderId": order_id,
        "paymentMethod": "credit_card",
        "paymentDetails": {
            "cardNumber": number,
            "expiryMonth": 12,
            "expiryYear": Utc::now().format("%Y").to_string().parse::<i32>().unwrap_or(2030) + 3,
            "cvc": "123",
            "cardholderName": "Ada Lovelace"
        }
    })
}

/// A PayPal payment body for `order_id`.
pub fn paypal_body(order_id: Uuid, email: &str) -> Value {
    json!({
        "orderId": order_id,
        "paymentMethod": "paypal",
        "paymentDetails": {"email": email}
    })
}

#[derive(Clone)]
struct StubState {
    auth: AuthClient,
    orders: Arc<Mutex<HashMap<Uuid, OrderDetailsView>>>,
}

impl FromRef<StubState> for AuthClient {
    fn from_ref(s: &StubState) -> AuthClient {
        s.auth.clone()
    }
}

/// The ticket service's `GET /api/tickets/orders/:id` and nothing else: answers with the orders
/// put into it, to their owner only (404 otherwise), verifying the cookie with the auth service.
pub struct TicketStub {
    pub server: TestServer,
    orders: Arc<Mutex<HashMap<Uuid, OrderDetailsView>>>,
}

impl TicketStub {
    pub async fn spawn(auth_url: &str) -> Self {
        let orders = Arc::new(Mutex::new(HashMap::new()));
        let state = StubState {
            auth: AuthClient::new(auth_url, Duration::from_secs(5)),
            orders: orders.clone(),
        };
        let router = Router::new()
            .route("/api/tickets/orders/{id}", get(stub_order))
            .with_state(state);
        Self {
            server: TestServer::spawn(router).await,
            orders,
        }
    }

    /// Makes the stub know `order` as the ticket service shows it, pending.
    pub fn put(&self, order: &OrderCreated) {
        let number = |p: &Price| Money::from_minor_units(p.minor_units, Currency::USD).to_json();
        let now = platform::time::now();
        let view = OrderView {
            id: order.order_id,
            order_id: order.order_id,
            user_id: order.user_id,
            event_id: order.event_id,
            event: OrderEvent {
                id: order.event_id,
                title: "Test event".into(),
                date_time: order.expires_at + chrono::Duration::days(30),
            },
            booking_reference: order.booking_reference.clone(),
            status: OrderStatus::Pending,
            cancel_reason: None,
            tickets: order
                .lines
                .iter()
                .map(|l| OrderLineView {
                    ticket_type: LineTicketType {
                        name: l.ticket_type.clone(),
                        price: number(&l.unit_price),
                    },
                    quantity: l.quantity,
                    subtotal: number(&l.subtotal),
                })
                .collect(),
            total_amount: number(&order.total_amount),
            total_amount_minor: order.total_amount.minor_units,
            currency: order.total_amount.currency.clone(),
            customer_info: CustomerInfo::sample(),
            payment_id: None,
            failed_payments: 0,
            expires_at: order.expires_at,
            created_at: now,
            updated_at: now,
            paid_at: None,
            cancelled_at: None,
            refund: None,
        };
        let details = OrderDetailsView {
            order: view,
            payment_attempts: Vec::new(),
            issued_tickets: Vec::new(),
        };
        self.orders
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(order.order_id, details);
    }
}

async fn stub_order(
    State(state): State<StubState>,
    AuthUser(user): AuthUser,
    Path(id): Path<Uuid>,
) -> Result<Json<OrderResponse>, ApiError> {
    let order = state
        .orders
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&id)
        .cloned();
    match order {
        Some(order) if order.order.user_id == user.id => Ok(Json(OrderResponse { order })),
        _ => Err(ApiError::not_found("No such order.")),
    }
}

/// A pending order of `user` worth `minor_units` cents, held for 15 minutes, as the projection
/// keeps it (for store tests).
pub fn pending_order(user: Uuid, minor_units: i64) -> OrderRecord {
    let now = platform::time::now();
    OrderRecord {
        id: Uuid::now_v7(),
        user_id: user,
        event_id: Some(Uuid::new_v4()),
        booking_reference: Some("BK-TEST".into()),
        amount: Some(platform::money::Money::from_minor_units(
            minor_units,
            Currency::USD,
        )),
        status: OrderStatus::Pending,
        cancel_reason: None,
        expires_at: Some(now + chrono::Duration::minutes(15)),
        source: OrderSource::Events,
        updated_at: now,
    }
}

/// A new `pending` card payment of `order` (for store tests).
pub fn new_payment(order: &OrderRecord) -> Payment {
    let now = platform::time::now();
    Payment {
        id: Uuid::now_v7(),
        order_id: order.id,
        user_id: order.user_id,
        amount: order
            .amount
            .unwrap_or(platform::money::Money::from_minor_units(0, Currency::USD)),
        method: PaymentMethod::CreditCard,
        status: PaymentStatus::Pending,
        details: PaymentDetails::Card {
            last4: "4242".into(),
            brand: CardBrand::Visa,
        },
        gateway_response: None,
        refund: None,
        created_at: now,
        updated_at: now,
    }
}

/// A new payment of `order`, stored and marked `processing`: it reached the gateway and has no
/// answer yet.
pub async fn processing_payment(store: &dyn PaymentStore, order: &OrderRecord) -> Payment {
    let payment = new_payment(order);
    store.insert_payment(&payment).await.unwrap();
    let at = platform::time::now();
    let processing = store.begin_processing(payment.id, at).await.unwrap();
    processing.expect("a pending payment starts processing")
}
