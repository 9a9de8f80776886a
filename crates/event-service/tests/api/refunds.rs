//! Refunds as far as the event service goes: every event's refund policy (set on creation and by
//! PATCH, shown in every answer, carried in the catalogue facts) and how many paid orders a
//! cancellation refunds, asked from the ticket service (here a stand-in on a free port).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use api_types::back_office::{EventSummary, OrdersByStatus};
use axum::extract::{FromRef, Path, State};
use axum::routing::get;
use axum::{Json, Router};
use contracts::Envelope;
use contracts::catalog::{EventPublished, EventUpdated};
use platform::testing::TestServer;
use platform::{AuthClient, AuthUser};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{
    Stack, catalog_messages, create, edit, error_fields, event_body, event_path as path,
    post_action,
};

#[tokio::test]
async fn an_event_offers_no_refunds_unless_its_organizer_says_so_and_every_answer_shows_it() {
    let (stack, client) = Stack::with_user("Rita", "Refund").await;
    let plain = create(&client, json!({})).await;
    assert_eq!(
        plain["refundPolicy"],
        json!({"allowed": false, "untilHoursBefore": 0})
    );
    let generous = create(
        &client,
        json!({"title": "Refundable", "refundPolicy": {"allowed": true, "untilHoursBefore": 48}}),
    )
    .await;
    let policy = json!({"allowed": true, "untilHoursBefore": 48});
    assert_eq!(generous["refundPolicy"], policy);
    // Only `allowed` given: refunds until the event starts.
    let until_start = create(&client, json!({"refundPolicy": {"allowed": true}})).await;
    assert_eq!(
        until_start["refundPolicy"],
        json!({"allowed": true, "untilHoursBefore": 0})
    );

    let shown = stack.anonymous().get(&path(&generous)).await;
    assert_eq!(shown.json()["event"]["refundPolicy"], policy);
    let catalogue = stack.anonymous().get("/api/events?q=refundable").await;
    assert_eq!(catalogue.json()["events"][0]["refundPolicy"], policy);
    let mine = client.get("/api/events/my/events").await.json();
    let listed = mine["events"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().any(|e| e["refundPolicy"] == policy), "{mine}");

    let msgs = catalog_messages(&stack.js, 3).await;
    let facts: Vec<Envelope<EventPublished>> = msgs
        .iter()
        .map(|m| serde_json::from_slice(&m.payload).unwrap())
        .collect();
    let fact_of = |event: &Value| {
        facts
            .iter()
            .find(|f| f.data.event_id.to_string() == event["id"].as_str().unwrap())
            .map(|f| f.data.details.refund_policy)
            .unwrap()
    };
    assert!(!fact_of(&plain).allowed);
    assert!(fact_of(&generous).allowed);
    assert_eq!(fact_of(&generous).until_hours_before, 48);
}

#[tokio::test]
async fn the_owner_changes_the_policy_field_by_field_and_the_change_is_announced() {
    let (stack, client) = Stack::with_user("Rita", "Refund").await;
    let event = create(&client, json!({})).await;

    let hours = json!({"refundPolicy": {"untilHoursBefore": 24}});
    assert_eq!(
        edit(&client, &event, hours).await["refundPolicy"],
        json!({"allowed": false, "untilHoursBefore": 24})
    );
    let allowed = edit(&client, &event, json!({"refundPolicy": {"allowed": true}})).await;
    let policy = json!({"allowed": true, "untilHoursBefore": 24});
    assert_eq!(allowed["refundPolicy"], policy);
    assert_eq!(allowed["version"], 3);
    // The same policy again changes nothing and announces nothing.
    let again = edit(&client, &event, json!({ "refundPolicy": policy })).await;
    assert_eq!(again["version"], 3);

    let msgs = catalog_messages(&stack.js, 3).await;
    let last: Envelope<EventUpdated> = serde_json::from_slice(&msgs[2].payload).unwrap();
    assert_eq!(last.kind, "catalog.events.updated");
    assert_eq!(last.data.version, 3);
    assert!(last.data.details.refund_policy.allowed);
    assert_eq!(last.data.details.refund_policy.until_hours_before, 24);
}

#[tokio::test]
async fn refunds_close_at_most_a_year_before_the_event_and_the_error_names_the_field() {
    let (_stack, client) = Stack::with_user("Val", "Idator").await;
    for hours in [json!(-1), json!(8761), json!(100_000)] {
        let body =
            event_body(json!({"refundPolicy": {"allowed": true, "untilHoursBefore": hours}}));
        let res = client.post("/api/events", &body).await;
        assert_eq!(res.status, 422, "{hours} accepted: {}", res.text);
        assert_eq!(res.code(), "validation_failed");
        assert_eq!(error_fields(&res), ["refundPolicy.untilHoursBefore"]);
        assert!(
            res.json()["error"]["fields"]["refundPolicy.untilHoursBefore"][0]
                .as_str()
                .unwrap()
                .contains("8760 hours"),
            "{}",
            res.text
        );
    }
    let year = create(
        &client,
        json!({"refundPolicy": {"allowed": true, "untilHoursBefore": 8760}}),
    )
    .await;
    assert_eq!(year["refundPolicy"]["untilHoursBefore"], 8760);

    let res = client
        .patch(
            &path(&year),
            &json!({"refundPolicy": {"untilHoursBefore": 9000}}),
        )
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(error_fields(&res), ["refundPolicy.untilHoursBefore"]);
    let res = client
        .post(
            "/api/events",
            &event_body(json!({"refundPolicy": {"allowed": "yes"}})),
        )
        .await;
    assert_eq!((res.status, res.code().as_str()), (422, "invalid_body"));
    let unchanged = client.get(&path(&year)).await;
    assert_eq!(
        unchanged.json()["event"]["refundPolicy"]["untilHoursBefore"],
        8760
    );
}

/// The ticket service's `GET /api/tickets/events/:id/summary`, as far as the event service
/// reads it: answers `confirmed` paid orders to any signed-in caller (checked with the auth
/// service, so only a forwarded session gets an answer), after `delay`.
#[derive(Clone)]
struct SummaryStub {
    auth: AuthClient,
    confirmed: u64,
    delay: Duration,
    /// (event, caller) of every answered question.
    asked: Arc<Mutex<Vec<(Uuid, Uuid)>>>,
}

impl FromRef<SummaryStub> for AuthClient {
    fn from_ref(stub: &SummaryStub) -> AuthClient {
        stub.auth.clone()
    }
}

async fn summary(
    State(stub): State<SummaryStub>,
    AuthUser(user): AuthUser,
    Path(event): Path<Uuid>,
) -> Json<EventSummary> {
    tokio::time::sleep(stub.delay).await;
    stub.asked.lock().unwrap().push((event, user.id));
    Json(EventSummary {
        event_id: event,
        currency: "USD".into(),
        ticket_types: Vec::new(),
        orders_by_status: OrdersByStatus {
            pending: 2,
            confirmed: stub.confirmed,
            cancelled: 1,
            refunded: 0,
        },
        gross_minor: 0,
        refunded_minor: 0,
        net_minor: 0,
        sales_per_day: Vec::new(),
        check_ins: Default::default(),
    })
}

/// The event service with a [`SummaryStub`] at its `TICKET_SERVICE_URL`, answering after
/// `delay`, the event service waiting at most `timeout`.
async fn stack_with_tickets(
    delay: Duration,
    timeout: Duration,
) -> (Stack, TestServer, Arc<Mutex<Vec<(Uuid, Uuid)>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let stack = Stack::start_with(|c| event_service::EventConfig {
        ticket_url: url,
        ticket_timeout: timeout,
        ..c
    })
    .await;
    let asked = Arc::new(Mutex::new(Vec::new()));
    let stub = SummaryStub {
        auth: AuthClient::new(&stack.auth.url(), Duration::from_secs(5)),
        confirmed: 3,
        delay,
        asked: asked.clone(),
    };
    let router = Router::new()
        .route("/api/tickets/events/{id}/summary", get(summary))
        .with_state(stub);
    let tickets = TestServer::spawn_on(listener, router);
    (stack, tickets, asked)
}

#[tokio::test]
async fn cancelling_says_how_many_paid_orders_the_ticket_service_counts_for_the_caller() {
    let (stack, _tickets, asked) = stack_with_tickets(Duration::ZERO, Duration::from_secs(2)).await;
    let (owner, user) = stack.user("Olga", "Organizer").await;
    let event = create(&owner, json!({})).await;
    let res = post_action(&owner, &path(&event), "cancel").await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json()["ordersToRefund"], 3);
    assert_eq!(res.json()["event"]["status"], "cancelled");
    // Asked about this event, with the organizer's own session.
    assert_eq!(
        asked.lock().unwrap().as_slice(),
        [(
            Uuid::parse_str(event["id"].as_str().unwrap()).unwrap(),
            Uuid::parse_str(user["id"].as_str().unwrap()).unwrap()
        )]
    );

    // An admin's cancellation is counted with the admin's session.
    let other = create(&owner, json!({})).await;
    let admin = stack.admin().await;
    let res = post_action(&admin, &path(&other), "cancel").await;
    assert_eq!(res.json()["ordersToRefund"], 3);
    assert_eq!(asked.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_draft_never_had_orders_so_nobody_is_asked() {
    let (stack, _tickets, asked) = stack_with_tickets(Duration::ZERO, Duration::from_secs(2)).await;
    let (owner, _) = stack.user("Olga", "Organizer").await;
    let draft = create(&owner, json!({"status": "draft"})).await;
    let res = post_action(&owner, &path(&draft), "cancel").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["ordersToRefund"], 0);
    assert!(asked.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_slow_ticket_service_leaves_the_count_unknown_and_the_cancellation_happens() {
    let (stack, _tickets, _) =
        stack_with_tickets(Duration::from_secs(10), Duration::from_millis(300)).await;
    let (owner, _) = stack.user("Olga", "Organizer").await;
    let event = create(&owner, json!({})).await;
    let started = std::time::Instant::now();
    let res = post_action(&owner, &path(&event), "cancel").await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json()["ordersToRefund"], Value::Null);
    assert_eq!(res.json()["event"]["status"], "cancelled");
    catalog_messages(&stack.js, 2).await;
}

#[tokio::test]
async fn without_a_ticket_service_the_count_is_null() {
    // The test configuration points at a closed port.
    let (stack, owner) = Stack::with_user("Olga", "Organizer").await;
    let event = create(&owner, json!({})).await;
    let res = post_action(&owner, &path(&event), "cancel").await;
    assert_eq!(res.status, 200, "{}", res.text);
    let answer = res.json();
    assert!(answer.as_object().unwrap().contains_key("ordersToRefund"));
    assert_eq!(answer["ordersToRefund"], Value::Null);
    assert_eq!(
        stack.anonymous().get(&path(&event)).await.status,
        404,
        "cancelled events leave the public view"
    );
}
