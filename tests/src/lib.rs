//! The whole system in one process, wired as in production: a real nats-server, every service on
//! its own loopback port with its own database, and the gateway in front. Used by the end-to-end
//! tests and by the benchmark.

pub mod webdriver;

use std::path::PathBuf;
use std::time::Duration;

use async_nats::jetstream;
use chrono::Utc;
use platform::background::Background;
use platform::config::{BaseConfig, HttpConfig, StoreConfig};
use platform::money::Currency;
use platform::testing::{NatsServer, TestClient, TestResponse, TestServer};
use serde_json::{Value, json};
use ticket_service::testing::TicketHarness;
use uuid::Uuid;

/// How the system is started.
#[derive(Clone, Debug)]
pub struct Options {
    /// SQLite files in a temp dir (as `xtask up` runs) instead of in-memory databases.
    pub file_backed: bool,
    /// How long the ticket service holds seats.
    pub hold: Duration,
    pub bcrypt_cost: u32,
    /// Share of payments with an ordinary (not a test) card that the simulated gateway approves.
    pub success_rate: f64,
    /// A built web app (`web/dist`) for the gateway to serve; none: the API overview page.
    pub web_dist: Option<PathBuf>,
    /// The NATS the services use (e.g. a cluster's comma-separated URLs); none: the system's own
    /// nats-server (`System::nats`).
    pub nats_url: Option<String>,
    /// Run the notification service's consumers and sweep (mail to [`System::smtp`]); the
    /// benchmark turns them off so that its figures measure the order path alone.
    pub mail: bool,
    /// The auth service writes session records to NATS and the other services check sessions
    /// against their copy of them (as in production); off: every check asks the auth service.
    pub session_records: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            file_backed: false,
            hold: Duration::from_secs(900),
            bcrypt_cost: 4,
            success_rate: 0.9,
            web_dist: None,
            nats_url: None,
            mail: true,
            session_records: true,
        }
    }
}

/// The cast of a typical journey: see [`System::stage`].
pub struct Stage {
    pub organizer: TestClient,
    pub event: Uuid,
    pub buyer: TestClient,
}

pub struct System {
    pub nats: NatsServer,
    pub auth: TestServer,
    pub events: TestServer,
    pub tickets: TicketHarness,
    pub payments: TestServer,
    pub payment_state: payment_service::AppState,
    pub payment_background: Option<Background>,
    pub gateway: TestServer,
    pub js: jetstream::Context,
    pub notifications: TestServer,
    /// The SMTP server the notification service mails.
    pub smtp: notification_service::testing::SmtpSink,
    _notification_background: Option<Background>,
    _event_background: Background,
    _data: tempfile::TempDir,
}

fn store(data: &tempfile::TempDir, file_backed: bool, file: &str) -> StoreConfig {
    StoreConfig::Sqlite {
        path: if file_backed {
            data.path().join(file)
        } else {
            ":memory:".into()
        },
    }
}

fn any_port() -> HttpConfig {
    HttpConfig {
        addr: "127.0.0.1:0".parse().expect("addr"),
    }
}

impl System {
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    /// The whole system with orders held for `hold` (short, so that holds run out in a test).
    pub async fn with_hold(hold: Duration) -> Self {
        Self::start_with(Options {
            hold,
            ..Options::default()
        })
        .await
    }

    pub async fn start_with(options: Options) -> Self {
        let data = tempfile::tempdir().expect("temp dir");
        let nats = NatsServer::start();
        let nats_url = options.nats_url.clone().unwrap_or_else(|| nats.url());

        let auth_config = auth_service::AuthConfig {
            base: BaseConfig {
                http: any_port(),
                store: store(&data, options.file_backed, "auth.db"),
            },
            bcrypt_cost: options.bcrypt_cost,
            nats_url: options.session_records.then(|| nats_url.clone()),
            ..auth_service::testing::config()
        };
        let auth_app = auth_service::build(auth_config).await.expect("auth builds");
        let auth = TestServer::spawn(platform::service::router(auth_app.state)).await;

        // The event and ticket services each ask the other: the event service's port is taken
        // first, so the ticket service knows where it is before either serves.
        let events_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind port 0");
        let events_url = format!(
            "http://{}",
            events_listener.local_addr().expect("local addr")
        );

        let ticket_defaults = ticket_service::testing::config(&nats, &auth.url(), &events_url);
        let ticket_config = ticket_service::TicketConfig {
            base: BaseConfig {
                store: store(&data, options.file_backed, "ticket.db"),
                ..ticket_defaults.base
            },
            links: platform::testing::links(nats_url.clone(), auth.url()),
            hold: options.hold,
            ..ticket_defaults
        };
        let ticket_store = ticket_service::store::open(&ticket_config.base.store)
            .await
            .expect("ticket store");
        let tickets = TicketHarness::start_with_store(ticket_config, ticket_store, true).await;

        let event_config = event_service::config::EventConfig {
            base: BaseConfig {
                http: any_port(),
                store: store(&data, options.file_backed, "event.db"),
            },
            links: platform::testing::links(nats_url.clone(), auth.url()),
            ticket_url: tickets.url(),
            ticket_timeout: Duration::from_secs(2),
            currency: Currency::USD,
            demo: None,
        };
        let event_app = event_service::build(event_config)
            .await
            .expect("event service builds");
        let event_background = event_app.spawn_background();
        let events =
            TestServer::spawn_on(events_listener, platform::service::router(event_app.state));

        let defaults = payment_service::testing::config();
        let payment_config = payment_service::config::PaymentConfig {
            base: BaseConfig {
                store: store(&data, options.file_backed, "payment.db"),
                ..defaults.base
            },
            links: platform::testing::links(nats_url.clone(), auth.url()),
            ticket_url: tickets.url(),
            success_rate: options.success_rate,
            ..defaults
        };
        let payment_app = payment_service::build(payment_config)
            .await
            .expect("payment service builds");
        let payment_background = Some(payment_app.spawn_background());
        let payment_state = payment_app.state.clone();
        let payments = TestServer::spawn(platform::service::router(payment_app.state)).await;

        let smtp = notification_service::testing::SmtpSink::start().await;
        let mut notification_config =
            notification_service::testing::config(Some(smtp.url()), &data.path().join("mail"));
        notification_config.base.store = store(&data, options.file_backed, "notification.db");
        notification_config.links.nats_url = nats_url.clone();
        notification_config.links.auth_url = auth.url();
        let notification_app = notification_service::build(notification_config)
            .await
            .expect("notification service builds");
        let notification_background = options.mail.then(|| notification_app.spawn_background());
        let notifications =
            TestServer::spawn(platform::service::router(notification_app.state)).await;

        let gateway = TestServer::spawn(gateway::router(&gateway::GatewayConfig {
            http: any_port(),
            auth_url: auth.url(),
            event_url: events.url(),
            ticket_url: tickets.url(),
            payment_url: payments.url(),
            notification_url: notifications.url(),
            web_dist: options
                .web_dist
                .clone()
                .unwrap_or_else(|| data.path().join("no-web-bundle")),
            upstream_timeout: Duration::from_secs(10),
        }))
        .await;

        let js = tickets.app.js.clone();
        Self {
            nats,
            auth,
            events,
            tickets,
            payments,
            payment_state,
            payment_background,
            gateway,
            js,
            notifications,
            smtp,
            _notification_background: notification_background,
            _event_background: event_background,
            _data: data,
        }
    }

    /// A browser on the gateway, like a person at http://localhost:3000.
    pub fn browser(&self) -> TestClient {
        TestClient::new(self.gateway.url())
    }

    /// A browser signed in as a new account.
    pub async fn sign_up(&self, first_name: &str) -> TestClient {
        sign_up_at(&self.gateway.url(), first_name, "Tester").await
    }

    /// `n` buyers signed up one after another, named `prefix0`, `prefix1`, ...
    pub async fn sign_ups(&self, prefix: &str, n: usize) -> Vec<TestClient> {
        let mut buyers = Vec::with_capacity(n);
        for i in 0..n {
            buyers.push(self.sign_up(&format!("{prefix}{i}")).await);
        }
        buyers
    }

    /// An organizer with one published event of `types` (name, price, seats): where most
    /// journeys start.
    pub async fn organizer_with_event(&self, types: &[(&str, f64, u32)]) -> (TestClient, Uuid) {
        let organizer = self.sign_up("Olga").await;
        let event = self.create_event(&organizer, types).await;
        (organizer, event)
    }

    /// [`Self::organizer_with_event`] and a signed-up buyer.
    pub async fn stage(&self, types: &[(&str, f64, u32)]) -> Stage {
        let (organizer, event) = self.organizer_with_event(types).await;
        let buyer = self.sign_up("Bruno").await;
        Stage {
            organizer,
            event,
            buyer,
        }
    }

    /// Creates a published event through the API; `types` are (name, price, seats).
    pub async fn create_event(&self, organizer: &TestClient, types: &[(&str, f64, u32)]) -> Uuid {
        self.create_event_with(organizer, types, json!({})).await
    }

    /// [`Self::create_event`] with `extra` fields in the request (e.g. `onSaleAt` and `queue`).
    pub async fn create_event_with(
        &self,
        organizer: &TestClient,
        types: &[(&str, f64, u32)],
        extra: Value,
    ) -> Uuid {
        let capacity: u32 = types.iter().map(|t| t.2).sum();
        let ticket_types: Vec<Value> = types
            .iter()
            .map(|(name, price, quantity)| json!({"name": name, "price": price, "quantity": quantity, "description": ""}))
            .collect();
        let mut body = json!({
            "title": "Night of Tests",
            "description": "An evening of green builds.",
            "category": "music",
            "venue": {"name": "Hall", "address": "1 Main St", "city": "Lisbon", "capacity": capacity},
            "dateTime": (Utc::now() + chrono::Duration::days(20)).to_rfc3339(),
            "duration": 120,
            "ticketTypes": ticket_types,
        });
        for (field, value) in extra.as_object().expect("extra fields are an object") {
            body[field] = value.clone();
        }
        let res = organizer.post("/api/events", &body).await;
        assert_eq!(res.status, 201, "{}", res.text);
        res.json()["event"]["id"]
            .as_str()
            .expect("event id")
            .parse()
            .expect("uuid")
    }
}

pub use payment_service::testing::{APPROVED_CARD, DECLINED_CARD, card_body};

/// Asks for `quantity` tickets of type "General" (the type the tests' events have): the answer,
/// whatever it is.
pub async fn try_book(buyer: &TestClient, event: Uuid, quantity: u32) -> TestResponse {
    buyer
        .post(
            "/api/tickets/book",
            &json!({"eventId": event, "tickets": [{"ticketType": "General", "quantity": quantity}]}),
        )
        .await
}

/// Books `quantity` tickets of type "General" and returns the 201 answer.
pub async fn book(buyer: &TestClient, event: Uuid, quantity: u32) -> Value {
    let res = try_book(buyer, event, quantity).await;
    assert_eq!(res.status, 201, "{}", res.text);
    res.json()
}

/// Waits until the order has `status` and returns it.
pub async fn order_becomes(buyer: &TestClient, order_id: &str, status: &str) -> Value {
    let what = format!("order {order_id} to be {status}");
    order_when(buyer, order_id, &what, |o| o["status"] == status).await
}

/// The buyer's `POST /api/tickets/orders/:id/cancel`: the answer, whatever it is.
pub async fn cancel_order(buyer: &TestClient, order_id: &str) -> TestResponse {
    let path = format!("/api/tickets/orders/{order_id}/cancel");
    buyer.post(&path, &json!({})).await
}

/// The organizer cancels the event (`POST /api/events/:id/cancel`), which must succeed; the
/// answer.
pub async fn cancel_event(organizer: &TestClient, event: Uuid) -> Value {
    let res = organizer
        .post(&format!("/api/events/{event}/cancel"), &json!({}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.json()
}

/// The order as its buyer sees it: the `order` of `GET /api/tickets/orders/:id`.
pub async fn order_of(buyer: &TestClient, order_id: &str) -> Value {
    let res = buyer.get(&format!("/api/tickets/orders/{order_id}")).await;
    res.json()["order"].clone()
}

/// Waits until the order, as its buyer sees it, satisfies `ready` (or fails, naming `what`), and
/// returns it.
pub async fn order_when(
    buyer: &TestClient,
    order_id: &str,
    what: &str,
    ready: impl Fn(&Value) -> bool,
) -> Value {
    platform::testing::eventually(what, || async {
        let o = order_of(buyer, order_id).await;
        ready(&o).then_some(o)
    })
    .await
}

/// `POST /api/payment/process` for the order with a card: the answer, whatever it is.
pub async fn try_pay(buyer: &TestClient, order_id: &str, card: &str) -> TestResponse {
    buyer
        .post(
            "/api/payment/process",
            &card_body(order_id.parse().expect("an order id"), card),
        )
        .await
}

/// `POST /api/payment/process` with a card; asserts the 201 and returns its `payment`.
pub async fn pay(buyer: &TestClient, order_id: &str, card: &str) -> Value {
    let res = try_pay(buyer, order_id, card).await;
    assert_eq!(res.status, 201, "{}", res.text);
    res.json()["payment"].clone()
}

/// The stock of the event's first ticket type (`sold`, `held`, `available`), as anyone may ask.
pub async fn stock(client: &TestClient, event: Uuid) -> Value {
    let res = client
        .get(&format!("/api/tickets/events/{event}/availability"))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    res.json()["ticketTypes"][0].clone()
}

/// The `orderId` of a booking's answer.
pub fn order_id(booking: &Value) -> String {
    booking["orderId"].as_str().expect("orderId").to_string()
}

/// A new buyer's order of `quantity` seats, paid and confirmed: the buyer, the order id and the
/// payment id.
pub async fn paid_order(
    system: &System,
    event: Uuid,
    quantity: u32,
) -> (TestClient, String, String) {
    let buyer = system.sign_up("Bruno").await;
    let id = order_id(&book(&buyer, event, quantity).await);
    let payment = pay(&buyer, &id, APPROVED_CARD).await;
    assert_eq!(payment["status"], "completed");
    order_becomes(&buyer, &id, "confirmed").await;
    (
        buyer,
        id,
        payment["id"].as_str().expect("payment id").to_string(),
    )
}

/// A browser signed in as a new account `first_name last_name`, through the web entrance at
/// `web` (the gateway, which passes `/api/auth` on to the auth service).
pub async fn sign_up_at(web: &str, first_name: &str, last_name: &str) -> TestClient {
    let browser = TestClient::new(web);
    let email = format!(
        "{}-{}@example.com",
        first_name.to_lowercase(),
        Uuid::new_v4().simple()
    );
    auth_service::testing::register_at(&browser, web, &email, (first_name, last_name)).await;
    browser
}
