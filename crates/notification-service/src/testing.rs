//! Test support: a real SMTP server (a small sink that speaks the protocol over TCP and keeps
//! what it receives), a real notification service with its nats-server and auth service, and
//! the facts the other services publish, made to order.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream;
use chrono::{DateTime, Utc};
use contracts::Envelope;
use contracts::catalog::{
    EventCancelled, EventDetails, EventPublished, Price, RefundPolicy, TicketTypeInfo, VenueInfo,
};
use contracts::orders::{
    CancelReason, OrderCancelled, OrderConfirmed, OrderCreated, OrderCustomer, OrderLine,
    OrderTicket,
};
use contracts::payments::{PaymentFailed, PaymentRefunded};
use contracts::subjects;
use platform::background::Background;
use platform::config::BaseConfig;
use platform::testing::{NatsServer, TestClient, TestServer};
use serde::Serialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::config::NotificationConfig;
use crate::state::AppState;
use crate::store::{NotificationStore, SqliteStore};

// ---------------------------------------------------------------------------------------------
// The SMTP sink

/// One message as the sink received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The message (RFC 5322), dot-stuffing undone.
    pub data: Vec<u8>,
}

/// What the sink answers to `RCPT TO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Accept,
    /// `550 mailbox unavailable`: a permanent refusal.
    Refuse,
}

/// A real SMTP server on a loopback port that keeps every message it accepts. It can be stopped
/// (the port then refuses connections) and started again on the same port.
pub struct SmtpSink {
    port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    answer: Arc<Mutex<Answer>>,
    task: Option<JoinHandle<()>>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let port = listener.local_addr().expect("bound").port();
        let mut sink = Self {
            port,
            received: Arc::default(),
            answer: Arc::new(Mutex::new(Answer::Accept)),
            task: None,
        };
        sink.serve(listener);
        sink
    }

    /// `smtp://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("sink lock").clone()
    }

    /// Waits (bounded) until at least `n` messages arrived; every message received by then.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        platform::testing::eventually(&format!("{n} mails"), || async {
            let received = self.received();
            (received.len() >= n).then_some(received)
        })
        .await
    }

    pub fn answer_recipients(&self, answer: Answer) {
        *self.answer.lock().expect("sink lock") = answer;
    }

    /// Closes the port: connections are refused until [`restart`](Self::restart).
    pub fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    /// Listens on the same port again.
    pub async fn restart(&mut self) {
        self.stop();
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(l) => break l,
                // The aborted listener may take a moment to release the port.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        self.serve(listener);
    }

    fn serve(&mut self, listener: TcpListener) {
        let (received, answer) = (self.received.clone(), self.answer.clone());
        self.task = Some(tokio::spawn(async move {
            let mut sessions = tokio::task::JoinSet::new();
            while let Ok((socket, _)) = listener.accept().await {
                sessions.spawn(session(socket, received.clone(), answer.clone()));
            }
        }));
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One SMTP conversation (RFC 5321's minimum: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT).
async fn session(
    socket: tokio::net::TcpStream,
    received: Arc<Mutex<Vec<Received>>>,
    answer: Arc<Mutex<Answer>>,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink ESMTP ready\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" | "NOOP" => b"250 OK\r\n",
            "RSET" => {
                (from, to) = (String::new(), Vec::new());
                b"250 OK\r\n"
            }
            "MAIL" => {
                from = address(&command);
                b"250 OK\r\n"
            }
            "RCPT" => {
                if *answer.lock().expect("sink lock") == Answer::Refuse {
                    b"550 5.1.1 mailbox unavailable\r\n"
                } else {
                    to.push(address(&command));
                    b"250 OK\r\n"
                }
            }
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = Vec::new();
                loop {
                    let mut l = Vec::new();
                    if lines.read_until(b'\n', &mut l).await? == 0 {
                        return Ok(());
                    }
                    if l == b".\r\n" || l == b".\n" {
                        break;
                    }
                    let unstuffed = if l.starts_with(b"..") {
                        &l[1..]
                    } else {
                        &l[..]
                    };
                    data.extend_from_slice(unstuffed);
                }
                received.lock().expect("sink lock").push(Received {
                    from: std::mem::take(&mut from),
                    to: std::mem::take(&mut to),
                    data,
                });
                b"250 OK queued\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 command not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}

/// The address of `MAIL FROM:<a>` / `RCPT TO:<a>`.
fn address(command: &str) -> String {
    match (command.find('<'), command.find('>')) {
        (Some(a), Some(b)) if b > a => command[a + 1..b].to_string(),
        _ => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// The service

/// Settings for tests: mail to `smtp_url` (or `.eml` files in `mail_dir`), a fast sweep, short
/// claims.
pub fn config(smtp_url: Option<String>, mail_dir: &std::path::Path) -> NotificationConfig {
    NotificationConfig {
        base: BaseConfig::in_memory(),
        links: platform::testing::links("", ""),
        smtp_url,
        mail_dir: mail_dir.to_path_buf(),
        from: "Ticketing <tickets@ticketing.test>"
            .parse()
            .expect("a mailbox"),
        smtp_timeout: Duration::from_secs(5),
        reminder_lead: Duration::from_secs(300),
        sweep_every: Duration::from_millis(500),
        claim_stale: Duration::from_secs(60),
        max_fact_age: Duration::from_secs(86_400),
    }
}

/// A running notification service, its nats-server, auth service and SMTP sink. Fields drop
/// in order: the service stops before the servers it uses.
pub struct Stack {
    background: Option<Background>,
    pub http: TestServer,
    pub state: AppState,
    pub js: jetstream::Context,
    pub sink: SmtpSink,
    pub auth: TestServer,
    pub nats: NatsServer,
    pub dir: tempfile::TempDir,
}

/// Builds a [`Stack`].
pub struct StackBuilder {
    files: bool,
    background: bool,
    /// Everything but the addresses, which `start` fills in.
    config: NotificationConfig,
}

/// A stack mailing the SMTP sink, with its consumers and sweep running.
pub fn stack() -> StackBuilder {
    StackBuilder {
        files: false,
        background: true,
        config: config(None, std::path::Path::new("")),
    }
}

impl StackBuilder {
    /// No `SMTP_URL`: `.eml` files under the stack's temp dir.
    pub fn files(mut self) -> Self {
        self.files = true;
        self
    }

    /// Neither consumers nor sweep: the test calls [`crate::apply`] and [`crate::sweep`].
    pub fn without_background(mut self) -> Self {
        self.background = false;
        self
    }

    pub fn config(mut self, f: impl FnOnce(&mut NotificationConfig)) -> Self {
        f(&mut self.config);
        self
    }

    pub async fn start(self) -> Stack {
        let nats = NatsServer::start();
        let auth = auth_service::testing::spawn().await;
        let sink = SmtpSink::start().await;
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut config = self.config;
        config.smtp_url = (!self.files).then(|| sink.url());
        config.mail_dir = dir.path().join("mail");
        config.links.nats_url = nats.url();
        config.links.auth_url = auth.url();
        let store: Arc<dyn NotificationStore> =
            Arc::new(SqliteStore::in_memory().expect("in-memory store"));
        let client =
            platform::nats::connect(&nats.url(), "notification-test", Duration::from_secs(5))
                .await
                .expect("NATS connects");
        let app = crate::build_with(config, store, client)
            .await
            .expect("notification service builds");
        let background = self.background.then(|| app.spawn_background());
        let http = TestServer::spawn(platform::service::router(app.state.clone())).await;
        Stack {
            background,
            js: app.state.js.clone(),
            state: app.state,
            http,
            sink,
            auth,
            nats,
            dir,
        }
    }
}

impl Stack {
    /// A user signed in with the auth service: a client for the notification service, and the
    /// user's id.
    pub async fn user(&self, email: &str) -> (TestClient, Uuid) {
        auth_service::testing::signed_in_at(&self.auth, email, self.http.url()).await
    }

    /// Publishes an envelope on its `type` with `Nats-Msg-Id` = its id, as the services do.
    pub async fn publish<T: Serialize>(&self, envelope: &Envelope<T>) {
        let h = platform::testing::msg_id(&envelope.id.to_string());
        platform::testing::publish_envelope(&self.js, envelope, h).await;
    }

    /// Applies an envelope directly, as the consumer's handler would.
    pub async fn apply<T: Serialize>(
        &self,
        envelope: &Envelope<T>,
    ) -> Result<platform::consumer::Outcome, platform::consumer::HandleError> {
        let payload = serde_json::to_vec(envelope).expect("serializable envelope");
        crate::apply(&self.state, &payload).await
    }

    /// Hands an envelope to the service: published on the stream when its consumers run,
    /// else applied directly (and required to succeed).
    pub async fn feed<T: Serialize>(&self, envelope: &Envelope<T>) {
        if self.background.is_some() {
            self.publish(envelope).await;
        } else {
            self.apply(envelope).await.expect("the fact applies");
        }
    }

    /// A published "Jazz Night" on 17 March 2030 and a new order of `quantity` seats for
    /// `email`, held for 15 minutes, both fed to the service.
    pub async fn booking(&self, email: &str, quantity: u32) -> (EventPublished, OrderCreated) {
        let event = event_published(
            "Jazz Night",
            "2030-03-17T18:00:00Z".parse().expect("a time"),
        );
        let expires = platform::time::now() + chrono::Duration::minutes(15);
        let order = order_created(&event, Uuid::now_v7(), email, quantity, expires);
        self.feed(&facts::published(&event)).await;
        self.feed(&facts::created(&order)).await;
        (event, order)
    }

    /// Stops the consumers and the sweep.
    pub async fn stop_background(&mut self) {
        if let Some(b) = self.background.take() {
            b.stop().await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Facts, as the event, ticket and payment services publish them

pub fn envelope<T>(kind: &str, source: &str, about: Uuid, data: T) -> Envelope<T> {
    Envelope::new(kind, source, Some(about.to_string()), data)
}

pub fn usd(minor_units: i64) -> Price {
    Price {
        minor_units,
        decimal: format!("{}.{:02}", minor_units / 100, minor_units % 100),
        currency: "USD".into(),
    }
}

/// A published event in the Blue Room, Chicago, on `date_time`.
pub fn event_published(title: &str, date_time: DateTime<Utc>) -> EventPublished {
    EventPublished {
        event_id: Uuid::now_v7(),
        version: 1,
        details: EventDetails {
            title: title.into(),
            category: "Music".into(),
            venue: VenueInfo {
                name: "Blue Room".into(),
                city: "Chicago".into(),
                capacity: 200,
            },
            date_time,
            duration: 120,
            ticket_types: vec![TicketTypeInfo {
                name: "General".into(),
                price: usd(2550),
                quantity: 150,
            }],
            created_by: Uuid::now_v7(),
            refund_policy: RefundPolicy::default(),
            sale: Default::default(),
            waitlist_enabled: true,
        },
    }
}

/// `quantity` General tickets of `event` held for `user` (`email`) until `expires_at`.
pub fn order_created(
    event: &EventPublished,
    user: Uuid,
    email: &str,
    quantity: u32,
    expires_at: DateTime<Utc>,
) -> OrderCreated {
    let order_id = Uuid::now_v7();
    OrderCreated {
        order_id,
        booking_reference: format!("TK-{}", &order_id.simple().to_string()[24..]).to_uppercase(),
        user_id: user,
        event_id: event.event_id,
        lines: vec![OrderLine {
            ticket_type: "General".into(),
            quantity,
            unit_price: usd(2550),
            subtotal: usd(2550 * i64::from(quantity)),
        }],
        total_amount: usd(2550 * i64::from(quantity)),
        expires_at,
        customer: Some(OrderCustomer {
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            email: email.into(),
        }),
    }
}

/// The confirmation of `order`, one ticket per seat.
pub fn order_confirmed(order: &OrderCreated) -> OrderConfirmed {
    let seats: u32 = order.lines.iter().map(|l| l.quantity).sum();
    OrderConfirmed {
        order_id: order.order_id,
        booking_reference: order.booking_reference.clone(),
        user_id: order.user_id,
        event_id: order.event_id,
        payment_id: Uuid::now_v7(),
        total_amount: order.total_amount.clone(),
        ticket_count: seats,
        tickets: (0..seats)
            .map(|i| OrderTicket {
                ticket_type: "General".into(),
                code: format!("CODE{i}-{}", order.order_id.simple()),
                signed_code: None,
            })
            .collect(),
    }
}

pub fn payment_failed(order: &OrderCreated) -> PaymentFailed {
    PaymentFailed {
        payment_id: Uuid::now_v7(),
        order_id: order.order_id,
        user_id: order.user_id,
        amount: order.total_amount.clone(),
        payment_method: "credit_card".into(),
        response_code: "card_declined".into(),
        response_message: "Your card was declined.".into(),
    }
}

pub fn payment_refunded(order: &OrderCreated, reason: &str) -> PaymentRefunded {
    PaymentRefunded {
        payment_id: Uuid::now_v7(),
        order_id: order.order_id,
        user_id: order.user_id,
        amount: order.total_amount.clone(),
        reason: reason.into(),
    }
}

pub fn event_cancelled(event: &EventPublished) -> EventCancelled {
    EventCancelled {
        event_id: event.event_id,
        version: event.version + 1,
        title: event.details.title.clone(),
        date_time: event.details.date_time,
        cancelled_at: platform::time::now(),
    }
}

/// Envelopes of each fact, with the subject and source the publishing service uses.
pub mod facts {
    use super::*;

    pub fn published(e: &EventPublished) -> Envelope<EventPublished> {
        envelope(
            subjects::CATALOG_EVENT_PUBLISHED,
            "event-service",
            e.event_id,
            e.clone(),
        )
    }

    pub fn updated(e: &EventPublished) -> Envelope<EventPublished> {
        envelope(
            subjects::CATALOG_EVENT_UPDATED,
            "event-service",
            e.event_id,
            e.clone(),
        )
    }

    pub fn cancelled_event(e: &EventPublished) -> Envelope<EventCancelled> {
        envelope(
            subjects::CATALOG_EVENT_CANCELLED,
            "event-service",
            e.event_id,
            event_cancelled(e),
        )
    }

    pub fn created(o: &OrderCreated) -> Envelope<OrderCreated> {
        envelope(
            subjects::ORDERS_CREATED,
            "ticket-service",
            o.order_id,
            o.clone(),
        )
    }

    pub fn confirmed(o: &OrderCreated) -> Envelope<OrderConfirmed> {
        envelope(
            subjects::ORDERS_CONFIRMED,
            "ticket-service",
            o.order_id,
            order_confirmed(o),
        )
    }

    pub fn cancelled(o: &OrderCreated, reason: CancelReason) -> Envelope<OrderCancelled> {
        envelope(
            subjects::ORDERS_CANCELLED,
            "ticket-service",
            o.order_id,
            o.cancelled(reason),
        )
    }

    pub fn declined(o: &OrderCreated) -> Envelope<PaymentFailed> {
        envelope(
            subjects::PAYMENTS_FAILED,
            "payment-service",
            o.order_id,
            payment_failed(o),
        )
    }

    pub fn refunded(o: &OrderCreated, reason: &str) -> Envelope<PaymentRefunded> {
        envelope(
            subjects::PAYMENTS_REFUNDED,
            "payment-service",
            o.order_id,
            payment_refunded(o, reason),
        )
    }

    /// Entry `entry_id`: `email`'s buyer (Ada) in line for `quantity` General seats of `e`.
    fn place(
        entry_id: Uuid,
        e: &EventPublished,
        email: &str,
        quantity: u32,
    ) -> contracts::tickets::WaitlistPlace {
        contracts::tickets::WaitlistPlace {
            entry_id,
            event_id: e.event_id,
            event_title: e.details.title.clone(),
            user_id: Uuid::now_v7(),
            email: email.into(),
            first_name: "Ada".into(),
            ticket_type: "General".into(),
            quantity,
        }
    }

    /// An offer of `quantity` General seats of `e` to `email`, held until `expires_at`.
    pub fn waitlist_offered(
        e: &EventPublished,
        email: &str,
        quantity: u32,
        expires_at: DateTime<Utc>,
    ) -> Envelope<contracts::tickets::WaitlistOffered> {
        let entry_id = Uuid::now_v7();
        envelope(
            subjects::TICKETS_WAITLIST_OFFERED,
            "ticket-service",
            entry_id,
            contracts::tickets::WaitlistOffered {
                place: place(entry_id, e, email, quantity),
                expires_at,
            },
        )
    }

    /// The close of a waitlist entry for `quantity` General seats of the cancelled `e`, of
    /// `email`'s buyer; `held_offer`: it held an offer, now withdrawn.
    pub fn waitlist_closed(
        e: &EventPublished,
        email: &str,
        quantity: u32,
        held_offer: bool,
    ) -> Envelope<contracts::tickets::WaitlistClosed> {
        let entry_id = Uuid::now_v7();
        envelope(
            subjects::TICKETS_WAITLIST_CLOSED,
            "ticket-service",
            entry_id,
            contracts::tickets::WaitlistClosed {
                place: place(entry_id, e, email, quantity),
                held_offer,
            },
        )
    }
}
