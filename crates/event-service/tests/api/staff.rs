//! Check-in staff of an event: named and removed by email by its organizer or an admin, each
//! change announced on `catalog.events.staff_changed` with the whole list.

use platform::testing::{TestClient, TestResponse};
use serde_json::{Value, json};

use crate::support::{Stack, catalog_messages, create, event_path};

fn staff_path(event: &Value) -> String {
    format!("{}/staff", event_path(event))
}

async fn delete(client: &TestClient, path: &str, body: &Value) -> TestResponse {
    client
        .send(client.http.delete(client.url(path)).json(body))
        .await
}

fn emails(list: &Value) -> Vec<String> {
    list["staff"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["email"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn only_the_organizer_or_an_admin_names_lists_or_removes_staff() {
    let stack = Stack::start().await;
    let (owner, other) = stack.owner_and_other().await;
    let anon = stack.anonymous();
    let admin = stack.admin().await;
    let event = create(&owner, json!({"status": "draft"})).await;
    let path = staff_path(&event);
    let body = json!({"email": "door@example.org"});

    assert_eq!(anon.get(&path).await.status, 401);
    assert_eq!(anon.post(&path, &body).await.status, 401);
    assert_eq!(delete(&anon, &path, &body).await.status, 401);
    for res in [
        other.get(&path).await,
        other.post(&path, &body).await,
        delete(&other, &path, &body).await,
    ] {
        assert_eq!(
            (res.status, res.code().as_str()),
            (403, "forbidden"),
            "{}",
            res.text
        );
    }
    let unknown = format!("/api/events/{}/staff", uuid::Uuid::new_v4());
    assert_eq!(owner.get(&unknown).await.code(), "event_not_found");

    let named = owner
        .post(&path, &json!({"email": " Door@Example.ORG "}))
        .await;
    assert_eq!(named.status, 201, "{}", named.text);
    assert_eq!(emails(&named.json()), ["door@example.org"]);
    let by_admin = admin
        .post(&path, &json!({"email": "gate@example.org"}))
        .await;
    assert_eq!(by_admin.status, 201, "{}", by_admin.text);
    let again = owner.post(&path, &body).await;
    assert_eq!(again.status, 200, "naming someone twice changes nothing");
    let listed = admin.get(&path).await.json();
    assert_eq!(emails(&listed), ["door@example.org", "gate@example.org"]);
    assert_eq!(listed["eventId"], event["id"]);
}

#[tokio::test]
async fn every_change_of_the_list_is_announced_with_the_whole_list_and_a_new_version() {
    let (stack, owner) = Stack::with_user("Olive", "Owner").await;
    // A draft is not announced, but its staff are: they may be named before publishing.
    let event = create(&owner, json!({"status": "draft"})).await;
    let path = staff_path(&event);
    for email in ["a@example.org", "b@example.org"] {
        assert_eq!(
            owner.post(&path, &json!({"email": email})).await.status,
            201
        );
    }
    let removed = delete(&owner, &path, &json!({"email": "A@example.org"})).await;
    assert_eq!(removed.status, 200, "{}", removed.text);
    assert_eq!(emails(&removed.json()), ["b@example.org"]);
    let gone = delete(&owner, &path, &json!({"email": "a@example.org"})).await;
    assert_eq!(
        (gone.status, gone.code().as_str()),
        (404, "staff_not_found")
    );
    let bad = owner.post(&path, &json!({"email": "not an email"})).await;
    assert_eq!(bad.status, 422, "{}", bad.text);

    let messages = catalog_messages(&stack.js, 3).await;
    let facts: Vec<Value> = messages
        .iter()
        .map(|m| {
            assert_eq!(
                m.subject.as_str(),
                contracts::subjects::CATALOG_EVENT_STAFF_CHANGED
            );
            serde_json::from_slice::<Value>(&m.payload).unwrap()["data"].clone()
        })
        .collect();
    assert_eq!(
        facts,
        [
            json!({"eventId": event["id"], "staffVersion": 1, "staff": ["a@example.org"]}),
            json!({"eventId": event["id"], "staffVersion": 2, "staff": ["a@example.org", "b@example.org"]}),
            json!({"eventId": event["id"], "staffVersion": 3, "staff": ["b@example.org"]}),
        ]
    );
}
