//! The whole event service over real HTTP: a real nats-server, a real auth service and the
//! event service on in-memory SQLite, each on a free port.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use auth_service::config::{AdminBootstrap, AuthConfig};
use chrono::{DateTime, Utc};
use event_service::config::EventConfig;
use event_service::domain::{Event, Status};
use event_service::store::{EventStore, SqliteStore};
use platform::background::Background;
use platform::config::BaseConfig;
use platform::money::Currency;
use platform::testing::{NatsServer, TestClient, TestResponse, TestServer};
use serde_json::{Value, json};
use uuid::Uuid;

pub use auth_service::testing::ADMIN_EMAIL;
use auth_service::testing::{PASSWORD, register_at};

pub struct Stack {
    pub store: Arc<dyn EventStore>,
    pub js: jetstream::Context,
    pub events: TestServer,
    pub auth: TestServer,
    _background: Background,
    pub nats: NatsServer,
}

pub fn event_config(nats_url: String, auth_url: String) -> EventConfig {
    EventConfig {
        base: BaseConfig::in_memory(),
        links: platform::testing::links(nats_url, auth_url),
        // Port 9 (discard) is closed on test machines: the order count is unknown at once.
        ticket_url: "http://127.0.0.1:9".into(),
        ticket_timeout: Duration::from_secs(2),
        currency: Currency::USD,
        demo: None,
    }
}

impl Stack {
    pub async fn start() -> Self {
        Self::start_with(|c| c).await
    }

    /// `adjust` changes the event service's configuration before it starts.
    pub async fn start_with(adjust: impl FnOnce(EventConfig) -> EventConfig) -> Self {
        let nats = NatsServer::start();
        let auth = auth_service::testing::spawn_with(AuthConfig {
            admin: Some(AdminBootstrap {
                email: ADMIN_EMAIL.into(),
                password: PASSWORD.into(),
            }),
            ..auth_service::testing::config()
        })
        .await;
        let client = platform::nats::connect(&nats.url(), "event-tests", Duration::from_secs(5))
            .await
            .expect("NATS");
        let store: Arc<dyn EventStore> = Arc::new(SqliteStore::in_memory().expect("store"));
        let config = adjust(event_config(nats.url(), auth.url()));
        let app = event_service::build_with(config, store.clone(), client.clone())
            .await
            .expect("event service builds");
        let background = app.spawn_background();
        let events = TestServer::spawn(platform::service::router(app.state)).await;
        Self {
            store,
            js: jetstream::new(client),
            events,
            auth,
            _background: background,
            nats,
        }
    }

    /// A stack and a browser signed in as a new user `first last`: where most tests start.
    pub async fn with_user(first: &str, last: &str) -> (Self, TestClient) {
        let stack = Self::start().await;
        let (client, _) = stack.user(first, last).await;
        (stack, client)
    }

    pub fn anonymous(&self) -> TestClient {
        TestClient::new(self.events.url())
    }

    /// A browser signed in as a new user `first last` (the auth cookie also reaches the event
    /// service: cookies ignore ports).
    pub async fn user(&self, first: &str, last: &str) -> (TestClient, Value) {
        let client = self.anonymous();
        let email = format!(
            "{}.{}@example.com",
            first.to_lowercase(),
            Uuid::new_v4().simple()
        );
        let user = register_at(&client, &self.auth.url(), &email, (first, last)).await;
        (client, user)
    }

    /// Two signed-in users: Olive, who will own events, and Otto, who owns none of hers.
    pub async fn owner_and_other(&self) -> (TestClient, TestClient) {
        let (owner, _) = self.user("Olive", "Owner").await;
        let (other, _) = self.user("Otto", "Other").await;
        (owner, other)
    }

    pub async fn admin(&self) -> TestClient {
        let client = self.anonymous();
        auth_service::testing::sign_in_as_admin(&client, &self.auth.url()).await;
        client
    }
}

/// An RFC 3339 time `days` from now.
pub fn in_days(days: i64) -> String {
    (Utc::now() + chrono::Duration::days(days)).to_rfc3339()
}

/// A valid create body; `changes` are merged over it (a `null` removes the field).
pub fn event_body(changes: Value) -> Value {
    let mut body = json!({
        "title": "Jazz in the Park",
        "description": "An evening of live jazz.",
        "category": "Music",
        "venue": {"name": "Central Park Stage", "address": "5th Ave", "city": "New York", "capacity": 500},
        "dateTime": in_days(10),
        "duration": 120,
        "ticketTypes": [
            {"name": "General", "price": 25.5, "quantity": 300, "description": "Standing"},
            {"name": "VIP", "price": 99.99, "quantity": 50}
        ]
    });
    merge(&mut body, changes);
    body
}

fn merge(target: &mut Value, changes: Value) {
    match (target, changes) {
        (Value::Object(t), Value::Object(c)) => {
            for (k, v) in c {
                if v.is_null() {
                    t.remove(&k);
                } else {
                    merge(t.entry(k).or_insert(Value::Null), v);
                }
            }
        }
        (t, c) => *t = c,
    }
}

/// Creates an event through the API and returns it.
pub async fn create(client: &TestClient, changes: Value) -> Value {
    let res = client.post("/api/events", &event_body(changes)).await;
    assert_eq!(res.status, 201, "create failed: {}", res.text);
    res.json()["event"].clone()
}

/// Changes `event` through the API as `client`, which must succeed; the event as answered.
pub async fn edit(client: &TestClient, event: &Value, changes: Value) -> Value {
    let res = client.patch(&event_path(event), &changes).await;
    assert_eq!(res.status, 200, "{changes}: {}", res.text);
    res.json()["event"].clone()
}

/// `/api/events/<id>` of an event as the API answered it.
pub fn event_path(event: &Value) -> String {
    format!("/api/events/{}", event["id"].as_str().unwrap())
}

pub async fn post_empty(client: &TestClient, path: &str) -> TestResponse {
    client.send(client.http.post(client.url(path))).await
}

/// `POST <event>/<action>` (`publish`, `cancel`) for the event at `event`, as `client`.
pub async fn post_action(client: &TestClient, event: &str, action: &str) -> TestResponse {
    post_empty(client, &format!("{event}/{action}")).await
}

/// The field names of a validation error response.
pub fn error_fields(res: &TestResponse) -> Vec<String> {
    res.json()["error"]["fields"]
        .as_object()
        .map(|f| f.keys().cloned().collect())
        .unwrap_or_default()
}

/// An event built directly (for states the API refuses to create, such as past events).
pub fn stored_event(created_by: Uuid, status: Status, starts: DateTime<Utc>) -> Event {
    Event::sample(status, starts, created_by)
}

/// Polls the CATALOG stream until it holds `n` messages; fails on more, or after 10 s.
pub async fn catalog_messages(
    js: &jetstream::Context,
    n: u64,
) -> Vec<async_nats::jetstream::message::StreamMessage> {
    let stream = js.get_stream("CATALOG").await.expect("CATALOG stream");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let count = stream
            .clone()
            .info()
            .await
            .expect("stream info")
            .state
            .messages;
        assert!(count <= n, "CATALOG holds {count} messages, expected {n}");
        if count == n {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "CATALOG holds {count} messages, expected {n}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut out = Vec::new();
    for seq in 1..=n {
        out.push(stream.get_raw_message(seq).await.expect("message"));
    }
    out
}
