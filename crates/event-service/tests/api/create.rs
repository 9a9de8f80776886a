//! `POST /api/events`: who may create, what is stored, and every validation rule.

use serde_json::{Value, json};

use crate::support::{Stack, error_fields, event_body, in_days};

#[tokio::test]
async fn a_signed_in_user_creates_a_published_event_with_exact_prices() {
    let stack = Stack::start().await;
    let (client, user) = stack.user("Grace", "Hopper").await;
    let res = client
        .post("/api/events", &event_body(json!({"category": "mUsIc"})))
        .await;
    assert_eq!(res.status, 201, "{}", res.text);
    let event = &res.json()["event"];
    assert_eq!(event["status"], "published");
    assert_eq!(event["category"], "Music");
    assert_eq!(event["createdBy"], user["id"]);
    assert_eq!(event["isActive"], true);
    assert_eq!(event["version"], 1);
    assert_eq!(event["currency"], "USD");
    assert_eq!(event["venue"]["city"], "New York");
    assert_eq!(event["ticketTypes"][0]["price"], json!(25.5));
    assert_eq!(event["ticketTypes"][0]["priceMinor"], 2550);
    assert_eq!(event["ticketTypes"][1]["price"], json!(99.99));
    assert_eq!(event["ticketTypes"][1]["priceMinor"], 9999);
    assert_eq!(event["ticketTypes"][1]["description"], "");
    // The organizer defaults to the caller.
    assert_eq!(event["organizer"]["name"], "Grace Hopper");
    assert_eq!(event["organizer"]["email"], user["email"]);
    assert!(uuid::Uuid::parse_str(event["id"].as_str().unwrap()).is_ok());

    let shown = stack
        .anonymous()
        .get(&format!("/api/events/{}", event["id"].as_str().unwrap()))
        .await;
    assert_eq!(shown.status, 200);
    assert_eq!(shown.json()["event"], *event);
}

#[tokio::test]
async fn an_anonymous_visitor_cannot_create_an_event() {
    let stack = Stack::start().await;
    let res = stack
        .anonymous()
        .post("/api/events", &event_body(json!({})))
        .await;
    assert_eq!(res.status, 401);
    assert_eq!(res.code(), "unauthorized");
}

#[tokio::test]
async fn an_event_can_be_created_as_a_draft_with_its_own_organizer() {
    let (_stack, client) = Stack::with_user("Ada", "Lovelace").await;
    let event = crate::support::create(
        &client,
        json!({"status": "draft", "organizer": {"name": "Analytical Events", "phone": "+44 20 7946 0958"}}),
    )
    .await;
    assert_eq!(event["status"], "draft");
    assert_eq!(event["organizer"]["name"], "Analytical Events");
    assert_eq!(event["organizer"]["phone"], "+44 20 7946 0958");
    assert!(
        event["organizer"]["email"]
            .as_str()
            .unwrap()
            .starts_with("ada.")
    );
}

/// Posts `body` and expects a 422 that names exactly `fields`.
async fn rejects(
    stack: &Stack,
    client: &platform::testing::TestClient,
    body: Value,
    fields: &[&str],
) {
    let res = client.post("/api/events", &body).await;
    assert_eq!(res.status, 422, "{body} was accepted: {}", res.text);
    assert_eq!(res.code(), "validation_failed");
    assert_eq!(error_fields(&res), fields, "for {body}");
    let _ = stack;
}

#[tokio::test]
async fn title_description_and_category_rules_each_name_their_field() {
    let (stack, client) = Stack::with_user("Val", "Idator").await;
    for (changes, field) in [
        (json!({"title": "ab"}), "title"),
        (json!({"title": "   ab   "}), "title"),
        (json!({"title": "x".repeat(201)}), "title"),
        (json!({"title": null}), "title"),
        (json!({"description": "x".repeat(5001)}), "description"),
        (json!({"category": "Opera"}), "category"),
        (json!({"category": null}), "category"),
    ] {
        rejects(&stack, &client, event_body(changes), &[field]).await;
    }
    // The limits themselves are allowed.
    crate::support::create(
        &client,
        json!({"title": "abc", "description": "x".repeat(5000)}),
    )
    .await;
    crate::support::create(
        &client,
        json!({"title": "é".repeat(200), "category": "OTHER"}),
    )
    .await;
}

#[tokio::test]
async fn date_and_duration_rules_each_name_their_field() {
    let (stack, client) = Stack::with_user("Val", "Idator").await;
    for (changes, field) in [
        (json!({"dateTime": "next friday"}), "dateTime"),
        (json!({"dateTime": "2030-05-01 19:00"}), "dateTime"),
        (json!({"dateTime": in_days(-1)}), "dateTime"),
        (json!({"dateTime": null}), "dateTime"),
        (json!({"duration": 0}), "duration"),
        (json!({"duration": 10_081}), "duration"),
        (json!({"duration": null}), "duration"),
    ] {
        rejects(&stack, &client, event_body(changes), &[field]).await;
    }
    crate::support::create(&client, json!({"duration": 1})).await;
    crate::support::create(
        &client,
        json!({"duration": 10_080, "dateTime": "2999-01-01T10:00:00+02:00"}),
    )
    .await;
}

#[tokio::test]
async fn ticket_type_rules_each_name_their_field() {
    let (stack, client) = Stack::with_user("Val", "Idator").await;
    let t = |name: &str, price: Value, quantity: i64| json!({"name": name, "price": price, "quantity": quantity});
    let many: Vec<Value> = (0..21).map(|i| t(&format!("T{i}"), json!(1), 1)).collect();
    for (types, field) in [
        (json!([]), "ticketTypes"),
        (Value::Array(many), "ticketTypes"),
        (json!([t("A", json!(1), 0)]), "ticketTypes[0].quantity"),
        (
            json!([t("A", json!(1), 100_001)]),
            "ticketTypes[0].quantity",
        ),
        (json!([t("A", json!(25.555), 1)]), "ticketTypes[0].price"),
        (json!([t("A", json!(-1), 1)]), "ticketTypes[0].price"),
        (
            json!([t("A", json!(1_000_000.01), 1)]),
            "ticketTypes[0].price",
        ),
        (json!([t("", json!(1), 1)]), "ticketTypes[0].name"),
        (
            json!([{"name": "A", "quantity": 1}]),
            "ticketTypes[0].price",
        ),
        (
            json!([t("VIP", json!(1), 1), t(" vip ", json!(2), 1)]),
            "ticketTypes[1].name",
        ),
    ] {
        rejects(
            &stack,
            &client,
            event_body(json!({"ticketTypes": types})),
            &[field],
        )
        .await;
    }
    rejects(
        &stack,
        &client,
        event_body(json!({"ticketTypes": null})),
        &["ticketTypes"],
    )
    .await;
    // 20 types, free tickets and the largest quantity are fine.
    let twenty: Vec<Value> = (0..20).map(|i| t(&format!("T{i}"), json!(0), 1)).collect();
    crate::support::create(&client, json!({"ticketTypes": twenty})).await;
    crate::support::create(
        &client,
        json!({"venue": {"capacity": 100_000}, "ticketTypes": [t("All", json!(10), 100_000)]}),
    )
    .await;
}

#[tokio::test]
async fn tickets_beyond_the_venue_capacity_are_rejected() {
    let (_stack, client) = Stack::with_user("Val", "Idator").await;
    // 300 + 50 = 350 seats.
    let res = client
        .post(
            "/api/events",
            &event_body(json!({"venue": {"capacity": 349}})),
        )
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(error_fields(&res), ["ticketTypes"]);
    assert!(
        res.json()["error"]["fields"]["ticketTypes"][0]
            .as_str()
            .unwrap()
            .contains("350")
    );
    crate::support::create(&client, json!({"venue": {"capacity": 350}})).await;
}

#[tokio::test]
async fn venue_organizer_and_status_rules_each_name_their_field() {
    let (stack, client) = Stack::with_user("Val", "Idator").await;
    for (changes, field) in [
        (json!({"venue": null}), "venue"),
        (json!({"venue": {"name": ""}}), "venue.name"),
        (json!({"venue": {"address": null}}), "venue.address"),
        (json!({"venue": {"city": "  "}}), "venue.city"),
        (json!({"venue": {"capacity": 0}}), "venue.capacity"),
        (
            json!({"organizer": {"email": "not-an-email"}}),
            "organizer.email",
        ),
        (
            json!({"organizer": {"phone": "call me"}}),
            "organizer.phone",
        ),
        (
            json!({"organizer": {"name": "x".repeat(101)}}),
            "organizer.name",
        ),
        (json!({"status": "cancelled"}), "status"),
    ] {
        rejects(&stack, &client, event_body(changes), &[field]).await;
    }
}

#[tokio::test]
async fn every_invalid_field_is_reported_in_one_response() {
    let (_stack, client) = Stack::with_user("Val", "Idator").await;
    let body = event_body(json!({
        "title": "no",
        "category": "Opera",
        "duration": 0,
        "venue": {"capacity": 10},
        "ticketTypes": [{"name": "A", "price": 1.234, "quantity": 5}, {"name": "a", "price": 1, "quantity": 50}]
    }));
    let res = client.post("/api/events", &body).await;
    assert_eq!(res.status, 422);
    assert_eq!(
        error_fields(&res),
        ["category", "duration", "ticketTypes[0].price", "title"]
    );
    // With the field errors fixed, the cross-field rules speak.
    let body = event_body(json!({
        "venue": {"capacity": 10},
        "ticketTypes": [{"name": "A", "price": 1.23, "quantity": 5}, {"name": "a", "price": 1, "quantity": 50}]
    }));
    let res = client.post("/api/events", &body).await;
    assert_eq!(error_fields(&res), ["ticketTypes", "ticketTypes[1].name"]);
}

#[tokio::test]
async fn malformed_and_mistyped_bodies_get_json_errors() {
    let (_stack, client) = Stack::with_user("Val", "Idator").await;
    let res = client
        .request(reqwest::Method::POST, "/api/events", |r| {
            r.header("content-type", "application/json")
                .body("{not json")
        })
        .await;
    assert_eq!(res.status, 400);
    assert_eq!(res.code(), "malformed_json");
    let res = client
        .post("/api/events", &event_body(json!({"duration": "two hours"})))
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(res.code(), "invalid_body");
}
