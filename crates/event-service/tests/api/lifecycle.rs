//! One event's life: who sees it, who changes it, and which status changes are allowed.

use chrono::{Duration, Utc};
use event_service::domain::Status;
use serde_json::json;
use uuid::Uuid;

use crate::support::{
    Stack, create, error_fields, event_path as path, in_days, post_action, stored_event,
};

#[tokio::test]
async fn a_draft_is_hidden_from_everyone_but_its_owner_and_admins() {
    let stack = Stack::start().await;
    let (owner, other) = stack.owner_and_other().await;
    let draft = create(&owner, json!({"status": "draft"})).await;

    let res = stack.anonymous().get(&path(&draft)).await;
    assert_eq!(res.status, 404);
    assert_eq!(res.code(), "event_not_found");
    assert_eq!(other.get(&path(&draft)).await.status, 404);
    assert_eq!(owner.get(&path(&draft)).await.status, 200);
    assert_eq!(stack.admin().await.get(&path(&draft)).await.status, 200);
    assert_eq!(
        stack.anonymous().get("/api/events").await.json()["total"],
        0
    );
}

#[tokio::test]
async fn a_cancelled_event_is_hidden_from_other_users() {
    let stack = Stack::start().await;
    let (owner, other) = stack.owner_and_other().await;
    let event = create(&owner, json!({})).await;
    assert_eq!(other.get(&path(&event)).await.status, 200);
    assert_eq!(
        post_action(&owner, &path(&event), "cancel").await.status,
        200
    );
    assert_eq!(other.get(&path(&event)).await.status, 404);
    assert_eq!(
        owner.get(&path(&event)).await.json()["event"]["status"],
        "cancelled"
    );
}

#[tokio::test]
async fn malformed_and_unknown_ids_are_404_never_500() {
    let (stack, user) = Stack::with_user("Ida", "Ids").await;
    for id in [
        "not-a-uuid",
        "123",
        "my",
        "%20",
        &Uuid::new_v4().to_string(),
    ] {
        let url = format!("/api/events/{id}");
        let res = stack.anonymous().get(&url).await;
        assert_eq!(res.status, 404, "{id}: {}", res.text);
        assert!(res.json()["error"]["code"].is_string());
        let res = user.patch(&url, &json!({"title": "New title"})).await;
        assert_eq!(res.status, 404, "PATCH {id}: {}", res.text);
        assert_eq!(post_action(&user, &url, "publish").await.status, 404);
        assert_eq!(post_action(&user, &url, "cancel").await.status, 404);
    }
}

#[tokio::test]
async fn my_events_lists_the_callers_events_in_every_status_newest_first() {
    let stack = Stack::start().await;
    let (owner, other) = stack.owner_and_other().await;
    let first = create(&owner, json!({"title": "First"})).await;
    create(&owner, json!({"title": "Second", "status": "draft"})).await;
    let third = create(&owner, json!({"title": "Third"})).await;
    create(&other, json!({"title": "Not Mine"})).await;
    post_action(&owner, &path(&third), "cancel").await;

    let res = owner.get("/api/events/my/events").await;
    assert_eq!(res.status, 200);
    let body = res.json();
    let listed: Vec<(&str, &str)> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["title"].as_str().unwrap(), e["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        listed,
        [
            ("Third", "cancelled"),
            ("Second", "draft"),
            ("First", "published")
        ]
    );
    assert_eq!(body["total"], 3);
    assert_eq!(body["events"][2]["id"], first["id"]);
    assert_eq!(
        stack.anonymous().get("/api/events/my/events").await.status,
        401
    );
}

#[tokio::test]
async fn only_the_owner_or_an_admin_can_edit_publish_or_cancel() {
    let stack = Stack::start().await;
    let (owner, other) = stack.owner_and_other().await;
    let anon = stack.anonymous();
    let draft = create(&owner, json!({"status": "draft"})).await;
    let published = create(&owner, json!({})).await;

    for event in [&draft, &published] {
        let res = other
            .patch(&path(event), &json!({"title": "Hijacked"}))
            .await;
        assert_eq!(res.status, 403, "{}", res.text);
        assert_eq!(res.code(), "forbidden");
        assert_eq!(
            anon.patch(&path(event), &json!({"title": "Hijacked"}))
                .await
                .status,
            401
        );
        assert_eq!(
            post_action(&other, &path(event), "cancel").await.status,
            403
        );
        assert_eq!(post_action(&anon, &path(event), "cancel").await.status, 401);
    }
    assert_eq!(
        post_action(&other, &path(&draft), "publish").await.status,
        403
    );
    assert_eq!(
        post_action(&anon, &path(&draft), "publish").await.status,
        401
    );
    // Nothing changed.
    assert_eq!(owner.get(&path(&draft)).await.json()["event"], draft);
    assert_eq!(
        owner.get(&path(&published)).await.json()["event"],
        published
    );

    let admin = stack.admin().await;
    let res = admin
        .patch(&path(&published), &json!({"title": "Moderated Title"}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json()["event"]["title"], "Moderated Title");
    assert_eq!(
        post_action(&admin, &path(&draft), "publish").await.status,
        200
    );
}

#[tokio::test]
async fn the_owner_edits_an_event_with_the_same_rules_as_creation() {
    let (_stack, owner) = Stack::with_user("Olive", "Owner").await;
    let event = create(&owner, json!({"status": "draft"})).await;
    let res = owner
        .patch(
            &path(&event),
            &json!({"title": "  Renamed  ", "category": "theater", "venue": {"city": "Boston"},
                    "organizer": {"phone": "555-0100"}}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let edited = &res.json()["event"];
    assert_eq!(edited["title"], "Renamed");
    assert_eq!(edited["category"], "Theater");
    assert_eq!(edited["venue"]["city"], "Boston");
    assert_eq!(edited["venue"]["name"], event["venue"]["name"]);
    assert_eq!(edited["organizer"]["phone"], "555-0100");
    assert_eq!(edited["version"], 2);
    assert_ne!(edited["updatedAt"], event["updatedAt"]);

    for (changes, field) in [
        (json!({"title": "no"}), "title"),
        (json!({"dateTime": in_days(-2)}), "dateTime"),
        (json!({"duration": 10_081}), "duration"),
        (json!({"category": "opera"}), "category"),
        (json!({"venue": {"capacity": 10}}), "ticketTypes"),
        (json!({"ticketTypes": []}), "ticketTypes"),
        (
            json!({"ticketTypes": [{"name": "A", "price": 0.001, "quantity": 1}]}),
            "ticketTypes[0].price",
        ),
    ] {
        let res = owner.patch(&path(&event), &changes).await;
        assert_eq!(res.status, 422, "{changes}: {}", res.text);
        assert_eq!(error_fields(&res), [field], "{changes}");
    }
    // An empty change changes nothing, not even the version.
    let res = owner.patch(&path(&event), &json!({})).await;
    assert_eq!(res.json()["event"]["version"], 2);
}

#[tokio::test]
async fn a_draft_may_lose_ticket_types_but_a_published_event_may_only_grow_them() {
    let (_stack, owner) = Stack::with_user("Olive", "Owner").await;
    let draft = create(&owner, json!({"status": "draft"})).await;
    let shrink = json!({"ticketTypes": [{"name": "General", "price": 25.5, "quantity": 10}]});
    assert_eq!(owner.patch(&path(&draft), &shrink).await.status, 200);

    let event = create(&owner, json!({})).await;
    let res = owner.patch(&path(&event), &shrink).await;
    assert_eq!(res.status, 409, "{}", res.text);
    assert_eq!(res.code(), "ticket_types_locked");
    let reasons = res.json()["error"]["fields"]["ticketTypes"].clone();
    assert_eq!(reasons.as_array().unwrap().len(), 2, "{reasons}");

    let grow = json!({"ticketTypes": [
        {"name": "general", "price": 30, "quantity": 320},
        {"name": "VIP", "price": 99.99, "quantity": 50},
        {"name": "Balcony", "price": 15, "quantity": 20}
    ]});
    let res = owner.patch(&path(&event), &grow).await;
    assert_eq!(res.status, 200, "{}", res.text);
    let types = &res.json()["event"]["ticketTypes"];
    assert_eq!(types.as_array().unwrap().len(), 3);
    assert_eq!(types[0]["quantity"], 320);
    assert_eq!(types[0]["price"], 30);
}

#[tokio::test]
async fn publish_and_cancel_follow_the_life_cycle_and_refuse_with_a_code() {
    let (stack, owner) = Stack::with_user("Olive", "Owner").await;
    let draft = create(&owner, json!({"status": "draft"})).await;

    let res = post_action(&owner, &path(&draft), "publish").await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json()["event"]["status"], "published");
    assert_eq!(res.json()["event"]["version"], 2);
    assert_eq!(stack.anonymous().get(&path(&draft)).await.status, 200);

    let res = post_action(&owner, &path(&draft), "publish").await;
    assert_eq!(
        (res.status, res.code().as_str()),
        (409, "already_published")
    );

    let res = post_action(&owner, &path(&draft), "cancel").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["event"]["status"], "cancelled");

    let res = post_action(&owner, &path(&draft), "cancel").await;
    assert_eq!(
        (res.status, res.code().as_str()),
        (409, "already_cancelled")
    );
    let res = post_action(&owner, &path(&draft), "publish").await;
    assert_eq!((res.status, res.code().as_str()), (409, "event_cancelled"));
    let res = owner
        .patch(&path(&draft), &json!({"title": "Back from the dead"}))
        .await;
    assert_eq!((res.status, res.code().as_str()), (409, "event_cancelled"));

    // A draft can be cancelled without ever being published.
    let other_draft = create(&owner, json!({"status": "draft"})).await;
    let res = post_action(&owner, &path(&other_draft), "cancel").await;
    assert_eq!(res.json()["event"]["status"], "cancelled");
}

#[tokio::test]
async fn past_events_cannot_be_published_cancelled_or_edited() {
    let stack = Stack::start().await;
    let (owner, user) = stack.user("Olive", "Owner").await;
    let owner_id = Uuid::parse_str(user["id"].as_str().unwrap()).unwrap();
    let stale_draft = stored_event(owner_id, Status::Draft, Utc::now() - Duration::minutes(10));
    let finished = stored_event(owner_id, Status::Published, Utc::now() - Duration::days(1));
    stack.store.insert(&stale_draft, None).await.unwrap();
    stack.store.insert(&finished, None).await.unwrap();

    let res = post_action(
        &owner,
        &format!("/api/events/{}", stale_draft.id),
        "publish",
    )
    .await;
    assert_eq!((res.status, res.code().as_str()), (409, "event_in_past"));
    // Moving the date makes it publishable again.
    let res = owner
        .patch(
            &format!("/api/events/{}", stale_draft.id),
            &json!({"dateTime": in_days(3)}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text);
    let res = post_action(
        &owner,
        &format!("/api/events/{}", stale_draft.id),
        "publish",
    )
    .await;
    assert_eq!(res.status, 200);

    let res = post_action(&owner, &format!("/api/events/{}", finished.id), "cancel").await;
    assert_eq!((res.status, res.code().as_str()), (409, "event_finished"));
    let res = owner
        .patch(
            &format!("/api/events/{}", finished.id),
            &json!({"title": "Rewrite history"}),
        )
        .await;
    assert_eq!((res.status, res.code().as_str()), (409, "event_finished"));
    // Still readable: a past event's page keeps working.
    assert_eq!(
        stack
            .anonymous()
            .get(&format!("/api/events/{}", finished.id))
            .await
            .status,
        200
    );
}
